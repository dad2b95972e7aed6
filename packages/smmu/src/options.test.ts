// Every options object of the package refuses keys it does not know (core's rejectUnknownOptions).
import { type PhysAddr, PhysicalMemory } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import {
  ArmLpaeDomain,
  ArmLpaeIoPgtable,
  ArmSmmuV2,
  ArmSmmuV3,
  SmmuDmaPort,
  TablePageAllocator,
} from './index.js';
import { ArmSmmuV2Programmer, ArmSmmuV3Programmer } from './testing/index.js';

function allocator(): TablePageAllocator {
  return new TablePageAllocator({
    memory: new PhysicalMemory(),
    base: 0x8000_0000 as PhysAddr,
    size: 0x10_0000,
  });
}

describe('unknown option keys are EINVAL', () => {
  const memory = new PhysicalMemory();
  const cases: [string, () => unknown][] = [
    [
      'TablePageAllocator',
      () => new TablePageAllocator({ memory, base: 0 as PhysAddr, size: 0x1000, zero: true } as never),
    ],
    ['ArmLpaeIoPgtable', () => new ArmLpaeIoPgtable({ allocator: allocator(), granule: 0x1000 } as never)],
    ['ArmLpaeDomain', () => new ArmLpaeDomain({ allocator: allocator(), stage: 1 } as never)],
    ['ArmSmmuV2', () => new ArmSmmuV2({ memory, banks: 4 } as never)],
    ['ArmSmmuV3', () => new ArmSmmuV3({ memory, sidBits: 8 } as never)],
    [
      'SmmuDmaPort',
      () => new SmmuDmaPort({ smmu: new ArmSmmuV3({ memory }), streamId: 0, memory, sid: 1 } as never),
    ],
    [
      'ArmSmmuV2Programmer',
      () => new ArmSmmuV2Programmer(new ArmSmmuV2({ memory }), { version: 1 } as never),
    ],
    [
      'ArmSmmuV3Programmer',
      () =>
        new ArmSmmuV3Programmer(new ArmSmmuV3({ memory }), { allocator: allocator(), linear: true } as never),
    ],
    [
      'ArmSmmuV2Programmer.flushOps',
      () => new ArmSmmuV2Programmer(new ArmSmmuV2({ memory })).flushOps(0, { skip: true } as never),
    ],
  ];
  it.each(cases)('%s', (_name, make) => {
    expect(thrownErrno(make)).toBe('EINVAL');
  });

  it('bad values are EINVAL too (granule, ias, oas, format, model, counts)', () => {
    expect(thrownErrno(() => new ArmLpaeIoPgtable({ allocator: allocator(), ias: 49 }))).toBe('EINVAL');
    expect(
      thrownErrno(() => new ArmLpaeIoPgtable({ allocator: allocator(), format: 'ARM_32_LPAE_S1' as never })),
    ).toBe('EINVAL');
    expect(thrownErrno(() => new ArmSmmuV2({ memory, model: 'arm,mmu-600' as never }))).toBe('EINVAL');
    expect(thrownErrno(() => new ArmSmmuV2({ memory, streamMatchGroups: 129 }))).toBe('EINVAL');
    expect(thrownErrno(() => new ArmSmmuV3({ memory, streamIdBits: 33 }))).toBe('EINVAL');
    expect(thrownErrno(() => new TablePageAllocator({ memory, base: 0x800 as PhysAddr, size: 0x1000 }))).toBe(
      'EINVAL',
    );
  });
});
