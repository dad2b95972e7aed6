// Small, dependency-free helpers to read and write DtNode values as the guest-tree builders
// need them: big-endian cells, NUL-separated strings, paths. Values follow the FDT encoding
// (devicetree's DtProperty holds the raw bytes), so what we write is what dtc would.
import type { DeviceTree, DtNode, DtProperty } from '@vfiokit/devicetree';
import { FdtError } from '@vfiokit/devicetree';

/** A node being built or edited (DtNode with mutable arrays). */
export interface MutableNode {
  name: string;
  properties: DtProperty[];
  children: MutableNode[];
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function cellsValue(cells: readonly number[]): Uint8Array {
  const out = new Uint8Array(cells.length * 4);
  const v = new DataView(out.buffer);
  cells.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c > 0xffff_ffff)
      throw new FdtError('BADVALUE', `cell ${c} is not a u32`);
    v.setUint32(i * 4, c, false);
  });
  return out;
}

/** A bigint as `n` cells (most significant first). */
export function bigCells(value: bigint, n: number): number[] {
  const out: number[] = [];
  for (let i = n - 1; i >= 0; i--) out.push(Number((value >> BigInt(32 * i)) & 0xffff_ffffn));
  if (n < 2 && value >> 32n !== 0n)
    throw new FdtError('BADVALUE', `0x${value.toString(16)} does not fit ${n} cell(s)`);
  return out;
}

export function stringsValue(strings: readonly string[]): Uint8Array {
  return enc.encode(strings.map((s) => `${s}\0`).join(''));
}

export const prop = {
  cells: (name: string, ...cells: number[]): DtProperty => ({ name, value: cellsValue(cells) }),
  strings: (name: string, ...strings: string[]): DtProperty => ({ name, value: stringsValue(strings) }),
  empty: (name: string): DtProperty => ({ name, value: new Uint8Array(0) }),
  raw: (name: string, value: Uint8Array): DtProperty => ({ name, value: value.slice() }),
};

export function readCells(value: Uint8Array): number[] {
  if (value.length % 4 !== 0)
    throw new FdtError('BADVALUE', `value of ${value.length} bytes is not whole cells`);
  const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const out: number[] = [];
  for (let i = 0; i < value.length; i += 4) out.push(v.getUint32(i, false));
  return out;
}

export function readStrings(value: Uint8Array): string[] {
  const s = dec.decode(value);
  return s.endsWith('\0') ? s.slice(0, -1).split('\0') : [s];
}

export function getProp(node: DtNode, name: string): Uint8Array | undefined {
  return node.properties.find((p) => p.name === name)?.value;
}

export function getU32(node: DtNode, name: string): number | undefined {
  const v = getProp(node, name);
  if (v === undefined || v.length !== 4) return undefined;
  return readCells(v)[0];
}

export function setProp(node: MutableNode, p: DtProperty): void {
  const i = node.properties.findIndex((q) => q.name === p.name);
  if (i >= 0) node.properties[i] = p;
  else node.properties.push(p);
}

export function deepCopy(node: DtNode): MutableNode {
  return {
    name: node.name,
    properties: node.properties.map((p) => ({ name: p.name, value: p.value.slice() })),
    children: node.children.map(deepCopy),
  };
}

/** Splits `/a/b@1` into `['a', 'b@1']`; `/` is `[]`. */
export function pathTokens(path: string): string[] {
  if (!path.startsWith('/')) throw new FdtError('BADPATH', `path ${JSON.stringify(path)} is not absolute`);
  return path.split('/').filter((t) => t.length > 0);
}

export function findNode<T extends DtNode>(root: T, path: string): T | undefined {
  let node: T | undefined = root;
  for (const t of pathTokens(path)) {
    node = node?.children.find((c) => c.name === t) as T | undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** Every node with its full path, depth first in blob order. */
export function* walk<T extends DtNode>(node: T, path = ''): Generator<[T, string]> {
  yield [node, path === '' ? '/' : path];
  for (const c of node.children) yield* walk(c as T, `${path}/${c.name}`);
}

export function phandleOf(node: DtNode): number | undefined {
  return getU32(node, 'phandle') ?? getU32(node, 'linux,phandle');
}

/** fdt_get_max_phandle(): the largest phandle in the tree (0 when none). */
export function maxPhandle(root: DtNode): number {
  let max = 0;
  for (const [n] of walk(root)) {
    const p = phandleOf(n);
    if (p !== undefined && p !== 0xffff_ffff && p > max) max = p;
  }
  return max;
}

export function nodeByPhandle<T extends DtNode>(root: T, phandle: number): [T, string] | undefined {
  for (const [n, path] of walk(root)) if (phandleOf(n) === phandle) return [n, path];
  return undefined;
}

/** A tree with a new root. */
export function withRoot(tree: DeviceTree, root: DtNode): DeviceTree {
  return { header: tree.header, reserveMap: tree.reserveMap, root };
}

/** A fresh tree (version 17) around `root`, as a builder or dtc would write it. */
export function newTree(root: DtNode): DeviceTree {
  return { header: { version: 17, lastCompatibleVersion: 16, bootCpuidPhys: 0 }, reserveMap: [], root };
}
