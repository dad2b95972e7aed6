// The hardware walker on hand-written descriptors (Arm ARM D8.3), and the IOTLB's tags.
import { type PhysAddr, PhysicalMemory } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import {
  Iotlb,
  type IotlbEntry,
  iotlbTag,
  stage1StartLevel,
  stage2StartLevel,
  TableWalker,
  type WalkRegime,
} from '../index.js';
import {
  PERM_PRIV_READ,
  PERM_PRIV_WRITE,
  PERM_READ,
  PERM_WRITE,
  WALK_ACCESS_FLAG,
  WALK_ADDRESS_SIZE,
  WALK_OK,
  WALK_TRANSLATION,
} from './table-walker.js';

const L1 = 0x10_0000;
const L2 = 0x10_1000;
const L3 = 0x10_2000;

function put(memory: PhysicalMemory, table: number, index: number, value: bigint): void {
  memory.writeU64((table + 8 * index) as PhysAddr, value);
}

// A 39-bit, 4K stage-1 regime starting at level 1.
function regime(overrides: Partial<WalkRegime> = {}): WalkRegime {
  return { stage: 1, ttb: L1, granuleBits: 12, inputBits: 39, startLevel: 1, outputBits: 48, ...overrides };
}

const AF = 1n << 10n;
const TABLE = 3n;
const PAGE = 3n;
const BLOCK = 1n;

describe('TableWalker (Arm ARM D8.3 descriptor decoding)', () => {
  it('walks table -> table -> page and reports the AP permissions by privilege', () => {
    const memory = new PhysicalMemory();
    put(memory, L1, 0, BigInt(L2) | TABLE);
    put(memory, L2, 0, BigInt(L3) | TABLE);
    put(memory, L3, 5, 0x1234_5000n | AF | (3n << 6n) | PAGE); // AP = 11: read-only at EL0 and EL1
    const walker = new TableWalker(memory);
    expect(walker.walk(regime(), 0x5abc)).toBe(WALK_OK);
    expect(walker.outputBase).toBe(0x1234_5000);
    expect(walker.blockSize).toBe(0x1000);
    expect(walker.level).toBe(3);
    expect(walker.perms).toBe(PERM_READ | PERM_PRIV_READ);
    put(memory, L3, 5, 0x1234_5000n | AF | (0n << 6n) | PAGE); // AP = 00: EL1 read/write only
    expect(walker.walk(regime(), 0x5abc)).toBe(WALK_OK);
    expect(walker.perms).toBe(PERM_PRIV_READ | PERM_PRIV_WRITE);
    put(memory, L3, 5, 0x1234_5000n | AF | (1n << 6n) | PAGE); // AP = 01: read/write at both
    walker.walk(regime(), 0x5abc);
    expect(walker.perms).toBe(PERM_READ | PERM_WRITE | PERM_PRIV_READ | PERM_PRIV_WRITE);
    walker.walk(regime({ stage: 2 }), 0x5abc); // S2AP = 01: read only
    expect(walker.perms).toBe(PERM_READ | PERM_PRIV_READ);
  });

  it('faults on an invalid entry, a level-3 block encoding, a level-1 block with the 16K granule', () => {
    const memory = new PhysicalMemory();
    put(memory, L1, 0, BigInt(L2) | TABLE);
    put(memory, L2, 0, BigInt(L3) | TABLE);
    put(memory, L3, 1, 0x5000n | AF | BLOCK); // 0b01 at level 3 is reserved
    const walker = new TableWalker(memory);
    expect(walker.walk(regime(), 0x0)).toBe(WALK_TRANSLATION);
    expect(walker.walk(regime(), 0x1000)).toBe(WALK_TRANSLATION);
    expect(walker.level).toBe(3);
    // 16K granule, 47-bit: level 1 entries are 64 GiB and may not be blocks.
    put(memory, L1, 0, 0x40_0000_0000n | AF | BLOCK);
    expect(walker.walk(regime({ granuleBits: 14, inputBits: 47, startLevel: 1 }), 0)).toBe(WALK_TRANSLATION);
    // ... while with 4K a level-1 block (1 GiB) is fine.
    put(memory, L1, 1, 0x4000_0000n | AF | (1n << 6n) | BLOCK);
    expect(walker.walk(regime(), 0x4000_1234)).toBe(WALK_OK);
    expect(walker.blockSize).toBe(0x4000_0000);
  });

  it('an Access Flag of 0 is an access flag fault; output or table addresses past the size are address size faults', () => {
    const memory = new PhysicalMemory();
    put(memory, L1, 0, BigInt(L2) | TABLE);
    put(memory, L2, 0, 0x20_0000n | BLOCK);
    const walker = new TableWalker(memory);
    expect(walker.walk(regime(), 0x10)).toBe(WALK_ACCESS_FLAG);
    put(memory, L2, 0, 0x1_0000_0000n | AF | BLOCK);
    expect(walker.walk(regime({ outputBits: 32 }), 0x10)).toBe(WALK_ADDRESS_SIZE);
    put(memory, L1, 2, 0x1_0000_0000n | TABLE);
    expect(walker.walk(regime({ outputBits: 32 }), 0x8000_0000)).toBe(WALK_ADDRESS_SIZE);
    expect(walker.level).toBe(1);
  });

  it('a concatenated stage-2 start level indexes past one table (SL0 picks the level)', () => {
    const memory = new PhysicalMemory();
    // 40-bit IPA, 4K, SL0 = 1: level 1 with 1024 entries over two pages.
    put(memory, L1, 600, 0x2_0000_0000n | AF | (3n << 6n) | BLOCK);
    const walker = new TableWalker(memory);
    const s2 = regime({ stage: 2, inputBits: 40, startLevel: stage2StartLevel(12, 1) });
    expect(walker.walk(s2, 600 * 0x4000_0000 + 0x123)).toBe(WALK_OK);
    expect(walker.outputBase).toBe(0x2_0000_0000);
    expect(walker.perms).toBe(PERM_READ | PERM_WRITE | PERM_PRIV_READ | PERM_PRIV_WRITE);
  });

  it('start levels as the Arm ARM tables give them', () => {
    expect([
      stage1StartLevel(12, 48),
      stage1StartLevel(12, 39),
      stage1StartLevel(12, 32),
      stage1StartLevel(12, 30),
    ]).toEqual([0, 1, 1, 2]);
    expect([stage1StartLevel(14, 48), stage1StartLevel(14, 47), stage1StartLevel(14, 36)]).toEqual([0, 1, 2]);
    expect([stage1StartLevel(16, 48), stage1StartLevel(16, 42), stage1StartLevel(16, 29)]).toEqual([1, 2, 3]);
    expect([stage2StartLevel(12, 0), stage2StartLevel(12, 2), stage2StartLevel(16, 1)]).toEqual([2, 0, 2]);
  });
});

