import type { AcceptedDifference } from './differences.js';
import { echoLine, type ScenarioLine } from './scenario.js';

/** One transcript line as the comparison sees it. */
export interface TranscriptEntry {
  /** Line number in the scenario file. */
  readonly lineno: number;
  /** The echoed command (or header line). */
  readonly echo: string;
  /** The result after ` -> `; `undefined` for header lines. */
  readonly result: string | undefined;
}

/** A difference between the kernel's and the model's transcript. */
export interface TranscriptDifference {
  /** Scenario line (0 when the difference is in the transcripts' shape). */
  readonly line: number;
  readonly echo: string;
  /** `result`, a field name, or `transcript` for a line that is missing or malformed. */
  readonly field: string;
  readonly kernel: string;
  readonly model: string;
}

/** The outcome of {@link compareTranscripts}. */
export interface Comparison {
  /** Differences no row of differences.md explains: each one fails the scenario. */
  readonly unexplained: readonly TranscriptDifference[];
  /** Differences a row explains, with the row. */
  readonly explained: readonly { readonly difference: TranscriptDifference; readonly reason: string }[];
  /** Rows of differences.md for this scenario that matched no difference. */
  readonly stale: readonly AcceptedDifference[];
  /** Whether the transcripts agree up to the explained differences. */
  readonly ok: boolean;
}

/**
 * Splits a transcript into entries using the scenario's own lines: line `i` must be the
 * `i`-th scenario line's normalized echo, followed for commands by ` -> ` and the result.
 * (Splitting on the first ` -> ` alone would be ambiguous: quoted tokens may contain it.)
 */
export function parseTranscript(
  text: string,
  lines: readonly ScenarioLine[],
  isHeader: (line: ScenarioLine) => boolean,
): { entries: TranscriptEntry[]; problems: TranscriptDifference[] } {
  const problems: TranscriptDifference[] = [];
  if (text.length > 0 && !text.endsWith('\n'))
    problems.push({
      line: 0,
      echo: '',
      field: 'transcript',
      kernel: 'ends with a newline',
      model: 'no final newline',
    });
  const rows = text.length === 0 ? [] : text.replace(/\n$/, '').split('\n');
  const entries: TranscriptEntry[] = [];
  rows.forEach((row, i) => {
    const line = lines[i];
    if (line === undefined) {
      problems.push({
        line: 0,
        echo: row,
        field: 'transcript',
        kernel: '(no such scenario line)',
        model: row,
      });
      return;
    }
    const echo = echoLine(line);
    if (isHeader(line)) {
      if (row !== echo)
        problems.push({ line: line.lineno, echo, field: 'transcript', kernel: echo, model: row });
      entries.push({ lineno: line.lineno, echo, result: undefined });
      return;
    }
    const prefix = `${echo} -> `;
    if (!row.startsWith(prefix)) {
      problems.push({ line: line.lineno, echo, field: 'transcript', kernel: `${prefix}…`, model: row });
      return;
    }
    entries.push({ lineno: line.lineno, echo, result: row.slice(prefix.length) });
  });
  return { entries, problems };
}

// A result as fields: `ret=0 flags=0x3` → ret, flags; anything else is one `result` field.
function fields(result: string): Map<string, string> {
  const tokens = result.split(' ');
  if (tokens.length > 0 && tokens.every((t) => /^[a-z_]+=\S*$/.test(t))) {
    return new Map(tokens.map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)] as const));
  }
  return new Map([['result', result]]);
}

function compareResults(kernel: TranscriptEntry, model: TranscriptEntry): TranscriptDifference[] {
  if (kernel.result === undefined || model.result === undefined || kernel.result === model.result) return [];
  const k = fields(kernel.result);
  const m = fields(model.result);
  // Different shapes (an errno against ret=…): the whole result differs.
  if (k.has('result') || m.has('result') || [...k.keys()].join(',') !== [...m.keys()].join(',')) {
    return [
      { line: kernel.lineno, echo: kernel.echo, field: 'result', kernel: kernel.result, model: model.result },
    ];
  }
  const out: TranscriptDifference[] = [];
  for (const [name, value] of k) {
    const other = m.get(name) ?? '';
    if (other !== value)
      out.push({ line: kernel.lineno, echo: kernel.echo, field: name, kernel: value, model: other });
  }
  return out;
}

/**
 * Compares the kernel's transcript with the model's, line by line and field by field, for
 * one scenario; `accepted` are the rows of differences.md (any scenario: only this one's apply).
 * Nothing is skipped: a missing or extra line is a difference, and so is a row of
 * differences.md that matches nothing.
 */
export function compareTranscripts(
  scenario: string,
  lines: readonly ScenarioLine[],
  isHeader: (line: ScenarioLine) => boolean,
  kernelText: string,
  modelText: string,
  accepted: readonly AcceptedDifference[],
): Comparison {
  const kernel = parseTranscript(kernelText, lines, isHeader);
  const model = parseTranscript(modelText, lines, isHeader);
  const found: TranscriptDifference[] = [
    ...kernel.problems.map((p) => ({ ...p, kernel: p.model, model: '(model transcript)' })),
    ...model.problems,
  ];
  const count = Math.max(kernel.entries.length, model.entries.length);
  for (let i = 0; i < count; i++) {
    const k = kernel.entries[i];
    const m = model.entries[i];
    if (k === undefined || m === undefined) {
      const present = (k ?? m) as TranscriptEntry;
      found.push({
        line: present.lineno,
        echo: present.echo,
        field: 'transcript',
        kernel: k === undefined ? '(line missing)' : `${k.echo} -> ${k.result ?? ''}`,
        model: m === undefined ? '(line missing)' : `${m.echo} -> ${m.result ?? ''}`,
      });
      continue;
    }
    found.push(...compareResults(k, m));
  }
  const rows = accepted.filter((row) => row.scenario === scenario);
  const used = new Set<AcceptedDifference>();
  const unexplained: TranscriptDifference[] = [];
  const explained: { difference: TranscriptDifference; reason: string }[] = [];
  for (const difference of found) {
    const row = rows.find(
      (r) =>
        r.line === difference.line &&
        r.field === difference.field &&
        r.kernel === difference.kernel &&
        r.model === difference.model,
    );
    if (row === undefined) unexplained.push(difference);
    else {
      used.add(row);
      explained.push({ difference, reason: row.reason });
    }
  }
  const stale = rows.filter((row) => !used.has(row));
  return { unexplained, explained, stale, ok: unexplained.length === 0 && stale.length === 0 };
}

/** A readable report of a comparison (for test failures). */
export function formatComparison(scenario: string, comparison: Comparison): string {
  const out: string[] = [];
  for (const d of comparison.unexplained) {
    out.push(`${scenario}.scn:${d.line}: ${d.echo}\n    ${d.field}: kernel ${d.kernel} | model ${d.model}`);
  }
  for (const row of comparison.stale) {
    out.push(
      `differences.md: stale row for ${row.scenario}.scn:${row.line} field ${row.field} (kernel ${row.kernel}, model ${row.model}): no such difference`,
    );
  }
  return out.join('\n');
}
