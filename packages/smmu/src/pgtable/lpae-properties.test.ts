// Properties of io-pgtable-arm against FlatIommuDomain (the reference model of
// @vfiokit/core/testing), with an independent descriptor decoder written from the Arm ARM
// (DDI 0487, D8 "The AArch64 Virtual Memory System Architecture") that shares no code
// with the encoder, and a leak check that compares the allocator with the tables reachable
// from the pgd. Each property is also run against a planted bug and must fail there.
import {
  IOMMU_CACHE,
  IOMMU_NOEXEC,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuFault,
  type Iova,
  isIommuFault,
  type PhysAddr,
  PhysicalMemory,
} from '@vfiokit/core';
import { FlatIommuDomain, thrownErrno } from '@vfiokit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArmLpaeDomain, iommu_pgsize, TablePageAllocator } from '../index.js';

// ---------------------------------------------------------------------------------------
// The independent decoder (Arm ARM D8.2-D8.4). Nothing here is imported from the package.

interface Regime {
  readonly stage: 1 | 2;
  readonly granuleBits: 12 | 14 | 16;
  readonly inputBits: number;
  readonly ttb: number;
  /** TCR.T0SZ (stage 1) or VTCR.SL0 (stage 2) as the driver would program them. */
  readonly t0sz: number;
  readonly sl0: number;
}

interface DecodedPage {
  readonly oa: number;
  readonly read: boolean;
  readonly write: boolean;
}

interface Decoded {
  /** Granule-sized pages that translate, by page number. */
  readonly pages: Map<number, DecodedPage>;
  /** Translation table addresses reached from the TTB (including it). */
  readonly tables: Set<number>;
  /** Leaves that would fault on access although valid-looking (AF == 0, reserved types). */
  readonly faulting: number;
}

// The initial lookup level: stage 1 from T0SZ (D8.2.5 tables), stage 2 from SL0 (D8.2.6).
function initialLevel(regime: Regime): number {
  const { granuleBits: g, t0sz } = regime;
  if (regime.stage === 2) {
    if (g === 12) return [2, 1, 0][regime.sl0] ?? -1;
    return [3, 2, 1][regime.sl0] ?? -1;
  }
  if (g === 12) return t0sz <= 24 ? 0 : t0sz <= 33 ? 1 : 2;
  if (g === 14) return t0sz === 16 ? 0 : t0sz <= 27 ? 1 : t0sz <= 38 ? 2 : 3;
  return t0sz <= 21 ? 1 : t0sz <= 34 ? 2 : 3;
}

// Bits of input address resolved below `level`: the size one entry at that level maps.
function entryBits(g: number, level: number): number {
  return g + (3 - level) * (g - 3);
}

// Block descriptors are permitted at level 1 (4K only) and level 2 (48-bit OA, D8.3.1).
function blockAllowed(g: number, level: number): boolean {
  return level === 2 || (g === 12 && level === 1);
}

function bitsOf(value: bigint, high: number, low: number): number {
  return Number((value >> BigInt(low)) & ((1n << BigInt(high - low + 1)) - 1n));
}

function decode(memory: PhysicalMemory, regime: Regime): Decoded {
  const pages = new Map<number, DecodedPage>();
  const tables = new Set<number>();
  let faulting = 0;
  const g = regime.granuleBits;
  const start = initialLevel(regime);
  const visit = (table: number, level: number, base: number, entries: number): void => {
    tables.add(table);
    for (let index = 0; index < entries; index++) {
      const d = memory.readU64((table + index * 8) as PhysAddr);
      if ((d & 1n) === 0n) continue; // Invalid descriptor.
      const va = base + index * 2 ** entryBits(g, level);
      const isTableOrPage = (d & 2n) !== 0n;
      if (level < 3 && isTableOrPage) {
        visit(bitsOf(d, 47, g) * 2 ** g, level + 1, va, 2 ** (g - 3));
        continue;
      }
      if (level < 3 && !blockAllowed(g, level)) {
        faulting++;
        continue;
      }
      if (level === 3 && !isTableOrPage) {
        faulting++; // Reserved encoding at level 3.
        continue;
      }
      if (((d >> 10n) & 1n) === 0n) {
        faulting++; // Access flag fault (AF == 0 and no hardware update).
        continue;
      }
      const bits = entryBits(g, level);
      const oa = bitsOf(d, 47, bits) * 2 ** bits;
      const ap = bitsOf(d, 7, 6);
      // Stage 1, an unprivileged access: AP[1] grants EL0 access, AP[2] makes it read-only.
      // Stage 2: S2AP[0] read, S2AP[1] write.
      const read = regime.stage === 1 ? (ap & 1) === 1 : (ap & 1) === 1;
      const write = regime.stage === 1 ? ap === 1 : (ap & 2) === 2;
      for (let off = 0; off < 2 ** bits; off += 2 ** g) {
        pages.set((va + off) / 2 ** g, { oa: oa + off, read, write });
      }
    }
  };
  visit(regime.ttb, start, 0, 2 ** (regime.inputBits - entryBits(g, start)));
  return { pages, tables, faulting };
}

