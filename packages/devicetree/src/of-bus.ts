/**
 * The bus-specific address translators of drivers/of/address.c (`of_busses[]`): PCI, ISA,
 * "default-flags" (3 address cells whose first cell is flags) and the default bus.
 * Each decides how a child's address cells are counted, compared with a `ranges` entry
 * and carried into the parent's address space.
 */
import type { KernelVersion } from '@vfiokit/core';
import { busAddressCells, busSizeCells } from './of-cells.js';
import { busMatchNeedsOwnAddressCells, ofKernel } from './of-kernel.js';
import { readNumber, u64 } from './of-prop.js';
import type { OfNode } from './of-tree.js';

/** include/linux/ioport.h resource type bits that address translation uses. */
export const IORESOURCE_IO = 0x100;
/** include/linux/ioport.h: IORESOURCE_MEM. */
export const IORESOURCE_MEM = 0x200;
const IORESOURCE_PREFETCH = 0x2000;
const IORESOURCE_MEM_64 = 0x100000;

/** One translator of drivers/of/address.c `of_busses[]`. */
export interface OfBus {
  readonly name: 'pci' | 'isa' | 'default-flags' | 'default';
  /** Property holding the node's addresses (`assigned-addresses` on PCI, else `reg`). */
  readonly addresses: string;
  /** `count_cells`: address and size cells of a child of this bus. */
  countCells(child: OfNode): readonly [number, number];
  /** `flag_cells`: leading address cells that are flags, not part of the number. */
  readonly flagCells: 0 | 1;
  /**
   * The address-space class that `map` requires to be equal between an address and a
   * `ranges` entry (PCI memory/I/O, ISA bit 0, default-flags first cell; `''` by default).
   */
  spaceKey(addr: readonly number[]): string;
  /**
   * `map`: offset of `addr` inside the `ranges` entry at `range`, or `undefined`
   * (OF_BAD_ADDR). The per-entry reference; translation uses an index equivalent to
   * scanning entries with it in order.
   */
  map(
    addr: readonly number[],
    range: readonly number[],
    na: number,
    ns: number,
    pna: number,
  ): bigint | undefined;
  /** `translate`: add `offset` to the `na`-cell address in place. */
  translate(addr: number[], offset: bigint, na: number): void;
  /** `get_flags`: resource flags of an address. */
  flags(addr: readonly number[]): number;
}

// of_bus_default_map(): cp = child base, s = size, da = address, all u64; the comparison
// uses the wrapping u64 sum cp + s, as C does.
function defaultMap(
  addr: readonly number[],
  range: readonly number[],
  na: number,
  ns: number,
  pna: number,
  fna: number,
): bigint | undefined {
  const cp = readNumber(range, fna, na - fna);
  const s = readNumber(range, na + pna, ns);
  const da = readNumber(addr, fna, na - fna);
  if (da < cp || da >= u64(cp + s)) return undefined;
  return da - cp;
}

// of_bus_default_translate(): a = addr + offset (u64); the address is rewritten as zeros
// with the sum in the last two cells.
function defaultTranslate(addr: number[], offset: bigint, na: number, start = 0): void {
  const a = u64(readNumber(addr, start, na) + offset);
  for (let i = 0; i < na; i++) addr[start + i] = 0;
  if (na > 1) addr[start + na - 2] = Number((a >> 32n) & 0xffffffffn);
  addr[start + na - 1] = Number(a & 0xffffffffn);
}

// of_bus_pci_get_flags(): space code in bits 25:24 of the high cell.
function pciFlags(addr: readonly number[]): number {
  const w = addr[0] ?? 0;
  let flags = 0;
  switch ((w >>> 24) & 0x03) {
    case 0x01:
      flags |= IORESOURCE_IO;
      break;
    case 0x02:
      flags |= IORESOURCE_MEM;
      break;
    case 0x03:
      flags |= IORESOURCE_MEM | IORESOURCE_MEM_64;
      break;
  }
  if (w & 0x40000000) flags |= IORESOURCE_PREFETCH;
  return flags;
}