describe('Iotlb', () => {
  const entry = (iovaBase: number, size: number, asid: number, vmid: number, stage: 1 | 2): IotlbEntry => ({
    iovaBase,
    size,
    outputBase: iovaBase + 0x1_0000_0000,
    perms: PERM_READ,
    asid,
    vmid,
    stage,
  });

  it('keeps contexts apart and finds blocks of every cached size', () => {
    const tlb = new Iotlb();
    tlb.insert(iotlbTag(0, 1, 1), entry(0x1000, 0x1000, 1, 0, 1));
    tlb.insert(iotlbTag(0, 1, 1), entry(0x20_0000, 0x20_0000, 1, 0, 1));
    tlb.insert(iotlbTag(0, 1, 2), entry(0x1000, 0x1000, 2, 0, 1));
    expect(tlb.lookup(iotlbTag(0, 1, 1), 0x1fff)?.asid).toBe(1);
    expect(tlb.lookup(iotlbTag(0, 1, 2), 0x1fff)?.asid).toBe(2);
    expect(tlb.lookup(iotlbTag(0, 1, 1), 0x3f_ffff)?.size).toBe(0x20_0000);
    expect(tlb.lookup(iotlbTag(0, 1, 3), 0x1000)).toBeUndefined();
    expect(tlb.lookup(iotlbTag(0, 2, 0), 0x1000)).toBeUndefined();
    expect(tlb.hits).toBe(3);
    expect(tlb.misses).toBe(2);
  });

  it('invalidation by VA removes every entry covering the address, only where the tag matches', () => {
    const tlb = new Iotlb();
    tlb.insert(1, entry(0x20_0000, 0x20_0000, 1, 0, 1));
    tlb.insert(1, entry(0x20_1000, 0x1000, 1, 0, 1));
    tlb.insert(2, entry(0x20_1000, 0x1000, 2, 0, 1));
    expect(tlb.invalidateVa(0x20_1000, (e) => e.asid === 1)).toBe(2);
    expect(tlb.size).toBe(1);
    expect(tlb.invalidate((e) => e.asid === 2)).toBe(1);
    expect(tlb.size).toBe(0);
    tlb.insert(1, entry(0, 0x1000, 1, 0, 1));
    tlb.invalidateAll();
    expect(tlb.lookup(1, 0)).toBeUndefined();
  });
});