function regimeOf(domain: ArmLpaeDomain): Regime {
  const t = domain.pgtable;
  const granuleBits = Math.log2(t.granule) as 12 | 14 | 16;
  return {
    stage: t.format === 'ARM_64_LPAE_S1' ? 1 : 2,
    granuleBits,
    inputBits: t.ias,
    ttb: t.pgd,
    t0sz: t.s1Cfg?.tcr.tsz ?? t.s2Cfg?.vtcr.tsz ?? 0,
    sl0: t.s2Cfg?.vtcr.sl ?? 0,
  };
}

// ---------------------------------------------------------------------------------------
// The model-based property.

interface Geometry {
  readonly format: 'ARM_64_LPAE_S1' | 'ARM_64_LPAE_S2';
  readonly granule: number;
  readonly block: number;
  readonly ias: number;
  /** Pages in the IOVA window the ops use. */
  readonly windowPages: number;
}

type Op =
  | { kind: 'pages'; at: number; count: number; pa: number; prot: number }
  | { kind: 'block'; at: number; blocks: number; extraPages: number; pa: number; prot: number }
  | { kind: 'unmap'; pick: number; count: number }
  | { kind: 'unmapBlock'; at: number }
  | { kind: 'unmapEmpty'; at: number; count: number };

function protArb(format: Geometry['format']): fc.Arbitrary<number> {
  // Stage 1 cannot express write-only (see the example test), so its prots always read.
  const base =
    format === 'ARM_64_LPAE_S1'
      ? [IOMMU_READ, IOMMU_READ | IOMMU_WRITE]
      : [IOMMU_READ, IOMMU_WRITE, IOMMU_READ | IOMMU_WRITE];
  return fc
    .tuple(fc.constantFrom(...base), fc.boolean(), fc.boolean())
    .map(([p, cache, noexec]) => p | (cache ? IOMMU_CACHE : 0) | (noexec ? IOMMU_NOEXEC : 0));
}

function opArb(geo: Geometry): fc.Arbitrary<Op> {
  const blockPages = geo.block / geo.granule;
  const prot = protArb(geo.format);
  return fc.oneof(
    fc.record({
      kind: fc.constant('pages' as const),
      at: fc.nat(geo.windowPages - 1),
      count: fc.integer({ min: 1, max: 24 }),
      pa: fc.nat(1 << 20),
      prot,
    }),
    fc.record({
      kind: fc.constant('block' as const),
      at: fc.nat(geo.windowPages - 1),
      blocks: fc.integer({ min: 1, max: 2 }),
      extraPages: fc.constantFrom(0, 0, 1, 3),
      pa: fc.nat(64),
      prot,
    }),
    fc.record({
      kind: fc.constant('unmap' as const),
      pick: fc.nat(),
      count: fc.integer({ min: 1, max: blockPages + 8 }),
    }),
    fc.record({ kind: fc.constant('unmapBlock' as const), at: fc.nat(geo.windowPages - 1) }),
    fc.record({
      kind: fc.constant('unmapEmpty' as const),
      at: fc.nat(geo.windowPages - 1),
      count: fc.integer({ min: 1, max: 64 }),
    }),
  );
}

interface Checks {
  readonly translate: boolean;
  readonly decoder: boolean;
  readonly leaks: boolean;
}

type Variant = (domain: ArmLpaeDomain, allocator: TablePageAllocator) => void;

const ALL: Checks = { translate: true, decoder: true, leaks: true };

function faultKind(result: PhysAddr | IommuFault): string {
  return isIommuFault(result) ? result.kind : `0x${result.toString(16)}`;
}

