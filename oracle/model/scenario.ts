/**
 * Scenario files (oracle/FORMAT.md, "Lexical rules"): one command per line, `#` comments,
 * tokens separated by spaces/tabs, double-quoted byte strings with `\n \t \0 \\ \" \xNN`.
 * The tokenizer is the C runner's (oracle/runner/runner.c `tokenize`), rule for rule, so
 * both runners refuse the same files.
 */

/** A token: its bytes (Latin-1), and whether it was written quoted. */
export interface Token {
  readonly bytes: Uint8Array;
  readonly quoted: boolean;
}

/** One non-blank, non-comment line. */
export interface ScenarioLine {
  /** 1-based line number in the file. */
  readonly lineno: number;
  readonly tokens: readonly Token[];
}

/** A scenario that does not parse or uses a name wrongly (FORMAT.md "Scenario errors"). */
export class ScenarioError extends Error {
  readonly lineno: number;
  /**
   * For an error found while running (a job waited for twice, a foreground write that never
   * returns): the transcript up to that line, as the C runner has printed it when it exits.
   */
  partialTranscript: string | undefined;

  constructor(lineno: number, message: string) {
    super(`line ${lineno}: scenario error: ${message}`);
    this.name = 'ScenarioError';
    this.lineno = lineno;
    this.partialTranscript = undefined;
  }
}

const MAX_TOKENS = 64;

function hexval(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

function isBlank(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d;
}

/** Splits one line into tokens. */
export function tokenize(line: Uint8Array, lineno: number): Token[] {
  const tokens: Token[] = [];
  const n = line.length;
  let i = 0;
  for (;;) {
    while (i < n && isBlank(line[i])) i++;
    if (i >= n) break;
    if (tokens.length === MAX_TOKENS) throw new ScenarioError(lineno, `more than ${MAX_TOKENS} tokens`);
    const bytes: number[] = [];
    if (line[i] === 0x22) {
      i++;
      for (;;) {
        if (i >= n) throw new ScenarioError(lineno, 'unterminated string');
        const c = line[i++] ?? 0;
        if (c === 0x22) break;
        if (c !== 0x5c) {
          bytes.push(c);
          continue;
        }
        if (i >= n) throw new ScenarioError(lineno, 'unterminated escape');
        const e = line[i++] ?? 0;
        if (e === 0x6e) bytes.push(0x0a);
        else if (e === 0x74) bytes.push(0x09);
        else if (e === 0x30) bytes.push(0x00);
        else if (e === 0x5c) bytes.push(0x5c);
        else if (e === 0x22) bytes.push(0x22);
        else if (e === 0x78) {
          const hi = i < n ? hexval(line[i] ?? 0) : -1;
          const lo = i + 1 < n ? hexval(line[i + 1] ?? 0) : -1;
          if (hi < 0 || lo < 0) throw new ScenarioError(lineno, 'bad \\x escape');
          bytes.push(hi * 16 + lo);
          i += 2;
        } else throw new ScenarioError(lineno, `unknown escape \\${String.fromCharCode(e)}`);
      }
      if (i < n && !isBlank(line[i])) throw new ScenarioError(lineno, 'text right after a closing quote');
      tokens.push({ bytes: Uint8Array.from(bytes), quoted: true });
    } else {
      while (i < n && !isBlank(line[i])) {
        if (line[i] === 0x22) throw new ScenarioError(lineno, 'quote inside a bare token');
        bytes.push(line[i++] ?? 0);
      }
      tokens.push({ bytes: Uint8Array.from(bytes), quoted: false });
    }
  }
  return tokens;
}

/** Parses a scenario file's bytes into its command and header lines. */
export function parseScenario(text: Uint8Array | string): ScenarioLine[] {
  const bytes = typeof text === 'string' ? latin1Bytes(text) : text;
  const lines: ScenarioLine[] = [];
  let start = 0;
  let lineno = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    lineno++;
    const line = bytes.subarray(start, end);
    start = end + 1;
    if (line.includes(0)) throw new ScenarioError(lineno, 'NUL byte in the file');
    let p = 0;
    while (p < line.length && isBlank(line[p])) p++;
    if (p >= line.length || line[p] === 0x23) continue;
    lines.push({ lineno, tokens: tokenize(line, lineno) });
  }
  return lines;
}

/** A token's bytes as a JavaScript string, one char per byte. */
export function latin1(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += String.fromCharCode(byte);
  return out;
}

/** A Latin-1 string's bytes (each char must be below 256). */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** FORMAT.md "Canonical quoting". */
export function quote(bytes: Uint8Array): string {
  let out = '"';
  for (const c of bytes) {
    if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x00) out += '\\0';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x22) out += '\\"';
    else if (c >= 0x20 && c <= 0x7e) out += String.fromCharCode(c);
    else out += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}

/** The normalized echo of a line: tokens joined by single spaces, quoted ones re-quoted. */
export function echoLine(line: ScenarioLine): string {
  return line.tokens.map((t) => (t.quoted ? quote(t.bytes) : latin1(t.bytes))).join(' ');
}
