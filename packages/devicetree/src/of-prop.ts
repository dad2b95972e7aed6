/**
 * Raw property readers: big-endian cells, C strings, string lists and `of_read_number`.
 * Mirrors include/linux/of.h (of_read_number) and drivers/of/property.c (string readers).
 */

const MASK64 = (1n << 64n) - 1n;

/** Cell `index` (big-endian u32) of a property value, or `undefined` past the end. */
export function propertyU32(value: Uint8Array, index: number): number | undefined {
  const offset = index * 4;
  if (index < 0 || offset + 4 > value.length) return undefined;
  return (
    ((value[offset]! << 24) | (value[offset + 1]! << 16) | (value[offset + 2]! << 8) | value[offset + 3]!) >>>
    0
  );
}

/**
 * All whole cells of a value. Trailing bytes that do not make a cell are dropped, as the
 * kernel's `len / sizeof(__be32)` does.
 */
export function propertyCells(value: Uint8Array): number[] {
  const count = Math.floor(value.length / 4);
  const cells = new Array<number>(count);
  for (let i = 0; i < count; i++) cells[i] = propertyU32(value, i)!;
  return cells;
}

/**
 * include/linux/of.h: of_read_number(): `count` cells from `start` folded into a u64
 * (`r = (r << 32) | cell`), so more than two cells keep only the low 64 bits.
 * Missing cells (past the end of `cells`) read as 0.
 */
export function readNumber(cells: readonly number[], start: number, count: number): bigint {
  let result = 0n;
  for (let i = 0; i < count; i++) result = ((result << 32n) | BigInt(cells[start + i] ?? 0)) & MASK64;
  return result;
}

/** `value` as a u64 (wrapping), the kernel's `u64` arithmetic. */
export function u64(value: bigint): bigint {
  return value & MASK64;
}

/** Bytes as a string, one char per byte (latin-1), so any value round-trips. */
export function bytesToString(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x2000) {
    text += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 0x2000)));
  }
  return text;
}

/**
 * drivers/of/property.c: of_property_read_string(): the value must hold a NUL within its
 * length (`strnlen(pp->value, pp->length) >= pp->length` is -EILSEQ); returns the first string.
 */
export function propertyString(value: Uint8Array): string | undefined {
  const end = value.indexOf(0);
  if (end < 0) return undefined;
  return bytesToString(value.subarray(0, end));
}

/**
 * drivers/of/property.c: of_prop_next_string() walk: NUL-separated strings; a final
 * unterminated fragment is still returned by the kernel's iterator (it stops at the end of
 * the value), so it is kept here too.
 */
export function propertyStrings(value: Uint8Array): string[] {
  const strings: string[] = [];
  let start = 0;
  while (start < value.length) {
    let end = value.indexOf(0, start);
    if (end < 0) end = value.length;
    strings.push(bytesToString(value.subarray(start, end)));
    start = end + 1;
  }
  return strings;
}
