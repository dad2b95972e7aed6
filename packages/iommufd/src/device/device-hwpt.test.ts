import { IdentityDomain, iova as toIova } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { IommufdContext } from '../context.js';
import { testContext, testGroup, testTask } from '../test-support/fixture.js';
import {
  IOMMU_IOAS_MAP_FIXED_IOVA as FIXED,
  IOMMU_HW_INFO_TYPE_NONE,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_DATA_VTD_S1,
  IOMMU_IOAS_MAP_READABLE as R,
  IOMMU_IOAS_MAP_WRITEABLE as W,
} from '../uapi/constants.js';

// drivers/iommu/iommufd/device.c and hw_pagetable.c (Linux 6.12): bind, attach, HWPT_ALLOC,
// GET_HW_INFO and IOMMU_DESTROY's refcount rules.

describe('iommufd_device_bind', () => {
  it('device.c:174 a device whose IOMMU is not cache coherent is EINVAL', () => {
    const ctx = testContext();
    expect(
      thrownErrno(() => ctx.deviceBind({ group: testGroup({ cacheCoherent: false }), device: 'dev0' })),
    ).toBe('EINVAL');
  });
  it('device.c:72 no IOMMU group is ENODEV', () => {
    expect(thrownErrno(() => testContext().deviceBind({ group: null, device: 'dev0' }))).toBe('ENODEV');
  });
  it('device.c:189 MSIs that are not isolated are EPERM unless allow_unsafe_interrupts', () => {
    const strict = new IommufdContext({ task: testTask() });
    expect(thrownErrno(() => strict.deviceBind({ group: testGroup(), device: 'dev0' }))).toBe('EPERM');
    expect(strict.deviceBind({ group: testGroup(), device: 'dev0', isolatedMsi: true }).id).toBe(1);
  });
  it('iommu_device_claim_dma_owner: a group a host driver uses is EPERM, one another context owns is EPERM', () => {
    const group = testGroup();
    group.deviceUseDefaultDomain('dev0');
    expect(thrownErrno(() => testContext().deviceBind({ group, device: 'dev0' }))).toBe('EPERM');
    group.deviceUnuseDefaultDomain('dev0');
    testContext().deviceBind({ group, device: 'dev0' });
    expect(thrownErrno(() => testContext().deviceBind({ group, device: 'dev0' }))).toBe('EPERM');
  });
  it('the group moves to its blocking domain at bind and back to its default domain at unbind', () => {
    const group = testGroup();
    const ctx = testContext();
    const idev = ctx.deviceBind({ group, device: 'dev0' });
    expect(group.currentDomain.type).toBe('blocked');
    ctx.deviceUnbind(idev);
    expect(group.currentDomain).toBeInstanceOf(IdentityDomain);
    expect(group.owner).toBeNull();
  });
  it('rejects unknown bind options with EINVAL', () => {
    expect(
      thrownErrno(() => testContext().deviceBind({ group: testGroup(), device: 'dev0', typo: 1 } as never)),
    ).toBe('EINVAL');
  });
});

describe('iommufd_device_attach', () => {
  it('to an IOAS: an auto domain HWPT is allocated and attached, and goes away at detach', () => {
    const group = testGroup();
    const ctx = testContext();
    const ioas = ctx.ioasAlloc();
    const idev = ctx.deviceBind({ group, device: 'dev0' });
    const hwpt = ctx.deviceAttach(idev, ioas);
    expect(ctx.object(hwpt).type).toBe('hwpt_paging');
    expect(group.domain).toBe(group.domains[0]);
    ctx.deviceDetach(idev);
    expect(thrownErrno(() => ctx.object(hwpt))).toBe('ENOENT');
    expect(group.currentDomain.type).toBe('blocked');
  });
  it('a second device of the group reuses the auto domain', () => {
    const group = testGroup({ devices: ['a', 'b'] });
    const ctx = testContext();
    const ioas = ctx.ioasAlloc();
    const a = ctx.deviceBind({ group, device: 'a' });
    const b = ctx.deviceBind({ group, device: 'b' });
    expect(ctx.deviceAttach(b, ioas)).toBe(ctx.deviceAttach(a, ioas));
    expect(group.domains).toHaveLength(1);
  });
  it('device.c:490 a group on one HWPT cannot take another (EINVAL); device.c:786 a device id is no pagetable (EINVAL)', () => {
    const group = testGroup({ devices: ['a', 'b'] });
    const ctx = testContext();
    const ioas = ctx.ioasAlloc();
    const a = ctx.deviceBind({ group, device: 'a' });
    const b = ctx.deviceBind({ group, device: 'b' });
    ctx.deviceAttach(a, ioas);
    const other = ctx.hwptAlloc({ dev_id: b.id, pt_id: ioas });
    expect(thrownErrno(() => ctx.deviceAttach(b, other))).toBe('EINVAL');
    expect(thrownErrno(() => ctx.deviceAttach(b, a.id))).toBe('EINVAL');
    expect(thrownErrno(() => ctx.deviceAttach(b, 77))).toBe('ENOENT');
  });
  it('DMA reaches exactly what the IOAS maps, through the group domain', () => {
    const group = testGroup();
    const ctx = testContext();
    const ioas = ctx.ioasAlloc();
    ctx.ioasMap({
      flags: R | W | FIXED,
      ioas_id: ioas,
      user_va: 0x10_0000,
      length: 0x2000,
      iova: 0x4000_0000,
    });
    ctx.deviceAttach(ctx.deviceBind({ group, device: 'dev0' }), ioas);
    const domain = group.currentDomain;
    expect(domain.translate(toIova(0x4000_1008), 'write')).toBe(0x8000_1008);
    expect(domain.translate(toIova(0x4000_2000), 'read')).toMatchObject({ kind: 'translation' });
    ctx.ioasUnmap({ ioas_id: ioas, iova: 0x4000_0000, length: 0x2000 });
    expect(domain.translate(toIova(0x4000_1008), 'write')).toMatchObject({ kind: 'translation' });
  });
});

