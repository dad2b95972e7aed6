// Property value text exactly as dtc 1.6.1 prints a value that carries no type markers (any
// value read from a blob): treesource.c guess_value_type(), write_propval_string(),
// write_propval_int().
import type { TextWriter } from './text-writer.js';

const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

// treesource.c isstring(): isprint() in the C locale, NUL, or one of "\a\b\t\n\v\f\r".
const IS_STRING_CHAR: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let c = 0x20; c <= 0x7e; c++) table[c] = 1;
  for (const c of [0, 7, 8, 9, 10, 11, 12, 13]) table[c] = 1;
  return table;
})();

// write_propval_string()'s escapes; other characters are printable by construction.
const ESCAPES: ReadonlyMap<number, string> = new Map([
  [7, '\\a'],
  [8, '\\b'],
  [9, '\\t'],
  [10, '\\n'],
  [11, '\\v'],
  [12, '\\f'],
  [13, '\\r'],
  [0x5c, '\\\\'],
  [0x22, '\\"'],
  [0, '\\0'],
]);

/** How dtc would print a value: `string`, `cells` (32-bit) or `bytes`. */
export type DtsValueKind = 'string' | 'cells' | 'bytes';

/**
 * guess_value_type(): a string when it ends in NUL, every byte is printable or one of the
 * C escapes, and NULs are no more than the other bytes; else cells when the length is a
 * multiple of 4; else bytes.
 */
export function guessValueKind(value: Uint8Array): DtsValueKind {
  const len = value.length;
  let nnotstring = 0;
  let nnul = 0;
  for (let i = 0; i < len; i++) {
    const c = value[i] as number;
    if (IS_STRING_CHAR[c] === 0) nnotstring++;
    if (c === 0) nnul++;
  }
  if (value[len - 1] === 0 && nnotstring === 0 && nnul <= len - nnul) return 'string';
  if (len % 4 === 0) return 'cells';
  return 'bytes';
}

const ESCAPE_TEXT: readonly (string | undefined)[] = Array.from({ length: 256 }, (_, c) => ESCAPES.get(c));

/** `"..."` with dtc's escapes; the final NUL is implied, inner NULs print as `\0`. */
export function writeString(out: TextWriter, value: Uint8Array): void {
  out.char(0x22);
  let run = 0;
  const end = value.length - 1;
  for (let i = 0; i < end; i++) {
    const esc = ESCAPE_TEXT[value[i] as number];
    if (esc === undefined) continue;
    out.latin1(value, run, i);
    out.text(esc);
    run = i + 1;
  }
  out.latin1(value, run, end);
  out.char(0x22);
}

/** One cell as dtc prints it: `0x%02x`. */
export function formatCell(cell: number): string {
  return cell < 0x100 ? `0x${HEX2[cell]}` : `0x${cell.toString(16)}`;
}

/** `<0x.. 0x..>`. */
export function writeCells(out: TextWriter, value: Uint8Array): void {
  out.char(0x3c);
  for (let i = 0; i + 4 <= value.length; i += 4) {
    if (i !== 0) out.char(0x20);
    out.cell(
      (((value[i] as number) << 24) |
        ((value[i + 1] as number) << 16) |
        ((value[i + 2] as number) << 8) |
        (value[i + 3] as number)) >>>
        0,
    );
  }
  out.char(0x3e);
}

/** `[.. ..]`. */
export function writeBytes(out: TextWriter, value: Uint8Array): void {
  out.char(0x5b);
  for (let i = 0; i < value.length; i++) {
    if (i !== 0) out.char(0x20);
    out.hex2(value[i] as number);
  }
  out.char(0x5d);
}

/** Writes the text after `name = ` for a non-empty value, as dtc prints it. */
export function writeValue(out: TextWriter, value: Uint8Array): void {
  const kind = guessValueKind(value);
  if (kind === 'string') writeString(out, value);
  else if (kind === 'cells') writeCells(out, value);
  else writeBytes(out, value);
}

/**
 * Like {@link writeValue}, but never prints a string whose `\0` escape is followed by an
 * octal digit: dtc's lexer would read `"\02K"` back as the octal escape `\02`, so dtc's own
 * output does not always compile back to the same bytes. Such values print as cells or bytes.
 */
export function writeValueReversible(out: TextWriter, value: Uint8Array): void {
  if (guessValueKind(value) === 'string') {
    for (let i = 0; i + 2 < value.length; i++) {
      const next = value[i + 1] as number;
      if (value[i] === 0 && next >= 0x30 && next <= 0x37) {
        if (value.length % 4 === 0) writeCells(out, value);
        else writeBytes(out, value);
        return;
      }
    }
  }
  writeValue(out, value);
}
