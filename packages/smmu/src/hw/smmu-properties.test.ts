// The hardware path against the reference: random map/unmap sequences through an
// ArmLpaeDomain whose flush ops are the drivers' register/command sequences, with DMA
// through the SMMU models (which cache every walk in their IOTLB) checked page by page
// against FlatIommuDomain, and every fault checked for its record. The planted bug is the
// driver that forgets its leaf TLBI: the property must catch it.
import {
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuFault,
  type Iova,
  isIommuFault,
  type PhysAddr,
  PhysicalMemory,
} from '@vfiokit/core';
import { FlatIommuDomain } from '@vfiokit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArmLpaeDomain, ArmSmmuV2, ArmSmmuV3, TablePageAllocator } from '../index.js';
import { ArmSmmuV2Programmer, ArmSmmuV3Programmer } from '../testing/index.js';
import * as V2 from './smmu-v2-regs.js';
import * as V3 from './smmu-v3-regs.js';

const WINDOW = 1024;
const SID = 5;

type Op =
  | { kind: 'map'; at: number; count: number; block: boolean; pa: number; write: boolean }
  | { kind: 'unmap'; pick: number; count: number }
  | { kind: 'dma'; at: number; write: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('map' as const),
    at: fc.nat(WINDOW - 1),
    count: fc.integer({ min: 1, max: 16 }),
    block: fc.boolean(),
    pa: fc.nat(255),
    write: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('unmap' as const), pick: fc.nat(), count: fc.integer({ min: 1, max: 600 }) }),
  fc.record({ kind: fc.constant('dma' as const), at: fc.nat(WINDOW - 1), write: fc.boolean() }),
);

interface Hardware {
  translate(iova: Iova, write: boolean): PhysAddr | IommuFault;
  /** The fault the hardware recorded since the last call ('translation', 'permission' or none). */
  takeRecordedFault(): string | undefined;
}

function v3Hardware(
  memory: PhysicalMemory,
  allocator: TablePageAllocator,
  omitLeafTlbi: boolean,
  stage: 1 | 2,
  granule: number,
) {
  const smmu = new ArmSmmuV3({ memory });
  const driver = new ArmSmmuV3Programmer(smmu, { allocator });
  driver.reset();
  const domain = new ArmLpaeDomain({
    allocator,
    format: stage === 1 ? 'ARM_64_LPAE_S1' : 'ARM_64_LPAE_S2',
    pgsizeBitmap: granule | 0x20_0000 | 0x4000_0000 | 0x200_0000 | 0x2000_0000,
    flushOps: driver.flushOps(stage, 9, { omitLeafTlbi }),
  });
  if (stage === 1) driver.attachStage1(SID, domain.pgtable, 9);
  else driver.attachStage2(SID, domain.pgtable, 9);
  let irqs = 0;
  smmu.on('evtq-irq', () => irqs++);
  const hardware: Hardware = {
    translate: (iova, write) => smmu.translate(SID, iova, write ? 'write' : 'read'),
    takeRecordedFault: () => {
      const records = driver.readEvents();
      const seen = irqs;
      irqs = 0;
      if (records.length !== seen) return `records ${records.length}, irqs ${seen}`;
      if (records.length === 0) return undefined;
      const id = records[0]?.id;
      return records.length > 1
        ? 'several records'
        : id === V3.EVT_ID_TRANSLATION_FAULT
          ? 'translation'
          : id === V3.EVT_ID_PERMISSION_FAULT
            ? 'permission'
            : `event 0x${String(id?.toString(16))}`;
    },
  };
  return { domain, hardware };
}

function v2Hardware(
  memory: PhysicalMemory,
  allocator: TablePageAllocator,
  omitLeafTlbi: boolean,
  stage: 1 | 2,
  granule: number,
) {
  const smmu = new ArmSmmuV2({ memory });
  const driver = new ArmSmmuV2Programmer(smmu);
  driver.reset();
  const domain = new ArmLpaeDomain({
    allocator,
    format: stage === 1 ? 'ARM_64_LPAE_S1' : 'ARM_64_LPAE_S2',
    pgsizeBitmap: granule | 0x20_0000 | 0x4000_0000 | 0x200_0000 | 0x2000_0000,
    flushOps: driver.flushOps(0, { omitLeafTlbi }),
  });
  driver.attach({ contextBank: 0, smrIndex: 0, streamId: SID, pgtable: domain.pgtable });
  let irqs = 0;
  smmu.on('context-irq', () => irqs++);
  const hardware: Hardware = {
    translate: (iova, write) => smmu.translate(SID, iova, write ? 'write' : 'read'),
    takeRecordedFault: () => {
      const fsr = driver.clearFault(0);
      const seen = irqs;
      irqs = 0;
      if (fsr === 0) return seen === 0 ? undefined : `irqs ${seen} without FSR`;
      if (seen !== 1) return `FSR 0x${fsr.toString(16)} with ${seen} irqs`;
      return fsr === V2.FSR_TF
        ? 'translation'
        : fsr === V2.FSR_PF
          ? 'permission'
          : `FSR 0x${fsr.toString(16)}`;
    },
  };
  return { domain, hardware };
}

type Make = (
  memory: PhysicalMemory,
  allocator: TablePageAllocator,
) => { domain: ArmLpaeDomain; hardware: Hardware };

