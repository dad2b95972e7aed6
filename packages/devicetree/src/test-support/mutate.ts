// Mutations of valid blobs for the fuzz test: bit flips, byte writes, truncation, header
// fields set to overflowing or overlapping values, structure words and lengths.
import fc from 'fast-check';

const INTERESTING = [
  0, 1, 2, 3, 4, 7, 8, 9, 16, 17, 18, 28, 32, 36, 40, 0x7fffffff, 0x80000000, 0xfffffff0, 0xfffffffc,
  0xffffffff,
];

/** One mutation, printable in a counterexample. */
export type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'byte'; readonly at: number; readonly value: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'header'; readonly field: number; readonly value: number; readonly relative: boolean }
  | { readonly kind: 'word'; readonly at: number; readonly value: number }
  | {
      readonly kind: 'splice';
      readonly at: number;
      readonly remove: number;
      readonly insert: readonly number[];
    }
  | { readonly kind: 'copy'; readonly from: number; readonly to: number; readonly length: number };

const position = fc.nat({ max: 0xffffff });

/** Arbitrary mutations; positions are taken modulo the blob length when applied. */
export const arbitraryMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('byte' as const), at: position, value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({
    kind: fc.constant('header' as const),
    field: fc.nat({ max: 9 }),
    value: fc.oneof(
      fc.constantFrom(...INTERESTING),
      fc.integer({ min: -64, max: 64 }),
      fc.nat({ max: 0xffffffff }),
    ),
    relative: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('word' as const),
    at: position,
    value: fc.oneof(fc.constantFrom(1, 2, 3, 4, 9, ...INTERESTING), fc.nat({ max: 0xffffffff })),
  }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: position,
    remove: fc.nat({ max: 16 }),
    insert: fc.array(fc.constantFrom(0, 1, 2, 3, 4, 9, 0x2f, 0x61), { maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant('copy' as const),
    from: position,
    to: position,
    length: fc.integer({ min: 1, max: 256 }),
  }),
);

/** Applies `mutations` to a copy of `blob`. */
export function mutate(blob: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = blob.slice();
  for (const m of mutations) {
    const n = out.length;
    if (n === 0) break;
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    switch (m.kind) {
      case 'flip':
        out[m.at % n] = (out[m.at % n] as number) ^ (1 << m.bit);
        break;
      case 'byte':
        out[m.at % n] = m.value;
        break;
      case 'truncate':
        out = out.slice(0, m.at % n);
        break;
      case 'header':
        if (n >= (m.field + 1) * 4) {
          const old = view.getUint32(m.field * 4, false);
          view.setUint32(m.field * 4, (m.relative ? old + m.value : m.value) >>> 0, false);
        }
        break;
      case 'word': {
        const at = (m.at % n) & ~3;
        if (at + 4 <= n) view.setUint32(at, m.value >>> 0, false);
        break;
      }
      case 'splice': {
        const at = (m.at % n) & ~3;
        const tail = out.subarray(Math.min(n, at + m.remove));
        const next = new Uint8Array(at + m.insert.length + tail.length);
        next.set(out.subarray(0, at), 0);
        next.set(m.insert, at);
        next.set(tail, at + m.insert.length);
        out = next;
        break;
      }
      case 'copy': {
        const from = m.from % n;
        out.copyWithin(m.to % n, from, Math.min(n, from + m.length));
        break;
      }
    }
  }
  return out;
}
