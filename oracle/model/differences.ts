/**
 * `oracle/differences.md`: the deliberate simplifications of the model, one table row each.
 * A row names the scenario, the scenario file's line, the field that differs (`result` for
 * the whole result, or an ioctl field name such as `flags`), what the kernel prints, what
 * the model prints, and why. A row explains exactly that difference and nothing else: when
 * either side changes, the row no longer matches and the comparison fails, and a row that
 * matches no difference is reported as stale.
 */

/** One accepted difference. */
export interface AcceptedDifference {
  readonly scenario: string;
  /** Line number in `oracle/scenarios/<scenario>.scn`. */
  readonly line: number;
  /** `result`, or the name of a `name=value` field of the result. */
  readonly field: string;
  readonly kernel: string;
  readonly model: string;
  readonly reason: string;
}

/** A `differences.md` that does not parse. */
export class DifferencesFormatError extends Error {
  constructor(line: number, message: string) {
    super(`differences.md line ${line}: ${message}`);
    this.name = 'DifferencesFormatError';
  }
}

const HEADER = ['scenario', 'line', 'field', 'kernel', 'model', 'reason'];

// A table cell: trimmed, with `code` backticks removed and \| as a literal bar.
function cells(row: string): string[] {
  const inner = row.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\\|/g, '|'))
    .map((cell) =>
      cell.length >= 2 && cell.startsWith('`') && cell.endsWith('`') ? cell.slice(1, -1) : cell,
    );
}

/**
 * Parses the table of `differences.md` (the first table whose header is
 * `scenario | line | field | kernel | model | reason`). Everything else in the file is prose.
 * Every row must be complete and have a reason.
 */
export function parseDifferences(text: string): AcceptedDifference[] {
  const lines = text.split('\n');
  const out: AcceptedDifference[] = [];
  let inTable = false;
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.trim();
    if (!line.startsWith('|')) {
      inTable = false;
      return;
    }
    const row = cells(line);
    if (!inTable) {
      if (row.map((c) => c.toLowerCase()).join(',') === HEADER.join(',')) inTable = true;
      return;
    }
    if (row.every((c) => /^:?-+:?$/.test(c))) return;
    if (row.length !== HEADER.length)
      throw new DifferencesFormatError(lineNo, `a row needs ${HEADER.length} cells`);
    const [scenario, lineCell, field, kernel, model, reason] = row as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const number = Number(lineCell);
    if (!Number.isInteger(number) || number <= 0)
      throw new DifferencesFormatError(lineNo, `'${lineCell}' is not a line number`);
    if (scenario.length === 0 || field.length === 0)
      throw new DifferencesFormatError(lineNo, 'scenario and field are required');
    if (reason.length === 0) throw new DifferencesFormatError(lineNo, 'every difference needs its reason');
    out.push({ scenario, line: number, field, kernel, model, reason });
  });
  return out;
}