/** Runs one op sequence; throws (an expect failure) on the first divergence. */
function runSequence(geo: Geometry, ops: readonly Op[], checks: Checks, variant?: Variant): void {
  const g = geo.granule;
  const memory = new PhysicalMemory();
  const allocator = new TablePageAllocator({ memory, base: 0x8000_0000 as PhysAddr, size: 0x800_0000 });
  const domain = new ArmLpaeDomain({
    allocator,
    format: geo.format,
    pgsizeBitmap: g | geo.block,
    ias: geo.ias,
  });
  variant?.(domain, allocator);
  const reference = new FlatIommuDomain({ pgsizeBitmap: g | geo.block, inputBits: geo.ias });
  const mapped = new Set<number>(); // page numbers mapped in the reference
  const blockPages = geo.block / g;
  const paBase = 2 ** 34;
  const counter = { count: 0 };

  const comparePages = (first: number, count: number): void => {
    if (!checks.translate) return;
    // One expect per check, not per page: expect() costs more than a translation.
    const wrong: string[] = [];
    for (let page = Math.max(0, first); page < Math.min(geo.windowPages, first + count); page++) {
      for (const access of ['read', 'write'] as const) {
        const at = (page * g + 8) as Iova;
        const got = faultKind(domain.translate(at, access));
        const want = faultKind(reference.translate(at, access));
        if (got !== want) wrong.push(`page ${page} ${access}: ${got}, reference ${want}`);
      }
    }
    expect(wrong.slice(0, 4)).toEqual([]);
  };
  const checkLeaks = (): void => {
    if (!checks.leaks) return;
    const reachable = decode(memory, regimeOf(domain)).tables;
    const live = new Set(allocator.allocations().map(([address]) => address));
    expect([...live].sort()).toEqual([...reachable].sort());
  };
  // Whether iommu_pgsize would put a block-sized chunk over something already mapped (the
  // kernel then replaces a table instead of failing; the example tests cover that case).
  const blockChunkOverlaps = (iova: number, pa: number, size: number): boolean => {
    for (let done = 0; done < size; ) {
      const pgsize = iommu_pgsize(domain.pgsizeBitmap, iova + done, pa + done, size - done, counter);
      const span = pgsize * counter.count;
      if (pgsize > g) {
        for (let p = (iova + done) / g; p < (iova + done + span) / g; p++) if (mapped.has(p)) return true;
      }
      done += span;
    }
    return false;
  };
  const doMap = (iova: number, pa: number, size: number, prot: number): void => {
    if (iova + size > geo.windowPages * g) return;
    if (blockChunkOverlaps(iova, pa, size)) return;
    const expected = thrownErrno(() => reference.map(iova as Iova, pa as PhysAddr, size, prot));
    const actual = thrownErrno(() => domain.map(iova as Iova, pa as PhysAddr, size, prot));
    expect(actual, `map 0x${iova.toString(16)}+0x${size.toString(16)}`).toBe(expected);
    if (expected === undefined) for (let p = iova / g; p < (iova + size) / g; p++) mapped.add(p);
    comparePages(iova / g - 1, size / g + 2);
  };

  for (const op of ops) {
    switch (op.kind) {
      case 'pages':
        doMap(op.at * g, paBase + op.pa * g, op.count * g, op.prot);
        break;
      case 'block': {
        const at = Math.floor(op.at / blockPages) * geo.block;
        doMap(at, paBase + op.pa * geo.block, op.blocks * geo.block + op.extraPages * g, op.prot);
        break;
      }
      case 'unmap': {
        if (mapped.size === 0) break;
        const sorted = [...mapped].sort((a, b) => a - b);
        const first = sorted[op.pick % sorted.length] ?? 0;
        let count = 0;
        while (count < op.count && mapped.has(first + count)) count++;
        const expected = reference.unmap((first * g) as Iova, count * g);
        expect(domain.unmap((first * g) as Iova, count * g)).toBe(expected);
        for (let p = first; p < first + count; p++) mapped.delete(p);
        comparePages(first - 1, count + 2);
        break;
      }
      case 'unmapBlock': {
        const first = Math.floor(op.at / blockPages) * blockPages;
        let full = true;
        for (let p = first; p < first + blockPages; p++) full &&= mapped.has(p);
        if (!full) break;
        expect(reference.unmap((first * g) as Iova, geo.block)).toBe(geo.block);
        expect(domain.unmap((first * g) as Iova, geo.block)).toBe(geo.block);
        for (let p = first; p < first + blockPages; p++) mapped.delete(p);
        comparePages(first, blockPages);
        break;
      }
      case 'unmapEmpty': {
        let empty = true;
        for (let p = op.at; p < op.at + op.count; p++) empty &&= !mapped.has(p);
        if (!empty || op.at + op.count > geo.windowPages) break;
        // The kernel may report a whole emptied table as unmapped; nothing may change.
        const unmapped = domain.unmap((op.at * g) as Iova, op.count * g);
        expect(unmapped % g).toBe(0);
        comparePages(op.at - 1, op.count + 2);
        break;
      }
    }
  }
  checkLeaks();

  comparePages(0, geo.windowPages);
  if (checks.translate) {
    expect(faultKind(domain.translate((2 ** geo.ias) as Iova, 'read'))).toBe('address-size');
  }
  if (checks.decoder) {
    const decoded = decode(memory, regimeOf(domain));
    expect(decoded.faulting, 'leaves the hardware would fault on').toBe(0);
    const wrong: string[] = [];
    for (let page = 0; page < geo.windowPages; page++) {
      const want = reference.translate((page * g) as Iova, 'read');
      const wantWrite = reference.translate((page * g) as Iova, 'write');
      const got = decoded.pages.get(page);
      const wantMapped = !isIommuFault(want) || want.kind === 'permission' || !isIommuFault(wantWrite);
      if ((got !== undefined) !== wantMapped)
        wrong.push(`page ${page}: decoded ${String(got !== undefined)}`);
      if (got === undefined) continue;
      const oa = isIommuFault(want) ? (isIommuFault(wantWrite) ? got.oa : wantWrite) : want;
      if (got.oa !== oa)
        wrong.push(`page ${page}: oa 0x${got.oa.toString(16)}, reference 0x${oa.toString(16)}`);
      if (got.read !== !isIommuFault(want) || got.write !== !isIommuFault(wantWrite)) {
        wrong.push(`page ${page}: decoded r${String(got.read)} w${String(got.write)}`);
      }
    }
    expect(wrong.slice(0, 4)).toEqual([]);
    expect(decoded.pages.size).toBe(mapped.size);
  }
  if (checks.leaks) {
    // Unmap everything, run by run, as a user would: the kernel keeps emptied tables.
    const sorted = [...mapped].sort((a, b) => a - b);
    for (let i = 0; i < sorted.length; ) {
      let n = 1;
      while (sorted[i + n] === (sorted[i] ?? 0) + n) n++;
      expect(domain.unmap(((sorted[i] ?? 0) * g) as Iova, n * g)).toBe(n * g);
      i += n;
    }
    checkLeaks();
    expect(decode(memory, regimeOf(domain)).pages.size).toBe(0);
    // Table-sized unmaps free what is left below the block level.
    for (let block = 0; block < geo.windowPages / blockPages; block++) {
      domain.unmap((block * geo.block) as Iova, geo.block);
    }
    checkLeaks();
    const blockLevel = [1, 2, 3].find((l) => domain.pgtable.blockSize(l) === geo.block) ?? 0;
    // At most the pgd and one table per level down to the block level (the window is small).
    expect(allocator.liveAllocations).toBeLessThanOrEqual(blockLevel - domain.pgtable.startLevel + 1);
    domain.free();
    expect(allocator.liveAllocations).toBe(0);
  }
}

