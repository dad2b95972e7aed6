/**
 * `reg` decoding and translation to CPU physical addresses through `ranges`.
 * Mirrors drivers/of/address.c (v6.x): __of_translate_address(), of_translate_one(),
 * __of_get_address() and __of_address_to_resource().
 */

import type { KernelVersion } from '@vfiokit/core';
import { IORESOURCE_MEM, matchBus, type OfBus } from './of-bus.js';
import { FirstIntervalIndex, type IndexedInterval } from './of-interval-index.js';
import { ofKernel } from './of-kernel.js';
import { propertyCells, readNumber } from './of-prop.js';
import type { OfNode } from './of-tree.js';

/** drivers/of/address.c: OF_MAX_ADDR_CELLS. */
export const OF_MAX_ADDR_CELLS = 4;

// OF_CHECK_ADDR_COUNT / OF_CHECK_COUNTS: 1..4 address cells and at least one size cell.
function checkAddressCount(na: number): boolean {
  return na > 0 && na <= OF_MAX_ADDR_CELLS;
}
function checkCounts(na: number, ns: number): boolean {
  return checkAddressCount(na) && ns > 0;
}

/** One raw `reg` entry, untranslated (`of_property_read_reg`). */
export interface DtRegEntry {
  /** Index in `reg`. */
  readonly index: number;
  /** The address cells as written (`#address-cells` of the parent bus). */
  readonly cells: readonly number[];
  /** The address folded into a u64 (of_read_number of all address cells). */
  readonly address: bigint;
  /** The size folded into a u64. */
  readonly size: bigint;
}

/**
 * The node's `reg` entries as the kernel splits them: entries of `#address-cells +
 * #size-cells` cells (counted by the parent's bus translator); a partial trailing entry is
 * ignored; `[]` when the cell counts are invalid (address cells outside 1..4), `reg` is absent,
 * or (v6.13+, see {@link matchBus}) the parent matches no bus translator.
 * drivers/of/address.c: __of_get_address().
 */
export function regEntries(node: OfNode, kernel?: KernelVersion): DtRegEntry[] {
  const parent = node.parent;
  if (parent === undefined) return [];
  const bus = matchBus(parent, kernel);
  if (bus === undefined) return [];
  const [na, ns] = bus.countCells(node);
  if (!checkAddressCount(na)) return [];
  const property = node.property(bus.addresses);
  if (property === undefined) return [];
  const cells = propertyCells(property.value);
  const entries: DtRegEntry[] = [];
  const onesize = na + ns;
  for (let offset = 0, index = 0; cells.length - offset >= onesize; offset += onesize, index++) {
    entries.push({
      index,
      cells: cells.slice(offset, offset + na),
      address: readNumber(cells, offset, na),
      size: readNumber(cells, offset + na, ns),
    });
  }
  return entries;
}

/**
 * drivers/of/address.c: of_translate_address(): translate a bus address of `node` (its
 * `#address-cells` cells, e.g. the start of `reg`) into a CPU physical address by walking up
 * the tree and applying each parent bus's `ranges`. Returns `undefined` (OF_BAD_ADDR) when
 * the address cannot be translated: a missing `ranges` (a non-translatable boundary), an
 * address outside every `ranges` window, invalid cell counts (address cells outside 1..4, or
 * a level with `#size-cells = <0>`), fewer cells than `#address-cells`, the root itself, or
 * (v6.13+, `kernel`, see {@link matchBus}) a level whose bus node lacks `#address-cells`.
 * An empty `ranges` is a 1:1 mapping. The root's own `ranges` is never consulted.
 */
export function translateAddress(
  node: OfNode,
  inAddr: readonly number[],
  kernel?: KernelVersion,
): bigint | undefined {
  const version = ofKernel(kernel, 'translateAddress');
  let dev = node;
  let parent = dev.parent;
  if (parent === undefined) return undefined;
  const first = matchBus(parent, version);
  if (first === undefined) return undefined;
  let bus: OfBus = first;
  let [na, ns] = bus.countCells(dev);
  if (!checkCounts(na, ns)) return undefined;
  // The kernel memcpy()s na cells from the reg pointer; a shorter reg would be read out of
  // bounds, which vfiokit reports as untranslatable instead.
  if (inAddr.length < na) return undefined;
  const addr = inAddr.slice(0, na);
  for (;;) {
    dev = parent;
    parent = dev.parent;
    if (parent === undefined) return readNumber(addr, 0, na);
    const pbus = matchBus(parent, version);
    if (pbus === undefined) return undefined;
    const [pna, pns] = pbus.countCells(dev);
    if (!checkCounts(pna, pns)) return undefined;
    if (!translateOne(dev, bus, pbus, addr, na, ns, pna)) return undefined;
    na = pna;
    ns = pns;
    bus = pbus;
  }
}

