import { IommuDmaOwnership, IommuGroupIda, KernelError } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { ArmSmmuStreamMap } from './arm-smmu-stream-map.js';
import { IommuProbe } from './iommu-probe.js';
import { bootSmmus } from './test-support.js';
import { testTree } from './test-trees.js';

const FAULT = 2;
const fwid = (id: number, mask = 0) => ((mask << 16) | id) >>> 0;

describe('ArmSmmuStreamMap (arm_smmu_find_sme / alloc_smes / free_sme)', () => {
  it('reuses an entry that already matches all of a new (id, mask), counting one more master', () => {
    const map = new ArmSmmuStreamMap<string>(4, FAULT);
    expect(map.allocSmes([fwid(0x10, 0xf)])).toEqual([0]);
    expect(map.allocSmes([fwid(0x13)])).toEqual([0]);
    expect(map.allocSmes([fwid(0x10, 0x3)])).toEqual([0]);
    expect(map.s2crs[0]?.count).toBe(3);
    expect(map.smrs[0]).toEqual({ id: 0x10, mask: 0xf, valid: true });
  });

  it('a partial overlap is EINVAL and takes nothing; disjoint entries take the first free slot', () => {
    const map = new ArmSmmuStreamMap<string>(2, FAULT);
    map.allocSmes([fwid(0x13)]);
    expect(() => map.allocSmes([fwid(0x10, 0xf)])).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(map.allocSmes([fwid(0x20)])).toEqual([1]);
    expect(() => map.allocSmes([fwid(0x30)])).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
  });

  it('all or nothing: a master whose second ID fails gives the first entry back', () => {
    const map = new ArmSmmuStreamMap<string>(4, FAULT);
    map.allocSmes([fwid(0x13)]);
    expect(() => map.allocSmes([fwid(0x40), fwid(0x10, 0xf)])).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(map.smrs.filter((s) => s.valid)).toHaveLength(1);
  });

  it('the last master out resets the S2CR (group forgotten) and invalidates the SMR', () => {
    const map = new ArmSmmuStreamMap<string>(2, FAULT);
    const a = map.allocSmes([fwid(1)]);
    map.allocSmes([fwid(1)]);
    expect(map.deviceGroup(a, () => 'G')).toBe('G');
    expect(map.freeSme(0)).toBe(false);
    expect(map.s2crs[0]?.group).toBe('G');
    expect(map.freeSme(0)).toBe(true);
    expect(map.s2crs[0]).toEqual({ count: 0, group: null, type: FAULT, cbndx: 0 });
    expect(map.smrs[0]?.valid).toBe(false);
  });

  it('deviceGroup shares the group behind an entry (the sharing that groups rest on)', () => {
    const map = new ArmSmmuStreamMap<string>(4, FAULT);
    const first = map.allocSmes([fwid(5)]);
    expect(map.deviceGroup(first, () => 'A')).toBe('A');
    const second = map.allocSmes([fwid(5)]);
    expect(map.deviceGroup(second, () => 'B')).toBe('A');
  });
});

describe('IommuProbe', () => {
  it('release takes the master out of its group and gives the id back to the IDA with the last member', () => {
    const tree = testTree(
      [{ label: 'smmu', compatible: ['arm,mmu-500'], cells: 1, address: 0x1000_0000 }],
      [
        { address: 0x2000_0000, iommus: [['smmu', 1]] },
        { address: 0x2001_0000, iommus: [['smmu', 1]] },
      ],
    );
    const { smmus, ids } = bootSmmus(tree);
    const [a, b] = smmus.masters.filter((m) => m.name.endsWith('.dev'));
    const group = smmus.groupOf(a!.name)!;
    smmus.probe.release(a!);
    expect(group.devices).toEqual([b!.name]);
    expect(ids.has(group.id)).toBe(true);
    smmus.probe.release(b!);
    expect(ids.has(group.id)).toBe(false);
    expect(smmus.probe.groups).toEqual([]);
    // Probed again: the stream map entry was freed, so a fresh group takes the lowest id.
    smmus.probe.probe(a!);
    expect(smmus.groupOf(a!.name)?.id).toBe(0);
  });

  it('registering one IOMMU node twice is EEXIST; unknown options are EINVAL', () => {
    const probe = new IommuProbe({
      groupIds: new IommuGroupIda(),
      ownership: new IommuDmaOwnership(),
      masters: () => [],
    });
    const ops = {
      name: 'x',
      ofXlate: () => undefined,
      probeDevice: () => {
        throw new KernelError('ENODEV', 'not probed in this test');
      },
      releaseDevice: () => undefined,
      cacheCoherent: () => false,
      reservedRegions: () => [],
    };
    probe.register('/iommu', ops);
    expect(() => probe.register('/iommu', ops)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(
      () =>
        new IommuProbe({
          groupIds: new IommuGroupIda(),
          ownership: new IommuDmaOwnership(),
          masters: () => [],
          extra: 1,
        } as never),
    ).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});