function property(geo: Geometry, checks: Checks, variant?: Variant) {
  return fc.property(fc.array(opArb(geo), { minLength: 1, maxLength: 40 }), (ops) => {
    runSequence(geo, ops, checks, variant);
  });
}

const GEOMETRIES: readonly [string, Geometry, number][] = [
  [
    'stage 1, 4K granule, 48-bit',
    { format: 'ARM_64_LPAE_S1', granule: 0x1000, block: 0x20_0000, ias: 48, windowPages: 2048 },
    100,
  ],
  [
    'stage 1, 4K granule, 32-bit',
    { format: 'ARM_64_LPAE_S1', granule: 0x1000, block: 0x20_0000, ias: 32, windowPages: 1024 },
    40,
  ],
  [
    'stage 2, 4K granule, 40-bit',
    { format: 'ARM_64_LPAE_S2', granule: 0x1000, block: 0x20_0000, ias: 40, windowPages: 2048 },
    50,
  ],
  [
    'stage 1, 16K granule, 48-bit',
    { format: 'ARM_64_LPAE_S1', granule: 0x4000, block: 0x200_0000, ias: 48, windowPages: 4096 },
    20,
  ],
  [
    'stage 1, 64K granule, 42-bit',
    { format: 'ARM_64_LPAE_S1', granule: 0x1_0000, block: 0x2000_0000, ias: 42, windowPages: 16384 },
    8,
  ],
];

