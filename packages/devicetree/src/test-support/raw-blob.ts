// Hand assembly of FDT blobs, including ones dtc would never write (other block orders,
// free space, NOPs, malformed structure), for parser tests.

/** Structure-block pieces. */
export const tok: {
  begin(name: string): number[];
  prop(nameoff: number, value: readonly number[]): number[];
  readonly end: readonly number[];
  readonly nop: readonly number[];
  readonly fdtEnd: readonly number[];
  word(v: number): number[];
} = {
  begin(name: string): number[] {
    const bytes = [...new TextEncoder().encode(name), 0];
    while (bytes.length % 4 !== 0) bytes.push(0);
    return [0, 0, 0, 1, ...bytes];
  },
  prop(nameoff: number, value: readonly number[]): number[] {
    const padded = [...value];
    while (padded.length % 4 !== 0) padded.push(0);
    return [0, 0, 0, 3, ...be32(value.length), ...be32(nameoff), ...padded];
  },
  end: [0, 0, 0, 2],
  nop: [0, 0, 0, 4],
  fdtEnd: [0, 0, 0, 9],
  word(v: number): number[] {
    return be32(v);
  },
};

export function be32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

type Block = 'rsv' | 'struct' | 'strings';

/** Layout of a hand-assembled blob. */
export interface RawBlobSpec {
  readonly struct: readonly number[];
  readonly strings: string;
  readonly reserve?: readonly (readonly [bigint, bigint])[];
  readonly version?: number;
  readonly lastComp?: number;
  readonly order?: readonly Block[];
  /** Zero bytes before each block (kept 8-aligned for the reserve map). */
  readonly gap?: number;
  readonly tail?: number;
}

/** Assembles a blob with a v17 header (or `version`'s header size) and the given layout. */
export function rawBlob(spec: RawBlobSpec): Uint8Array {
  const version = spec.version ?? 17;
  const rsv: number[] = [];
  for (const [a, s] of [...(spec.reserve ?? []), [0n, 0n] as const]) {
    for (const v of [a, s]) for (let i = 7; i >= 0; i--) rsv.push(Number((v >> BigInt(i * 8)) & 0xffn));
  }
  const strings = [...new TextEncoder().encode(spec.strings)];
  const blocks: Record<Block, number[]> = { rsv, struct: [...spec.struct], strings };
  const offsets: Record<Block, number> = { rsv: 0, struct: 0, strings: 0 };
  let at = 40;
  const out: number[] = new Array(40).fill(0);
  for (const block of spec.order ?? ['rsv', 'struct', 'strings']) {
    for (let i = 0; i < (spec.gap ?? 0); i++) out.push(0xee);
    while (out.length % 8 !== 0) out.push(0);
    at = out.length;
    offsets[block] = at;
    out.push(...blocks[block]);
  }
  for (let i = 0; i < (spec.tail ?? 0); i++) out.push(0);
  const header = [
    0xd00dfeed,
    out.length,
    offsets.struct,
    offsets.strings,
    offsets.rsv,
    version,
    spec.lastComp ?? 16,
    0,
    strings.length,
    spec.struct.length,
  ];
  header.forEach((v, i) => {
    out.splice(i * 4, 4, ...be32(v));
  });
  return Uint8Array.from(out);
}

/** A copy of `blob` with the big-endian word at `at` replaced. */
export function withU32(blob: Uint8Array, at: number, value: number): Uint8Array {
  const copy = blob.slice();
  new DataView(copy.buffer).setUint32(at, value >>> 0, false);
  return copy;
}

/** The big-endian word at `at`. */
export function u32(blob: Uint8Array, at: number): number {
  return new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(at, false);
}

/**
 * Whether a (v16+) blob's structure block has an FDT_NOP after the root node's
 * FDT_END_NODE: libfdt 1.6.1's fdt_check_full() rejects that (BADSTRUCTURE), upstream libfdt
 * (2026, "fdt_check_full: Handle FDT_NOP after the root node") and parseFdt accept it.
 */
export function hasNopAfterRoot(blob: Uint8Array): boolean {
  if (blob.length < 40) return false;
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const base = view.getUint32(8);
  const end = Math.min(blob.length, base + view.getUint32(36));
  let depth = 0;
  let closed = false;
  for (let at = base; at + 4 <= end; ) {
    const tag = view.getUint32(at);
    if (tag === 1) {
      depth++;
      const nul = blob.indexOf(0, at + 4);
      if (nul < 0) return false;
      at = (nul + 4) & ~3;
    } else if (tag === 2) {
      depth--;
      if (depth === 0) closed = true;
      at += 4;
    } else if (tag === 3) {
      if (at + 12 > end) return false;
      const next = at + 12 + view.getUint32(at + 4);
      at = next + ((4 - (next % 4)) % 4);
    } else if (tag === 4) {
      if (closed) return true;
      at += 4;
    } else {
      return false;
    }
  }
  return false;
}
