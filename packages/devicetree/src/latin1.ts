// Names in an FDT are byte strings. They are decoded one byte per UTF-16 unit (latin-1), so
// any byte sequence survives a parse/serialize round trip unchanged (TextDecoder('latin1')
// is windows-1252 in WHATWG and would remap 0x80-0x9f).
import { FdtError } from './fdt-error.js';

/** Decodes `bytes[start, end)` one byte per character. */
export function latin1Decode(bytes: Uint8Array, start: number, end: number): string {
  let out = '';
  // Chunks keep String.fromCharCode's argument list short on long names.
  for (let i = start; i < end; i += 4096) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  }
  return out;
}

/** Encodes `text` one byte per character; rejects NUL and characters above U+00FF. */
export function latin1Encode(text: string, what: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || c > 0xff) {
      throw new FdtError(
        'BADVALUE',
        `${what} ${JSON.stringify(text)} has character U+${c.toString(16).padStart(4, '0')} at index ${i}; FDT names are NUL-terminated byte strings`,
      );
    }
    out[i] = c;
  }
  return out;
}