describe('IOMMU_HWPT_ALLOC', () => {
  function bound() {
    const group = testGroup();
    const ctx = testContext();
    const ioas = ctx.ioasAlloc();
    const idev = ctx.deviceBind({ group, device: 'dev0' });
    return { group, ctx, ioas, idev };
  }
  it('hw_pagetable.c:282 __reserved is EOPNOTSUPP; hw_pagetable.c:285 data_type/data_len disagreeing is EINVAL', () => {
    const { ctx, ioas, idev } = bound();
    expect(thrownErrno(() => ctx.hwptAlloc({ dev_id: idev.id, pt_id: ioas, __reserved: 1 }))).toBe(
      'EOPNOTSUPP',
    );
    expect(thrownErrno(() => ctx.hwptAlloc({ dev_id: idev.id, pt_id: ioas, data_len: 8 }))).toBe('EINVAL');
    expect(
      thrownErrno(() => ctx.hwptAlloc({ dev_id: idev.id, pt_id: ioas, data_type: IOMMU_HWPT_DATA_VTD_S1 })),
    ).toBe('EINVAL');
  });
  it('no device is ENOENT; a pt_id that is no object, or the device itself, is EINVAL', () => {
    const { ctx, ioas, idev } = bound();
    expect(thrownErrno(() => ctx.hwptAlloc({ dev_id: 42, pt_id: ioas }))).toBe('ENOENT');
    expect(thrownErrno(() => ctx.hwptAlloc({ dev_id: idev.id, pt_id: 42 }))).toBe('EINVAL');
    expect(thrownErrno(() => ctx.hwptAlloc({ dev_id: idev.id, pt_id: idev.id }))).toBe('EINVAL');
  });
  it('flags need domain_alloc_user, which the modelled domains lack: EOPNOTSUPP', () => {
    const { ctx, ioas, idev } = bound();
    expect(
      thrownErrno(() =>
        ctx.hwptAlloc({ dev_id: idev.id, pt_id: ioas, flags: IOMMU_HWPT_ALLOC_DIRTY_TRACKING }),
      ),
    ).toBe('EOPNOTSUPP');
  });
  it('a HWPT on an IOAS mirrors its mappings at once and holds the IOAS (IOMMU_DESTROY of the IOAS is EBUSY)', () => {
    const { group, ctx, ioas, idev } = bound();
    ctx.ioasMap({ flags: R | FIXED, ioas_id: ioas, user_va: 0x10_0000, length: 0x1000, iova: 0x10_0000 });
    const hwpt = ctx.hwptAlloc({ dev_id: idev.id, pt_id: ioas });
    expect(group.domains[0]?.translate(toIova(0x10_0000), 'read')).toBe(0x8000_0000);
    expect(ctx.pinnedPages()).toBe(1);
    expect(thrownErrno(() => ctx.destroy(ioas))).toBe('EBUSY');
    ctx.deviceAttach(idev, hwpt);
    expect(thrownErrno(() => ctx.destroy(hwpt))).toBe('EBUSY');
    ctx.deviceDetach(idev);
    ctx.destroy(hwpt);
    expect(ctx.pinnedPages()).toBe(0);
    ctx.destroy(ioas);
  });
  it('io_pagetable.c:1070 a domain whose smallest page is above PAGE_SIZE is EINVAL, and nothing is left behind', () => {
    const group = testGroup({ pgsizeBitmap: 0x1_0000 });
    const ctx = testContext();
    const ioas = ctx.ioasAlloc();
    const idev = ctx.deviceBind({ group, device: 'dev0' });
    expect(thrownErrno(() => ctx.hwptAlloc({ dev_id: idev.id, pt_id: ioas }))).toBe('EINVAL');
    expect(ctx.objectIds()).toEqual([ioas, idev.id]);
    ctx.destroy(ioas);
  });
  it('io_pagetable.c:1025 an existing byte-granular mapping blocks a 4K domain (EADDRINUSE)', () => {
    const { ctx, ioas, idev } = bound();
    ctx.ioasMap({ flags: R | FIXED, ioas_id: ioas, user_va: 0x10_0000, length: 0x800, iova: 0x10_0000 });
    expect(thrownErrno(() => ctx.hwptAlloc({ dev_id: idev.id, pt_id: ioas }))).toBe('EADDRINUSE');
  });
});

