/**
 * Test helper for the kernel-semantics tests: device trees written as object literals.
 * Not exported from the package (the blob-format `DeviceTreeBuilder` is the public way to
 * build trees); it only spares the semantics tests from depending on the codec.
 */
import type { DeviceTree, DtNode, DtProperty } from './tree.js';

/** A property value: cells, a string, a string list, raw bytes, or `true` for an empty property. */
export type LiteralValue = readonly number[] | string | readonly string[] | Uint8Array | true;

/** A node literal: properties by name (in order) and children. */
export interface LiteralNode {
  readonly props?: Readonly<Record<string, LiteralValue>>;
  readonly children?: Readonly<Record<string, LiteralNode>>;
}

/** Big-endian bytes of 32-bit cells (values are taken modulo 2^32). */
export function cellBytes(cells: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(cells.length * 4);
  const view = new DataView(bytes.buffer);
  for (const [i, cell] of cells.entries()) view.setUint32(i * 4, cell >>> 0);
  return bytes;
}

/** NUL-terminated latin-1 bytes of each string, concatenated. */
export function stringBytes(strings: readonly string[]): Uint8Array {
  const bytes: number[] = [];
  for (const text of strings) {
    for (let i = 0; i < text.length; i++) bytes.push(text.charCodeAt(i) & 0xff);
    bytes.push(0);
  }
  return Uint8Array.from(bytes);
}

function valueBytes(value: LiteralValue): Uint8Array {
  if (value === true) return new Uint8Array(0);
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return stringBytes([value]);
  if (value.length > 0 && typeof value[0] === 'string') return stringBytes(value as readonly string[]);
  return cellBytes(value as readonly number[]);
}

/** A {@link DtNode} from a literal; `name` is the full name (`serial@1000`). */
export function dtNode(name: string, literal: LiteralNode = {}): DtNode {
  const properties: DtProperty[] = Object.entries(literal.props ?? {}).map(([key, value]) => ({
    name: key,
    value: valueBytes(value),
  }));
  const children = Object.entries(literal.children ?? {}).map(([key, child]) => dtNode(key, child));
  return { name, properties, children };
}

/** A {@link DeviceTree} whose root is the literal. */
export function dtTree(root: LiteralNode): DeviceTree {
  return {
    header: { version: 17, lastCompatibleVersion: 16, bootCpuidPhys: 0 },
    reserveMap: [],
    root: dtNode('', root),
  };
}
