/**
 * `interrupt-map` / `interrupt-map-mask` of nexus nodes, parsed once per nexus. Mirrors the
 * map scan of drivers/of/irq.c: of_irq_parse_raw() with of_irq_parse_imap_parent() (v6.10+).
 */
import { MAX_PHANDLE_ARGS } from './of-phandle.js';
import { propertyCells } from './of-prop.js';
import type { OfNode, OfTree } from './of-tree.js';

/** One usable `interrupt-map` entry: the parent controller and its specifier. */
export interface NexusEntry {
  readonly parent: OfNode;
  readonly cells: number[];
  readonly intsize: number;
  readonly addrsize: number;
}

/** One nexus node's `interrupt-map`, parsed for one child specifier size. */
export interface NexusTable {
  readonly mask: readonly number[];
  /** The first usable entry per masked child specifier (parent available). */
  readonly entries: ReadonlyMap<string, NexusEntry>;
  /** The malformed entry that ends the kernel's scan, if any. */
  readonly error:
    | { readonly code: 'BADPHANDLE' | 'BADNCELLS' | 'BADVALUE'; readonly message: string }
    | undefined;
}

const NEXUS_TABLES = new WeakMap<OfNode, Map<string, NexusTable>>();

// A mask shorter than the child specifier leaves the rest compared in full (the kernel would
// read past the property).
export function maskedKey(cells: readonly number[], mask: readonly number[], size: number): string {
  let key = '';
  for (let i = 0; i < size; i++) key += `${((cells[i] ?? 0) & (mask[i] ?? 0xffffffff)) >>> 0},`;
  return key;
}

// drivers/of/irq.c: the interrupt-map scan of of_irq_parse_raw() with
// of_irq_parse_imap_parent(), done once per nexus and child size: entries are taken in order
// while `remaining > childSize + 1`; an entry whose parent is unavailable never matches; a
// malformed entry (unknown phandle, parent without #interrupt-cells, oversized or truncated
// parent specifier) stops the scan. Matching a specifier is then a lookup of its masked
// value, so resolving many interrupts through a big map is not quadratic.
export function nexusTable(
  tree: OfTree,
  nexus: OfNode,
  value: Uint8Array,
  addrsize: number,
  intsize: number,
): NexusTable {
  const key = `${addrsize}/${intsize}`;
  let tables = NEXUS_TABLES.get(nexus);
  if (tables === undefined) {
    tables = new Map();
    NEXUS_TABLES.set(nexus, tables);
  }
  const cached = tables.get(key);
  if (cached !== undefined) return cached;
  const map = propertyCells(value);
  const maskProperty = nexus.property('interrupt-map-mask');
  const mask = maskProperty === undefined ? [] : propertyCells(maskProperty.value);
  const childSize = addrsize + intsize;
  const entries = new Map<string, NexusEntry>();
  let error: NexusTable['error'];
  let pos = 0;
  let remaining = map.length;
  while (remaining > childSize + 1) {
    const child = maskedKey(map.slice(pos, pos + childSize), mask, childSize);
    pos += childSize;
    remaining -= childSize;
    const phandle = map[pos]!;
    pos++;
    remaining--;
    const parent = tree.nodeByPhandle(phandle);
    if (parent === undefined) {
      error = { code: 'BADPHANDLE', message: `no node has phandle 0x${phandle.toString(16)}` };
      break;
    }
    const newIntsize = parent.u32('#interrupt-cells');
    if (newIntsize === undefined) {
      error = { code: 'BADNCELLS', message: `${parent.path} has no #interrupt-cells` };
      break;
    }
    const newAddrsize = parent.u32('#address-cells') ?? 0;
    if (newAddrsize + newIntsize > MAX_PHANDLE_ARGS || remaining < newAddrsize + newIntsize) {
      error = { code: 'BADVALUE', message: 'an entry is truncated or oversized' };
      break;
    }
    const cells = map.slice(pos, pos + newAddrsize + newIntsize);
    pos += newAddrsize + newIntsize;
    remaining -= newAddrsize + newIntsize;
    if (parent.available && !entries.has(child)) {
      entries.set(child, { parent, cells, intsize: newIntsize, addrsize: newAddrsize });
    }
  }
  const table: NexusTable = { mask, entries, error };
  tables.set(key, table);
  return table;
}
