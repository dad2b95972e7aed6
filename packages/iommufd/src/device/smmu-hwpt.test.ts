import { IommuGroup, iova, PhysicalMemory, physAddr, swMsiRegion } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { ArmLpaeDomain, TablePageAllocator } from '@vfiokit/smmu';
import { describe, expect, it } from 'vitest';
import { testContext } from '../test-support/fixture.js';
import {
  IOMMU_IOAS_MAP_FIXED_IOVA as FIXED,
  IOMMU_IOAS_MAP_READABLE as R,
  IOMMU_IOAS_MAP_WRITEABLE as W,
} from '../uapi/constants.js';

// IOMMU_HWPT_ALLOC over @vfiokit/smmu's io-pgtable-arm domains: the IOAS is mirrored into real
// LPAE descriptors in memory, the aperture (ias) and the SW MSI window are reserved, and a
// 64K-granule domain cannot back an IOAS on a 4K-page kernel (iopt_table_add_domain EINVAL).

function smmuGroup(pgsizeBitmap?: number) {
  const memory = new PhysicalMemory();
  const allocator = new TablePageAllocator({ memory, base: physAddr(0x9000_0000), size: 0x40_0000 });
  const group = new IommuGroup({
    id: 9,
    allocateDomain: () =>
      new ArmLpaeDomain({ allocator, ias: 40, ...(pgsizeBitmap === undefined ? {} : { pgsizeBitmap }) }),
    reservedRegions: () => [swMsiRegion()],
  });
  group.addDevice({ device: 'dma', streamIds: [0x42] });
  return group;
}

describe('HWPTs over ArmLpaeDomain', () => {
  it('mirrors IOMMU_IOAS_MAP/UNMAP into LPAE descriptors the SMMU would walk', () => {
    const group = smmuGroup();
    const ctx = testContext();
    const ioas = ctx.ioasAlloc();
    const idev = ctx.deviceBind({ group, device: 'dma' });
    const hwpt = ctx.hwptAlloc({ dev_id: idev.id, pt_id: ioas });
    ctx.deviceAttach(idev, hwpt);
    ctx.ioasMap({
      flags: R | W | FIXED,
      ioas_id: ioas,
      user_va: 0x10_0000,
      length: 0x3000,
      iova: 0x1000_0000,
    });
    expect(group.currentDomain.translate(iova(0x1000_2abc), 'write')).toBe(0x8000_2abc);
    expect(ctx.ioasIovaRanges({ ioas_id: ioas }).ranges).toEqual([
      { start: 0n, last: 0x7ff_ffffn },
      { start: 0x810_0000n, last: (1n << 40n) - 1n },
    ]);
    ctx.ioasUnmap({ ioas_id: ioas, iova: 0x1000_0000, length: 0x3000 });
    expect(group.currentDomain.translate(iova(0x1000_2abc), 'write')).toMatchObject({ kind: 'translation' });
  });

  it('a 64K-granule domain is EINVAL on the 4K-page kernel (io_pagetable.c:1070)', () => {
    const group = smmuGroup(0x1_0000 | 0x2000_0000);
    const ctx = testContext();
    const ioas = ctx.ioasAlloc();
    const idev = ctx.deviceBind({ group, device: 'dma' });
    expect(thrownErrno(() => ctx.hwptAlloc({ dev_id: idev.id, pt_id: ioas }))).toBe('EINVAL');
  });

  it('IOMMU_DESTROY of a HWPT frees its domain (__iommufd_hwpt_destroy → iommu_domain_free): no table page is left', () => {
    const memory = new PhysicalMemory();
    const allocator = new TablePageAllocator({ memory, base: physAddr(0x9000_0000), size: 0x40_0000 });
    const domains: ArmLpaeDomain[] = [];
    const group = new IommuGroup({
      id: 9,
      allocateDomain: () => {
        const domain = new ArmLpaeDomain({ allocator, ias: 40 });
        domains.push(domain);
        return domain;
      },
    });
    group.addDevice({ device: 'dma', streamIds: [0x42] });
    const ctx = testContext();
    const ioas = ctx.ioasAlloc();
    const idev = ctx.deviceBind({ group, device: 'dma' });
    for (let cycle = 0; cycle < 3; cycle++) {
      const hwpt = ctx.hwptAlloc({ dev_id: idev.id, pt_id: ioas });
      ctx.deviceAttach(idev, hwpt);
      ctx.ioasMap({
        flags: R | W | FIXED,
        ioas_id: ioas,
        user_va: 0x10_0000,
        length: 0x1000,
        iova: 0x1000_0000,
      });
      ctx.ioasUnmap({ ioas_id: ioas, iova: 0x1000_0000, length: 0x1000 });
      ctx.deviceDetach(idev);
      ctx.destroy(hwpt);
      expect(allocator.liveAllocations, `cycle ${cycle}`).toBe(0);
    }
    expect(domains).toHaveLength(3);
  });
});
