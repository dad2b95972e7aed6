import { readFileSync } from 'node:fs';
import { IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_WRITE, MSI_IOVA_BASE, MSI_IOVA_LENGTH } from '@vfiokit/core';
import { parseFdt } from '@vfiokit/devicetree';
import { describe, expect, it } from 'vitest';
import type { ArmSmmuV2 } from '../hw/smmu-v2.js';
import * as R from '../hw/smmu-v2-regs.js';
import { bootSmmus, partition } from './test-support.js';
import { masterName, type TestIommu, type TestMaster, testTree } from './test-trees.js';

const fixture = (name: string) =>
  parseFdt(
    new Uint8Array(readFileSync(new URL(`../../../../../shared/fixtures/dtb/${name}`, import.meta.url))),
  );

const mmu500: TestIommu = { label: 'smmu', compatible: ['arm,mmu-500'], cells: 1, address: 0x1000_0000 };
const mmu500x2: TestIommu = { ...mmu500, cells: 2 };
const v3: TestIommu = { label: 'smmu', compatible: ['arm,smmu-v3'], cells: 1, address: 0x1000_0000 };

const m = (address: number, ...iommus: (readonly [string, ...number[]])[]): TestMaster => ({
  address,
  iommus,
});

describe('IOMMU groups on the shared fixtures', () => {
  it('Juno r2: the PL330 has one group for its nine stream IDs, the two USB hosts share stream 0 (arm_smmu_device_group)', () => {
    const { smmus } = bootSmmus(fixture('juno-r2.dtb'));
    // iommu@2b400000 is disabled: no device, no instance.
    expect([...smmus.probe.registered.keys()]).toEqual([
      '/iommu@2b500000',
      '/iommu@2b600000',
      '/iommu@7fb00000',
      '/iommu@7fb10000',
      '/iommu@7fb20000',
      '/iommu@7fb30000',
    ]);
    // Ids in SMMU probe order, each SMMU's bus_iommu_probe walking platform then AMBA devices.
    expect(smmus.probe.groups.map((g) => [g.id, g.iommu, g.devices])).toEqual([
      [0, '/iommu@2b600000', ['20070000.etr']],
      [1, '/iommu@7fb00000', ['7ff00000.dma-controller']],
      [2, '/iommu@7fb10000', ['7ff50000.hdlcd']],
      [3, '/iommu@7fb20000', ['7ff60000.hdlcd']],
      [4, '/iommu@7fb30000', ['7ffb0000.usb', '7ffc0000.usb']],
    ]);
    expect(smmus.iommuOf('7ff00000.dma-controller')).toEqual({
      node: '/iommu@7fb00000',
      streamIds: [0, 1, 2, 3, 4, 5, 6, 7, 8],
    });
    // The MMU-401 in front of the PL330 is dma-coherent: coherent table walks.
    expect(smmus.groupOf('7ff00000.dma-controller')?.cacheCoherent('7ff00000.dma-controller')).toBe(true);
    // iommu@7fb10000 is not, and neither is the HDLCD.
    expect(smmus.groupOf('7ff50000.hdlcd')?.cacheCoherent('7ff50000.hdlcd')).toBe(false);
    expect(smmus.groupOf('7ff00000.dma-controller')?.currentDomain.type).toBe('dma');
  });

  it('Juno r2: the PL330 SMMU holds one valid SMR per stream ID, all steered to the default domain bank', () => {
    const { smmus } = bootSmmus(fixture('juno-r2.dtb'));
    const model = smmus.models.get('7fb00000.iommu') as ArmSmmuV2;
    const valid = [...Array(128).keys()]
      .map((i) => ({
        smr: model.read(R.GR0_SMR_BASE + 4 * i, 4),
        s2cr: model.read(R.GR0_S2CR_BASE + 4 * i, 4),
      }))
      .filter(({ smr }) => (smr & R.SMR_VALID) !== 0);
    expect(valid.map(({ smr }) => smr & 0xffff)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const banks = new Set(valid.map(({ s2cr }) => s2cr & 0xff));
    expect(banks.size).toBe(1);
    expect(valid.every(({ s2cr }) => ((s2cr >>> 16) & 3) === R.S2CR_TYPE_TRANS)).toBe(true);
  });

  it('QEMU virt with an SMMUv3: the SMMU probes, but only PCIe sits behind it (iommu-map), so no platform group', () => {
    const { smmus } = bootSmmus(fixture('qemu-virt-gicv3-its-smmuv3.dtb'));
    expect([...smmus.probe.registered.keys()]).toEqual(['/smmuv3@9050000']);
    expect(smmus.probe.groups).toEqual([]);
    expect(smmus.armSmmuV3.instance('/smmuv3@9050000')?.coherent).toBe(true);
  });
});

describe('arm-smmu group formation (arm_smmu_device_group, arm_smmu_find_sme)', () => {
  it.each(['arm,smmu-v1', 'arm,smmu-v2', 'arm,mmu-400', 'arm,mmu-401', 'arm,mmu-500'])(
    '%s binds arm-smmu; masters with the same stream ID share a group, others get one each',
    (compatible) => {
      const masters = [m(0x2000_0000, ['smmu', 1]), m(0x2001_0000, ['smmu', 1]), m(0x2002_0000, ['smmu', 2])];
      const { smmus, core } = bootSmmus(testTree([{ ...mmu500, compatible: [compatible] }], masters));
      expect(core.findDevice('10000000.iommu')?.driverName).toBe('arm-smmu');
      expect(partition(smmus)).toEqual([['20000000.dev', '20010000.dev'], ['20020000.dev']]);
    },
  );

  it('an SMR (ID + mask, #iommu-cells = 2) covering a later master’s ID puts both in one group', () => {
    const masters = [m(0x2000_0000, ['smmu', 0x10, 0xf]), m(0x2001_0000, ['smmu', 0x13, 0])];
    const { smmus } = bootSmmus(testTree([mmu500x2], masters));
    expect(partition(smmus)).toEqual([['20000000.dev', '20010000.dev']]);
  });

  it('the other order is a conflict: a later SMR that only partly overlaps is EINVAL, so that master has no group', () => {
    const masters = [m(0x2000_0000, ['smmu', 0x13, 0]), m(0x2001_0000, ['smmu', 0x10, 0xf])];
    const { smmus } = bootSmmus(testTree([mmu500x2], masters));
    expect(partition(smmus)).toEqual([['20000000.dev']]);
    expect(smmus.probe.outcome('20010000.dev')).toMatchObject({ kind: 'failed', error: { code: 'EINVAL' } });
  });

  it('stream-match-mask on the SMMU node gives one-cell masters a mask (arm_smmu_of_xlate)', () => {
    const masters = [m(0x2000_0000, ['smmu', 0x01]), m(0x2001_0000, ['smmu', 0x11])];
    const { smmus } = bootSmmus(testTree([{ ...mmu500, streamMatchMask: 0xf0 }], masters));
    expect(partition(smmus)).toEqual([['20000000.dev', '20010000.dev']]);
    // Without the property the two IDs are distinct.
    const plain = bootSmmus(testTree([mmu500], masters));
    expect(partition(plain.smmus)).toEqual([['20000000.dev'], ['20010000.dev']]);
  });

  it('a second cell overrides stream-match-mask', () => {
    const masters = [m(0x2000_0000, ['smmu', 0x01, 0]), m(0x2001_0000, ['smmu', 0x11, 0])];
    const { smmus } = bootSmmus(testTree([{ ...mmu500x2, streamMatchMask: 0xf0 }], masters));
    expect(partition(smmus)).toEqual([['20000000.dev'], ['20010000.dev']]);
  });

  it('a master whose IDs lead to two existing groups is EINVAL', () => {
    const masters = [
      m(0x2000_0000, ['smmu', 1]),
      m(0x2001_0000, ['smmu', 2]),
      m(0x2002_0000, ['smmu', 1], ['smmu', 2]),
    ];
    const { smmus } = bootSmmus(testTree([mmu500], masters));
    expect(partition(smmus)).toEqual([['20000000.dev'], ['20010000.dev']]);
    expect(smmus.probe.outcome('20020000.dev')).toMatchObject({ kind: 'failed', error: { code: 'EINVAL' } });
  });

  it('entries [G, none] give a new group that takes over the first entry too (the kernel keeps the last)', () => {
    const masters = [
      m(0x2000_0000, ['smmu', 1]),
      m(0x2001_0000, ['smmu', 1], ['smmu', 2]),
      m(0x2002_0000, ['smmu', 1]),
    ];
    const { smmus } = bootSmmus(testTree([mmu500], masters));
    expect(partition(smmus)).toEqual([['20000000.dev'], ['20010000.dev', '20020000.dev']]);
  });

  it('a stream ID beyond ID0.NUMSIDB is EINVAL ("stream ID out of range for SMMU")', () => {
    const { smmus, log } = bootSmmus(testTree([mmu500], [m(0x2000_0000, ['smmu', 0x8000])]));
    expect(smmus.probe.outcome('20000000.dev')).toMatchObject({ kind: 'failed', error: { code: 'EINVAL' } });
    expect(log.some((line) => line.includes('out of range for SMMU (0x7fff)'))).toBe(true);
  });

  it('IOMMU_CAP_CACHE_COHERENCY: coherent walks, or a dma-coherent master behind a non-coherent SMMU', () => {
    const masters: TestMaster[] = [
      { ...m(0x2000_0000, ['smmu', 1]), dmaCoherent: true },
      m(0x2001_0000, ['smmu', 2]),
    ];
    const { smmus } = bootSmmus(testTree([mmu500], masters));
    expect(smmus.groupOf('20000000.dev')?.cacheCoherent('20000000.dev')).toBe(true);
    expect(smmus.groupOf('20010000.dev')?.cacheCoherent('20010000.dev')).toBe(false);
    const coherent = bootSmmus(testTree([{ ...mmu500, dmaCoherent: true }], masters));
    expect(coherent.smmus.groupOf('20010000.dev')?.cacheCoherent('20010000.dev')).toBe(true);
  });

  it('reserved regions: the software MSI window, IOMMU_RESV_SW_MSI, prot WRITE|NOEXEC|MMIO (arm_smmu_get_resv_regions)', () => {
    const { smmus } = bootSmmus(testTree([mmu500], [m(0x2000_0000, ['smmu', 1])]));
    expect(smmus.groupOf('20000000.dev')?.reservedRegions()).toEqual([
      {
        start: MSI_IOVA_BASE,
        size: MSI_IOVA_LENGTH,
        type: 'sw-msi',
        prot: IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO,
      },
    ]);
    expect([MSI_IOVA_BASE, MSI_IOVA_LENGTH]).toEqual([0x800_0000, 0x10_0000]);
  });
});

describe('arm-smmu-v3 and exynos-sysmmu group formation', () => {
  it('SMMUv3: one group per platform master; a stream ID already in the tree is EINVAL', () => {
    const masters = [
      m(0x2000_0000, ['smmu', 5], ['smmu', 6]),
      m(0x2001_0000, ['smmu', 5]),
      m(0x2002_0000, ['smmu', 7]),
    ];
    const { smmus, core, log } = bootSmmus(testTree([v3], masters));
    expect(core.findDevice('10000000.iommu')?.driverName).toBe('arm-smmu-v3');
    expect(partition(smmus)).toEqual([['20000000.dev'], ['20020000.dev']]);
    expect(smmus.probe.outcome('20010000.dev')).toMatchObject({ kind: 'failed', error: { code: 'EINVAL' } });
    expect(log).toContain('20010000.dev: stream 5 already in tree from dev 20000000.dev');
  });

  it("SMMUv3: a master's own repeated stream ID is skipped (arm_smmu_insert_master: bridged PCI devices)", () => {
    const masters = [m(0x2000_0000, ['smmu', 5], ['smmu', 5]), m(0x2001_0000, ['smmu', 6])];
    const { smmus } = bootSmmus(testTree([v3], masters));
    expect(partition(smmus)).toEqual([['20000000.dev'], ['20010000.dev']]);
  });

  it('SMMUv3 answers IOMMU_CAP_CACHE_COHERENCY from the SMMU only (ARM_SMMU_FEAT_COHERENCY)', () => {
    const masters: TestMaster[] = [{ ...m(0x2000_0000, ['smmu', 1]), dmaCoherent: true }];
    expect(
      bootSmmus(testTree([v3], masters))
        .smmus.groupOf('20000000.dev')
        ?.cacheCoherent('20000000.dev'),
    ).toBe(false);
    const coherent = bootSmmus(testTree([{ ...v3, dmaCoherent: true }], masters));
    expect(coherent.smmus.groupOf('20000000.dev')?.cacheCoherent('20000000.dev')).toBe(true);
  });

  it('Exynos System MMU, #iommu-cells = <0>: one group per master, even for masters sharing a System MMU', () => {
    const sysmmu = (label: string, address: number): TestIommu => ({
      label,
      compatible: ['samsung,exynos-sysmmu'],
      cells: 0,
      address,
    });
    const masters = [m(0x2000_0000, ['a']), m(0x2001_0000, ['a']), m(0x2002_0000, ['a'], ['b'])];
    const { smmus } = bootSmmus(testTree([sysmmu('a', 0x1000_0000), sysmmu('b', 0x1001_0000)], masters));
    expect(partition(smmus)).toEqual([['20000000.dev'], ['20010000.dev'], ['20020000.dev']]);
    expect(smmus.exynos.controllersOf('20020000.dev')).toEqual(['/iommu@10000000', '/iommu@10010000']);
    // exynos_iommu_ops has no .capable: VFIO would refuse these groups.
    expect(smmus.groupOf('20000000.dev')?.cacheCoherent('20000000.dev')).toBe(false);
    expect(() => smmus.groupOf('20000000.dev')?.allocateDomain()).toThrow(/not modelled/);
  });

  it('of_iommu_configure: a disabled IOMMU node means no IOMMU; a node without a driver defers; two drivers are EINVAL', () => {
    const disabled: TestIommu = { ...mmu500, label: 'off', address: 0x1001_0000, status: 'disabled' };
    const unknown: TestIommu = {
      label: 'odd',
      compatible: ['vendor,odd-iommu'],
      cells: 1,
      address: 0x1002_0000,
    };
    const other: TestIommu = { ...v3, label: 'v3', address: 0x1003_0000 };
    const masters = [
      m(0x2000_0000, ['off', 1]),
      m(0x2001_0000, ['odd', 1]),
      m(0x2002_0000, ['smmu', 1], ['v3', 1]),
    ];
    const { smmus } = bootSmmus(testTree([mmu500, disabled, unknown, other], masters));
    expect(smmus.probe.outcome('20000000.dev')).toEqual({ kind: 'no-iommu' });
    expect(smmus.probe.outcome('20010000.dev')).toEqual({ kind: 'deferred', iommu: '/iommu@10020000' });
    expect(smmus.probe.outcome('20020000.dev')).toMatchObject({ kind: 'failed', error: { code: 'EINVAL' } });
  });

  it('two instances of one driver aggregate into one fwspec on the first (iommu_fwspec_init compares ops)', () => {
    const second: TestIommu = { ...mmu500, label: 'smmu2', address: 0x1001_0000 };
    const { smmus } = bootSmmus(testTree([mmu500, second], [m(0x2000_0000, ['smmu', 1], ['smmu2', 2])]));
    expect(smmus.iommuOf('20000000.dev')).toEqual({ node: '/iommu@10000000', streamIds: [1, 2] });
  });

  it('platform masters are probed before AMBA ones, whatever the tree order (iommu_buses[])', () => {
    const masters: TestMaster[] = [
      { ...m(0x2000_0000, ['smmu', 1]), amba: true },
      m(0x2001_0000, ['smmu', 2]),
    ];
    const { smmus } = bootSmmus(testTree([mmu500], masters));
    expect(smmus.probe.groups.map((g) => [g.id, g.devices[0]])).toEqual([
      [0, '20010000.dev'],
      [1, masterName(masters[0]!)],
    ]);
  });
});

describe('the kernel’s unstamped-entry quirk (arm_smmu_device_group returns early)', () => {
  it('[7], [5, 7], [5]: the last master shares entry 5 with the second but gets a group of its own', () => {
    const masters = [
      m(0x2000_0000, ['smmu', 7]),
      m(0x2001_0000, ['smmu', 5], ['smmu', 7]),
      m(0x2002_0000, ['smmu', 5]),
    ];
    const { smmus } = bootSmmus(testTree([mmu500], masters));
    expect(partition(smmus)).toEqual([['20000000.dev', '20010000.dev'], ['20020000.dev']]);
  });
});