describe('io-pgtable-arm against FlatIommuDomain', () => {
  it.each(GEOMETRIES)(
    '%s: every page translates as the reference says, the decoder agrees, no table leaks',
    (_name, geo, numRuns) => {
      fc.assert(property(geo, ALL), { numRuns });
    },
    120_000,
  );
});

describe('each property fails on a planted bug', () => {
  const geo = GEOMETRIES[0]?.[1] as Geometry;

  function fails(checks: Checks, variant: Variant, numRuns = 300): boolean {
    // Failed on an assertion of the property, not by crashing.
    const details = fc.check(property(geo, checks, variant), { numRuns });
    const error = details.errorInstance;
    return details.failed && error instanceof Error && error.name === 'AssertionError';
  }

  it('a split that drops the whole block is caught by the translation property', () => {
    const splitDropsBlock: Variant = (domain) => {
      const t = domain.pgtable;
      const original = t.unmap_pages.bind(t);
      t.unmap_pages = (iova, pgsize, count) => {
        if (t.walk(iova) && t.leafLevel < 3 && pgsize < t.blockSize(t.leafLevel)) {
          const size = t.blockSize(t.leafLevel);
          original(iova - (iova % size), size, 1);
          return pgsize * count;
        }
        return original(iova, pgsize, count);
      };
    };
    expect(fails({ translate: true, decoder: false, leaks: false }, splitDropsBlock)).toBe(true);
  }, 60_000);

  it('a read-only mapping encoded writable is caught by the translation property', () => {
    const noReadOnly: Variant = (domain) => {
      const t = domain.pgtable;
      const original = t.prot_to_pte.bind(t);
      t.prot_to_pte = (prot) => {
        const [lo, hi] = original(prot);
        return [lo & ~0x80, hi];
      };
    };
    expect(fails({ translate: true, decoder: false, leaks: false }, noReadOnly)).toBe(true);
  }, 60_000);

  it('a table that is never freed is caught by the leak property', () => {
    const neverFree: Variant = (_domain, allocator) => {
      allocator.free = () => undefined;
    };
    expect(fails({ translate: false, decoder: false, leaks: true }, neverFree)).toBe(true);
  }, 60_000);

  it('leaves without the Access Flag pass the software walk but not the Arm ARM decoder', () => {
    const noAccessFlag: Variant = (domain) => {
      const t = domain.pgtable;
      const original = t.prot_to_pte.bind(t);
      t.prot_to_pte = (prot) => {
        const [lo, hi] = original(prot);
        return [lo & ~0x400, hi];
      };
    };
    // The kernel's own walk (iova_to_phys) ignores AF, so only the decoder can see this.
    expect(fails({ translate: true, decoder: false, leaks: false }, noAccessFlag, 20)).toBe(false);
    expect(fails({ translate: false, decoder: true, leaks: false }, noAccessFlag)).toBe(true);
  }, 60_000);
});

describe('table pages the kernel keeps and frees (numbers for 4K, 48-bit)', () => {
  it('1024 pages over two 2M ranges: 5 tables mapped, 5 kept after unmapping every page, 2 after table-sized unmaps, 0 after free', () => {
    const memory = new PhysicalMemory();
    const allocator = new TablePageAllocator({ memory, base: 0x8000_0000 as PhysAddr, size: 0x100_0000 });
    const domain = new ArmLpaeDomain({ allocator });
    for (let i = 0; i < 1024; i++) {
      domain.map((i * 0x1000) as Iova, (0x1_0000_1000 + i * 0x1000) as PhysAddr, 0x1000, IOMMU_READ);
    }
    expect(allocator.liveAllocations).toBe(5); // pgd, L1, L2, two L3
    for (let i = 0; i < 1024; i++) expect(domain.unmap((i * 0x1000) as Iova, 0x1000)).toBe(0x1000);
    expect(allocator.liveAllocations).toBe(5);
    expect(domain.unmap(0 as Iova, 0x40_0000)).toBe(0x40_0000);
    expect(allocator.liveAllocations).toBe(3);
    expect(domain.unmap(0 as Iova, 0x4000_0000)).toBe(0x4000_0000);
    expect(allocator.liveAllocations).toBe(2);
    domain.free();
    expect(allocator.liveAllocations).toBe(0);
  });
});