// drivers/of/address.c: of_translate_one(): apply `bus`'s `ranges` (on the bus node `dev`),
// leaving the parent-bus address in `addr`. Returns false for OF_BAD_ADDR.
function translateOne(
  dev: OfNode,
  bus: OfBus,
  pbus: OfBus,
  addr: number[],
  na: number,
  ns: number,
  pna: number,
): boolean {
  const ranges = dev.property('ranges');
  // No `ranges`: a non-translatable boundary (the empty-ranges quirk is powerpc-only).
  if (ranges === undefined) return false;
  let offset: bigint;
  if (ranges.value.length === 0) {
    // Empty `ranges`: 1:1; the whole child address (flags cell included) becomes the offset.
    // "set address to zero, pass flags through" (v6.7+, with the default-flags bus): the
    // parent bus's flag cells keep the child address's leading cells, only the rest is zeroed
    // (past the child's `na` cells the kernel's stack buffer is uninitialised; 0 here).
    offset = readNumber(addr, 0, na);
    const flags = addr.slice(0, Math.min(pbus.flagCells, pna));
    addr.length = 0;
    for (let i = 0; i < pna; i++) addr.push(flags[i] ?? 0);
  } else {
    const table = rangesTable(dev, bus, na, ns, pna, ranges.value);
    const found = table.lookup(addr);
    if (found === undefined) return false;
    offset = found.offset;
    // memcpy(addr, ranges + na, 4 * pna): the parent-side base of the matching window.
    addr.length = 0;
    addr.push(...found.parentBase);
  }
  pbus.translate(addr, offset, pna);
  return true;
}

const MASK64 = (1n << 64n) - 1n;

/** A bus node's `ranges`, indexed for one (translator, cell counts) combination. */
interface RangesTable {
  /** The first window (in `ranges` order) that `bus.map()` accepts for `addr`, as of_translate_one() scans. */
  lookup(addr: readonly number[]): { readonly offset: bigint; readonly parentBase: number[] } | undefined;
}

const RANGES_TABLES = new WeakMap<OfNode, Map<string, RangesTable>>();

// of_translate_one() scans `ranges` linearly for every address; translating many children of
// a bus with a huge `ranges` would be quadratic. The table answers the same question — the
// first entry, in order, whose space matches and whose [cp, cp + s) holds the address (an
// entry whose u64 end wraps, or of size 0, holds nothing) — in logarithmic time.
function rangesTable(
  dev: OfNode,
  bus: OfBus,
  na: number,
  ns: number,
  pna: number,
  value: Uint8Array,
): RangesTable {
  const key = `${bus.name}/${na}/${ns}/${pna}`;
  let tables = RANGES_TABLES.get(dev);
  if (tables === undefined) {
    tables = new Map();
    RANGES_TABLES.set(dev, tables);
  }
  const cached = tables.get(key);
  if (cached !== undefined) return cached;
  const cells = propertyCells(value);
  const rone = na + pna + ns;
  const fna = bus.flagCells;
  const bySpace = new Map<string, IndexedInterval[]>();
  const bases: bigint[] = [];
  for (let index = 0, at = 0; cells.length - at >= rone; index++, at += rone) {
    const entry = cells.slice(at, at + rone);
    const cp = readNumber(entry, fna, na - fna);
    const hi = cp + readNumber(entry, na + pna, ns);
    bases.push(cp);
    const space = bus.spaceKey(entry);
    const list = bySpace.get(space) ?? [];
    if (hi <= MASK64) list.push({ index, lo: cp, hi });
    bySpace.set(space, list);
  }
  const indexes = new Map(
    [...bySpace].map(([space, list]) => [space, new FirstIntervalIndex(list)] as const),
  );
  const table: RangesTable = {
    lookup(addr) {
      const index = indexes.get(bus.spaceKey(addr))?.find(readNumber(addr, fna, na - fna)) ?? -1;
      if (index < 0) return undefined;
      const at = index * rone;
      return {
        offset: readNumber(addr, fna, na - fna) - bases[index]!,
        parentBase: cells.slice(at + na, at + na + pna),
      };
    },
  };
  tables.set(key, table);
  return table;
}

/** A translated `reg` entry: what `of_address_to_resource()` fills in. */
export interface DtResource {
  /** Index in `reg`. */
  readonly index: number;
  /** CPU physical start address. */
  readonly address: bigint;
  /** Size in bytes (a u64 from the size cells). */
  readonly size: bigint;
  /** The matching `reg-names` entry, if any. */
  readonly name: string | undefined;
}

/**
 * drivers/of/address.c: of_address_to_resource(np, index): the `index`-th `reg` entry
 * translated to a CPU physical address, or `undefined` when the kernel returns -EINVAL: no
 * such entry, an untranslatable address, or an I/O-space address (ISA/PCI I/O, or a
 * default-flags address whose flags are neither memory nor I/O). I/O-space addresses go
 * through of_translate_ioport() and need a PCI I/O range registered by a host-bridge driver,
 * which does not exist yet when devices are populated, so they are not translatable here.
 */
export function addressToResource(
  node: OfNode,
  index: number,
  kernel?: KernelVersion,
): DtResource | undefined {
  const version = ofKernel(kernel, 'addressToResource');
  const parent = node.parent;
  if (parent === undefined) return undefined;
  const bus = matchBus(parent, version);
  if (bus === undefined) return undefined;
  const entry = regEntries(node, version)[index];
  if (entry === undefined) return undefined;
  const flags = bus.flags(entry.cells);
  // IORESOURCE_IO (or no type at all) is not a memory resource: see the TSDoc above.
  if (!(flags & IORESOURCE_MEM)) return undefined;
  const address = translateAddress(node, entry.cells, version);
  if (address === undefined) return undefined;
  return { index, address, size: entry.size, name: node.strings('reg-names')[index] };
}

/**
 * include/linux/of_address.h: of_address_count() — resources are counted until the first
 * entry that does not translate, so later entries are lost after a bad one, exactly as
 * of_device_alloc() fills a platform device.
 */
export function addressResources(node: OfNode, kernel?: KernelVersion): DtResource[] {
  const version = ofKernel(kernel, 'addressResources');
  const resources: DtResource[] = [];
  for (;;) {
    const resource = addressToResource(node, resources.length, version);
    if (resource === undefined) return resources;
    resources.push(resource);
  }
}