describe('IOMMU_GET_HW_INFO', () => {
  it('device.c:1322 flags or __reserved are EOPNOTSUPP; no device is ENOENT; the Arm SMMUs of 6.12 report type NONE', () => {
    const ctx = testContext();
    const idev = ctx.deviceBind({ group: testGroup(), device: 'dev0' });
    expect(thrownErrno(() => ctx.getHwInfo({ dev_id: idev.id, flags: 1 }))).toBe('EOPNOTSUPP');
    expect(thrownErrno(() => ctx.getHwInfo({ dev_id: 9 }))).toBe('ENOENT');
    expect(ctx.getHwInfo({ dev_id: idev.id, data_len: 16, data_uptr: 0x10_0000 })).toEqual({
      data_len: 0,
      out_data_type: IOMMU_HW_INFO_TYPE_NONE,
      out_capabilities: 0n,
      out_max_pasid_log2: 0,
    });
  });
  it('device.c:1362 a user buffer that cannot be cleared is EFAULT', () => {
    const ctx = testContext();
    const idev = ctx.deviceBind({ group: testGroup(), device: 'dev0' });
    expect(thrownErrno(() => ctx.getHwInfo({ dev_id: idev.id, data_len: 16, data_uptr: 0x9000_0000 }))).toBe(
      'EFAULT',
    );
  });
});

describe('IOMMU_DESTROY and close', () => {
  it('main.c:140 no object is ENOENT; a bound device is always EBUSY (its driver holds it)', () => {
    const ctx = testContext();
    expect(thrownErrno(() => ctx.destroy(1))).toBe('ENOENT');
    const idev = ctx.deviceBind({ group: testGroup(), device: 'dev0' });
    expect(thrownErrno(() => ctx.destroy(idev.id))).toBe('EBUSY');
  });
  it('close with a bound device keeps the file until the device unbinds; then every object goes and every pin is released', () => {
    const task = testTask();
    const ctx = testContext(task);
    const group = testGroup();
    const ioas = ctx.ioasAlloc();
    ctx.ioasMap({ flags: R | W, ioas_id: ioas, user_va: 0x10_0000, length: 0x3000 });
    const idev = ctx.deviceBind({ group, device: 'dev0' });
    ctx.deviceAttach(idev, ioas);
    expect(task.user.lockedVm).toBe(3);
    ctx.close();
    expect(ctx.released).toBe(false);
    expect(thrownErrno(() => ctx.ioasAlloc())).toBe('EBADF');
    ctx.deviceDetach(idev);
    ctx.deviceUnbind(idev);
    expect(ctx.released).toBe(true);
    expect(ctx.leaked).toEqual([]);
    expect(task.user.lockedVm).toBe(0);
    expect(task.mm.pinnedVm).toBe(0);
  });
});

describe('iommufd_device_replace', () => {
  it('moves an attached device to another IOAS (a new auto domain; the old one goes); unattached is EINVAL', () => {
    const group = testGroup();
    const ctx = testContext();
    const a = ctx.ioasAlloc();
    const b = ctx.ioasAlloc();
    const idev = ctx.deviceBind({ group, device: 'dev0' });
    expect(thrownErrno(() => ctx.deviceReplace(idev, a))).toBe('EINVAL');
    const first = ctx.deviceAttach(idev, a);
    expect(ctx.deviceReplace(idev, a)).toBe(first);
    const second = ctx.deviceReplace(idev, b);
    expect(second).not.toBe(first); // allocated while the old auto domain still held its id
    expect(thrownErrno(() => ctx.object(first))).toBe('ENOENT');
    expect(group.domain).toBe(group.domains[1]);
    ctx.deviceDetach(idev);
    ctx.destroy(a);
    ctx.destroy(b);
  });
});