const PCI: OfBus = {
  name: 'pci',
  addresses: 'assigned-addresses',
  flagCells: 1,
  spaceKey: (addr) => String(pciFlags(addr) & (IORESOURCE_MEM | IORESOURCE_IO)),
  countCells: () => [3, 2],
  map(addr, range, na, ns, pna) {
    // of_bus_pci_map(): the address space (memory vs I/O) must agree.
    if ((pciFlags(addr) ^ pciFlags(range)) & (IORESOURCE_MEM | IORESOURCE_IO)) return undefined;
    return defaultMap(addr, range, na, ns, pna, 1);
  },
  translate: (addr, offset, na) => defaultTranslate(addr, offset, na - 1, 1),
  flags: pciFlags,
};

const ISA: OfBus = {
  name: 'isa',
  addresses: 'reg',
  flagCells: 1,
  spaceKey: (addr) => String((addr[0] ?? 0) & 1),
  countCells: () => [2, 1],
  map(addr, range, na, ns, pna) {
    // of_bus_isa_map(): bit 0 of the first cell (I/O vs memory) must agree.
    if (((addr[0] ?? 0) ^ (range[0] ?? 0)) & 1) return undefined;
    return defaultMap(addr, range, na, ns, pna, 1);
  },
  translate: (addr, offset, na) => defaultTranslate(addr, offset, na - 1, 1),
  flags: (addr) => ((addr[0] ?? 0) & 1 ? IORESOURCE_IO : IORESOURCE_MEM),
};

const DEFAULT_FLAGS: OfBus = {
  name: 'default-flags',
  addresses: 'reg',
  flagCells: 1,
  spaceKey: (addr) => String(addr[0] ?? 0),
  countCells: (child) => defaultCountCells(child),
  map(addr, range, na, ns, pna) {
    // of_bus_default_flags_map(): the flags cells must be equal.
    if ((addr[0] ?? 0) !== (range[0] ?? 0)) return undefined;
    return defaultMap(addr, range, na, ns, pna, 1);
  },
  translate: (addr, offset, na) => defaultTranslate(addr, offset, na - 1, 1),
  // of_bus_default_flags_get_flags(): the first cell *is* the flags word.
  flags: (addr) => addr[0] ?? 0,
};

const DEFAULT: OfBus = {
  name: 'default',
  addresses: 'reg',
  flagCells: 0,
  spaceKey: () => '',
  countCells: (child) => defaultCountCells(child),
  map: (addr, range, na, ns, pna) => defaultMap(addr, range, na, ns, pna, 0),
  translate: (addr, offset, na) => defaultTranslate(addr, offset, na),
  flags: () => IORESOURCE_MEM,
};

// of_bus_default_count_cells(): of_n_addr_cells()/of_n_size_cells() of the child.
function defaultCountCells(child: OfNode): readonly [number, number] {
  const bus = child.parent ?? child;
  return [busAddressCells(bus), busSizeCells(bus)];
}

const PCI_TYPES = new Set(['pci', 'pciex', 'vci', 'ht']);

/**
 * drivers/of/address.c: of_match_bus(): the first translator whose `match` accepts the bus
 * node. PCI (CONFIG_PCI, always on arm64): `device_type` pci/pciex/vci/ht, or a node named
 * `pcie`; ISA: a node named `isa`; default-flags: the bus has 3 address cells; else default.
 * From v6.13 (`kernel`, default v6.18) default-flags and default need `#address-cells` on
 * the bus node itself (of_bus_default_flags_match(), of_bus_default_match()), so a bus
 * without it matches nothing: `undefined`, where the kernel returns NULL and its callers
 * give up (OF_BAD_ADDR, no `reg`). Up to v6.12 the cells are found through the ancestors.
 */
export function matchBus(bus: OfNode, kernel?: KernelVersion): OfBus | undefined {
  const deviceType = bus.string('device_type');
  if ((deviceType !== undefined && PCI_TYPES.has(deviceType)) || bus.nameIs('pcie')) return PCI;
  if (bus.nameIs('isa')) return ISA;
  // of_property_present(np, "#address-cells"): any value, even one too short to read.
  if (busMatchNeedsOwnAddressCells(ofKernel(kernel, 'matchBus')) && !bus.has('#address-cells')) {
    return undefined;
  }
  if (busAddressCells(bus) === 3) return DEFAULT_FLAGS;
  return DEFAULT;
}