function run(make: Make, ops: readonly Op[]): void {
  const memory = new PhysicalMemory();
  const allocator = new TablePageAllocator({ memory, base: 0x8000_0000 as PhysAddr, size: 0x200_0000 });
  const { domain, hardware } = make(memory, allocator);
  const G = domain.pgtable.granule;
  // A block (level 2) fits the window only with the 4K granule.
  const BLOCK = G === 0x1000 ? 0x20_0000 : 0;
  const reference = new FlatIommuDomain({ pgsizeBitmap: domain.pgsizeBitmap });
  const mapped = new Set<number>();
  const wrong: string[] = [];
  const check = (page: number, write: boolean): void => {
    if (page < 0 || page >= WINDOW) return;
    const iova = (page * G + 0x40) as Iova;
    const want = reference.translate(iova, write ? 'write' : 'read');
    const got = hardware.translate(iova, write);
    const recorded = hardware.takeRecordedFault();
    const show = (r: PhysAddr | IommuFault) => (isIommuFault(r) ? r.kind : `0x${r.toString(16)}`);
    if (show(got) !== show(want))
      wrong.push(`page ${page} ${write ? 'write' : 'read'}: ${show(got)}, reference ${show(want)}`);
    const wantRecord = isIommuFault(want) ? want.kind : undefined;
    if (recorded !== wantRecord)
      wrong.push(`page ${page}: recorded ${String(recorded)}, expected ${String(wantRecord)}`);
  };
  for (const op of ops) {
    if (op.kind === 'map') {
      const block = op.block && BLOCK !== 0;
      const iova = block ? Math.floor(op.at / 512) * BLOCK : op.at * G;
      const size = block ? BLOCK : op.count * G;
      const pa = 0x1_0000_0000 + op.pa * (block ? BLOCK : G);
      let free = iova + size <= WINDOW * G;
      for (let p = iova / G; free && p < (iova + size) / G; p++) free = !mapped.has(p);
      if (!free) continue;
      const prot = IOMMU_READ | (op.write ? IOMMU_WRITE : 0);
      reference.map(iova as Iova, pa as PhysAddr, size, prot);
      domain.map(iova as Iova, pa as PhysAddr, size, prot);
      for (let p = iova / G; p < (iova + size) / G; p++) mapped.add(p);
      check(iova / G, true);
    } else if (op.kind === 'unmap') {
      if (mapped.size === 0) continue;
      const sorted = [...mapped].sort((a, b) => a - b);
      const first = sorted[op.pick % sorted.length] ?? 0;
      let count = 0;
      while (count < op.count && mapped.has(first + count)) count++;
      reference.unmap((first * G) as Iova, count * G);
      domain.unmap((first * G) as Iova, count * G);
      for (let p = first; p < first + count; p++) mapped.delete(p);
      // The pages just unmapped, and their neighbours (still cached from earlier DMA).
      for (const p of [first - 1, first, first + count - 1, first + count]) {
        check(p, false);
        check(p, true);
      }
    } else {
      check(op.at, op.write);
      check(op.at, op.write); // Again: now from the IOTLB.
    }
  }
  for (let page = 0; page < WINDOW; page += 7) check(page, false);
  expect(wrong.slice(0, 4)).toEqual([]);
}

// A planted bug must fail an assertion of the property, not crash it.
function failsByAssertion(details: fc.RunDetails<[Op[]]>): boolean {
  const error = details.errorInstance;
  return details.failed && error instanceof Error && error.name === 'AssertionError';
}

const property = (make: Make) =>
  fc.property(fc.array(opArb, { minLength: 1, maxLength: 50 }), (ops) => run(make, ops));

describe('SMMU hardware translations match the reference after any map/unmap sequence', () => {
  it.each([
    ['SMMUv3, stage 1, 4K', 1, 0x1000, 60],
    ['SMMUv3, stage 2, 4K', 2, 0x1000, 30],
    ['SMMUv3, stage 1, 64K', 1, 0x1_0000, 15],
  ] as const)(
    '%s: every DMA reaches what the reference says, or faults with one event record',
    (_n, stage, granule, numRuns) => {
      fc.assert(
        property((m, a) => v3Hardware(m, a, false, stage, granule)),
        { numRuns },
      );
    },
    60_000,
  );

  it.each([
    ['SMMUv2, stage 1, 4K', 1, 0x1000, 60],
    ['SMMUv2, stage 2, 4K', 2, 0x1000, 30],
    ['SMMUv2, stage 1, 16K', 1, 0x4000, 15],
  ] as const)(
    '%s: every DMA reaches what the reference says, or faults with FSR and one context IRQ',
    (_n, stage, granule, numRuns) => {
      fc.assert(
        property((m, a) => v2Hardware(m, a, false, stage, granule)),
        { numRuns },
      );
    },
    60_000,
  );
});

describe('the hardware property fails on a driver that forgets its leaf TLBI (stale IOTLB)', () => {
  it('SMMUv3 without CMD_TLBI_NH_VA', () => {
    expect(
      failsByAssertion(
        fc.check(
          property((m, a) => v3Hardware(m, a, true, 1, 0x1000)),
          { numRuns: 200 },
        ),
      ),
    ).toBe(true);
  }, 60_000);

  it('SMMUv3 stage 2 without CMD_TLBI_S2_IPA', () => {
    expect(
      failsByAssertion(
        fc.check(
          property((m, a) => v3Hardware(m, a, true, 2, 0x1000)),
          { numRuns: 200 },
        ),
      ),
    ).toBe(true);
  }, 60_000);

  it('SMMUv2 without TLBIVAL', () => {
    expect(
      failsByAssertion(
        fc.check(
          property((m, a) => v2Hardware(m, a, true, 1, 0x1000)),
          { numRuns: 200 },
        ),
      ),
    ).toBe(true);
  }, 60_000);

  it('SMMUv2 stage 2 without TLBIIPAS2L', () => {
    expect(
      failsByAssertion(
        fc.check(
          property((m, a) => v2Hardware(m, a, true, 2, 0x1000)),
          { numRuns: 200 },
        ),
      ),
    ).toBe(true);
  }, 60_000);
});
