import { EventFd, physAddr } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { VfioGroupHandle } from '../api/group-handle.js';
import { GUEST_RAM_VADDR, type Type1Fixture, type1Fixture } from '../test-support/type1-fixture.js';
import { countingDeviceOps } from '../testing/counting-device.js';
import { testIommuGroup } from '../testing/test-group.js';
import { VFIO_DMA_MAP_FLAG_VADDR, VFIO_DMA_UNMAP_FLAG_VADDR } from '../uapi/flags.js';
import { VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA } from '../uapi/ioctls.js';
import { vfioIommuType1DmaMap, vfioIommuType1DmaUnmap } from '../uapi/structs-iommu.js';
import { UserProcess } from '../user/process.js';

// VFIO_DMA_UNMAP_FLAG_VADDR / VFIO_DMA_MAP_FLAG_VADDR (live update) in vfio_dma_do_unmap,
// vfio_dma_do_map and vfio_change_dma_owner (drivers/vfio/vfio_iommu_type1.c).

function invalidate(f: Type1Fixture, iova: number, size: number): void {
  const bytes = vfioIommuType1DmaUnmap.encode({ argsz: 24, flags: VFIO_DMA_UNMAP_FLAG_VADDR, iova, size });
  f.process.ioctl(f.container.fd, VFIO_IOMMU_UNMAP_DMA, bytes);
}

function update(f: Type1Fixture, caller: UserProcess, vaddr: number, iova: number, size: number): number {
  const file = f.process.fdget(f.container.fd);
  if (file instanceof EventFd) throw new TypeError('the container fd is an eventfd');
  const bytes = vfioIommuType1DmaMap.encode({ argsz: 32, flags: VFIO_DMA_MAP_FLAG_VADDR, vaddr, iova, size });
  return file.ioctl(caller, VFIO_IOMMU_MAP_DMA, bytes);
}

// A second IOMMU group joining the container: vfio_iommu_type1_attach_group is EBUSY while
// any vaddr is invalid (`iommu->vaddr_invalid_count`).
function attachSecondGroup(f: Type1Fixture): string | undefined {
  const iommuGroup = testIommuGroup({ id: 6, devices: [{ name: 'dev1', streamIds: [4] }] });
  f.vfio.registerGroupDevice({ name: 'dev1', ops: countingDeviceOps(), iommuGroup });
  return thrownErrno(() => VfioGroupHandle.open(f.process, 6).setContainer(f.container));
}

describe('vaddr_invalid_count (vfio_iommu_type1_attach_group EBUSY)', () => {
  it('an invalidated vaddr blocks attaching a group; restoring it unblocks', () => {
    const f = type1Fixture();
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 0x4000_0000, size: 0x4000 });
    invalidate(f, 0x4000_0000, 0x4000);
    update(f, f.process, GUEST_RAM_VADDR + 0x10_0000, 0x4000_0000, 0x4000);
    expect(attachSecondGroup(f)).toBeUndefined();
  });

  it('unmapping an invalidated mapping drops it from the count (vfio_remove_dma)', () => {
    const f = type1Fixture();
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 0x4000_0000, size: 0x4000 });
    invalidate(f, 0x4000_0000, 0x4000);
    expect(f.container.unmapDma({ iova: 0x4000_0000, size: 0x4000 })).toBe(0x4000n);
    expect(attachSecondGroup(f)).toBeUndefined();
  });

  it('still EBUSY while one is invalid', () => {
    const f = type1Fixture();
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 0x4000_0000, size: 0x4000 });
    invalidate(f, 0x4000_0000, 0x4000);
    expect(attachSecondGroup(f)).toBe('EBUSY');
  });
});

describe('MAP_DMA VADDR update (vfio_dma_do_map)', () => {
  it('EINVAL unless the range is exactly the invalidated mapping: another start or size', () => {
    const f = type1Fixture();
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 0x4000_0000, size: 0x4000 });
    invalidate(f, 0x4000_0000, 0x4000);
    expect(thrownErrno(() => update(f, f.process, GUEST_RAM_VADDR, 0x4000_1000, 0x3000))).toBe('EINVAL');
    expect(thrownErrno(() => update(f, f.process, GUEST_RAM_VADDR, 0x4000_1000, 0x4000))).toBe('EINVAL');
    expect(thrownErrno(() => update(f, f.process, GUEST_RAM_VADDR, 0x4000_0000, 0x8000))).toBe('EINVAL');
    expect(update(f, f.process, GUEST_RAM_VADDR, 0x4000_0000, 0x4000)).toBe(0);
  });

  it('the same mm updating its own mapping is not charged again, even at its RLIMIT_MEMLOCK', () => {
    // vfio_change_dma_owner: `if (mm == dma->mm) return 0;`
    const f = type1Fixture({ rlimitMemlock: 0x4000 });
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 0x4000_0000, size: 0x4000 });
    invalidate(f, 0x4000_0000, 0x4000);
    expect(update(f, f.process, GUEST_RAM_VADDR, 0x4000_0000, 0x4000)).toBe(0);
    expect(f.process.mm.lockedVm).toBe(4);
  });

  it('another process with CAP_IPC_LOCK takes the charge past its RLIMIT_MEMLOCK (mm_lock_acct lock_cap)', () => {
    const f = type1Fixture();
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 0x4000_0000, size: 0x4000 });
    invalidate(f, 0x4000_0000, 0x4000);
    const successor = new UserProcess({ vfio: f.vfio, pid: 2000, rlimitMemlock: 0 });
    successor.addressSpace.mmap(0x7e00_0000_0000, physAddr(0x8_8000_0000), 0x4000);
    expect(thrownErrno(() => update(f, successor, 0x7e00_0000_0000, 0x4000_0000, 0x4000))).toBe('ENOMEM');
    successor.setCapability('CAP_IPC_LOCK', true);
    expect(update(f, successor, 0x7e00_0000_0000, 0x4000_0000, 0x4000)).toBe(0);
    expect([f.process.mm.lockedVm, successor.mm.lockedVm]).toEqual([0, 4]);
  });
});

describe('UNMAP_DMA VADDR rollback (vfio_dma_do_unmap unwinding on an already-invalid vaddr)', () => {
  it('the mappings invalidated before the failure are restored and leave vaddr_invalid_count', () => {
    const f = type1Fixture();
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 0x4000_0000, size: 0x4000 });
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR + 0x10000, iova: 0x5000_0000, size: 0x1000 });
    invalidate(f, 0x5000_0000, 0x1000);
    expect(thrownErrno(() => invalidate(f, 0x4000_0000, 0x1000_1000))).toBe('EINVAL');
    update(f, f.process, GUEST_RAM_VADDR + 0x10000, 0x5000_0000, 0x1000);
    expect(attachSecondGroup(f)).toBeUndefined();
  });
});
