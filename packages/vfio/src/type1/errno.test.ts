import { EventFd, type Iova, isIommuFault, physAddr } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { KERNEL_V6_18 } from '../profile.js';
import {
  GUEST_RAM_PHYS,
  GUEST_RAM_VADDR,
  type Type1Fixture,
  type1Fixture,
} from '../test-support/type1-fixture.js';
import {
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_VADDR,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
  VFIO_DMA_UNMAP_FLAG_VADDR,
} from '../uapi/flags.js';
import { VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_UNMAP_DMA, VFIO_TYPE1_IOMMU } from '../uapi/ioctls.js';
import { vfioIommuType1DmaMap, vfioIommuType1DmaUnmap } from '../uapi/structs-iommu.js';
import { UserProcess } from '../user/process.js';

const RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
const GIB = 0x4000_0000;

function map(
  f: Type1Fixture,
  fields: Partial<{
    argsz: number;
    flags: number;
    vaddr: number | bigint;
    iova: number | bigint;
    size: number | bigint;
  }>,
): number {
  const bytes = vfioIommuType1DmaMap.encode({
    argsz: 32,
    flags: RW,
    vaddr: GUEST_RAM_VADDR,
    iova: 0x4000_0000,
    size: 0x1000,
    ...fields,
  });
  return f.process.ioctl(f.container.fd, VFIO_IOMMU_MAP_DMA, bytes);
}

function unmap(
  f: Type1Fixture,
  fields: Partial<{ argsz: number; flags: number; iova: number | bigint; size: number | bigint }>,
): bigint {
  const bytes = vfioIommuType1DmaUnmap.encode({
    argsz: 24,
    flags: 0,
    iova: 0x4000_0000,
    size: 0x1000,
    ...fields,
  });
  f.process.ioctl(f.container.fd, VFIO_IOMMU_UNMAP_DMA, bytes);
  return vfioIommuType1DmaUnmap.decode(bytes).size;
}

describe('VFIO_IOMMU_MAP_DMA errnos (vfio_dma_do_map)', () => {
  it.each([
    ['argsz below minsz', { argsz: 31 }, 'EINVAL'],
    ['unknown flag', { flags: RW | 0x8 }, 'EINVAL'],
    ['neither READ/WRITE nor VADDR', { flags: 0 }, 'EINVAL'],
    ['VADDR with a protection', { flags: RW | VFIO_DMA_MAP_FLAG_VADDR }, 'EINVAL'],
    ['size 0', { size: 0 }, 'EINVAL'],
    ['unaligned iova', { iova: 0x4000_0800 }, 'EINVAL'],
    ['unaligned size', { size: 0x1800 }, 'EINVAL'],
    ['unaligned vaddr', { vaddr: GUEST_RAM_VADDR + 0x10 }, 'EINVAL'],
    ['iova wraps', { iova: 0xffff_ffff_ffff_f000n, size: 0x2000 }, 'EINVAL'],
    ['vaddr wraps', { vaddr: 0xffff_ffff_ffff_f000n, size: 0x2000 }, 'EINVAL'],
    ['inside the SW_MSI window', { iova: 0x800_0000 }, 'EINVAL'],
    ['straddling the SW_MSI window', { iova: 0x7ff_f000, size: 0x2000 }, 'EINVAL'],
    ['past the 48-bit aperture', { iova: 2 ** 48 }, 'EINVAL'],
    ['unmapped user memory', { vaddr: 0x1000 }, 'EFAULT'],
    ['a user address past 2^53 (not a user address at all)', { vaddr: 2n ** 60n }, 'EFAULT'],
    ['VADDR update without a mapping', { flags: VFIO_DMA_MAP_FLAG_VADDR }, 'ENOENT'],
  ])('%s → %s', (_name, fields, code) => {
    const f = type1Fixture();
    expect(thrownErrno(() => map(f, fields))).toBe(code);
  });

  it('EEXIST for any overlap, partial or whole, and no merging of adjacent maps', () => {
    const f = type1Fixture();
    map(f, { iova: 0x4000_0000, size: 0x4000 });
    expect(thrownErrno(() => map(f, { iova: 0x4000_0000, size: 0x4000 }))).toBe('EEXIST');
    expect(
      thrownErrno(() => map(f, { iova: 0x4000_3000, size: 0x2000, vaddr: GUEST_RAM_VADDR + 0x10000 })),
    ).toBe('EEXIST');
    expect(thrownErrno(() => map(f, { iova: 0x3fff_f000, size: 0x2000 }))).toBe('EEXIST');
    map(f, { iova: 0x4000_4000, size: 0x1000 });
    expect(f.container.unmapDma({ iova: 0x4000_0000, size: 0x4000 })).toBe(0x4000n);
  });

  it('ENOSPC once dma_entry_limit mappings exist', () => {
    const f = type1Fixture({ dmaEntryLimit: 2 });
    map(f, { iova: 0x1000_0000 });
    map(f, { iova: 0x1000_1000 });
    expect(thrownErrno(() => map(f, { iova: 0x1000_2000 }))).toBe('ENOSPC');
    expect(f.container.iommuInfo().dmaAvail).toBe(0);
  });

  it('ENOMEM past RLIMIT_MEMLOCK unless the task has CAP_IPC_LOCK, with nothing left behind', () => {
    const f = type1Fixture({ rlimitMemlock: 0x2000 });
    map(f, { iova: 0x1000_0000, size: 0x2000 });
    expect(
      thrownErrno(() => map(f, { iova: 0x2000_0000, size: 0x1000, vaddr: GUEST_RAM_VADDR + 0x10000 })),
    ).toBe('ENOMEM');
    expect(f.process.mm.lockedVm).toBe(2);
    expect(f.iommuGroup.domains[0]?.mappingCount).toBe(1);
    f.process.setCapability('CAP_IPC_LOCK', true);
    map(f, { iova: 0x2000_0000, size: 0x1000, vaddr: GUEST_RAM_VADDR + 0x10000 });
  });

  it('maps through the domain: the device reaches guest RAM at the IOVA, with IOMMU_CACHE', () => {
    const f = type1Fixture();
    map(f, { iova: GIB, size: 0x20_0000, vaddr: GUEST_RAM_VADDR + 0x1000 });
    const domain = f.iommuGroup.domains[0];
    expect(domain?.translate((GIB + 0x123) as Iova, 'write')).toBe(GUEST_RAM_PHYS + 0x1000 + 0x123);
    const read = domain?.translate((GIB + 0x20_0000) as Iova, 'read');
    expect(read !== undefined && isIommuFault(read) && read.kind).toBe('translation');
  });

  it('a read-only map refuses device writes', () => {
    const f = type1Fixture();
    map(f, { flags: VFIO_DMA_MAP_FLAG_READ });
    const fault = f.iommuGroup.domains[0]?.translate(0x4000_0000 as Iova, 'write');
    expect(fault !== undefined && isIommuFault(fault) && fault.kind).toBe('permission');
  });
});

describe('VFIO_IOMMU_UNMAP_DMA errnos and semantics (vfio_dma_do_unmap)', () => {
  it.each([
    ['argsz below minsz', { argsz: 23 }, 'EINVAL'],
    ['unknown flag', { flags: 0x8 }, 'EINVAL'],
    [
      'DIRTY_BITMAP with ALL',
      { flags: VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | VFIO_DMA_UNMAP_FLAG_ALL },
      'EINVAL',
    ],
    [
      'DIRTY_BITMAP with VADDR',
      { flags: VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | VFIO_DMA_UNMAP_FLAG_VADDR },
      'EINVAL',
    ],
    // argsz claims a vfio_bitmap the 24-byte buffer does not hold: copy_from_user faults.
    ['DIRTY_BITMAP past the buffer', { flags: VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, argsz: 48 }, 'EFAULT'],
    [
      'DIRTY_BITMAP with argsz short of the vfio_bitmap',
      { flags: VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, argsz: 47 },
      'EINVAL',
    ],
    ['unaligned iova', { iova: 0x4000_0010 }, 'EINVAL'],
    ['size 0', { size: 0 }, 'EINVAL'],
    ['unaligned size', { size: 0x1001 }, 'EINVAL'],
    ['wrap', { iova: 0xffff_ffff_ffff_f000n, size: 0x2000 }, 'EINVAL'],
    ['ALL with an iova', { flags: VFIO_DMA_UNMAP_FLAG_ALL, size: 0, iova: 0x1000 }, 'EINVAL'],
    ['ALL with a size', { flags: VFIO_DMA_UNMAP_FLAG_ALL, iova: 0 }, 'EINVAL'],
  ])('%s → %s', (_name, fields, code) => {
    const f = type1Fixture();
    expect(thrownErrno(() => unmap(f, fields))).toBe(code);
  });

  it('v2 refuses a range that cuts a mapping at either end, and unmaps whole mappings in a larger range', () => {
    const f = type1Fixture();
    map(f, { iova: 0x4000_0000, size: 0x4000 });
    map(f, { iova: 0x4001_0000, size: 0x2000, vaddr: GUEST_RAM_VADDR + 0x10000 });
    expect(thrownErrno(() => unmap(f, { iova: 0x4000_1000, size: 0x1000 }))).toBe('EINVAL');
    expect(thrownErrno(() => unmap(f, { iova: 0x4000_0000, size: 0x1000 }))).toBe('EINVAL');
    expect(thrownErrno(() => unmap(f, { iova: 0x3fff_0000, size: 0x1_2000 }))).toBe('EINVAL');
    expect(unmap(f, { iova: 0x5000_0000, size: 0x1000 })).toBe(0n);
    expect(unmap(f, { iova: 0x3000_0000, size: 0x2000_0000 })).toBe(0x6000n);
  });

  it('v1 unmaps from the middle as success with 0 bytes, and a mapping starting inside the range whole', () => {
    const f = type1Fixture({ type: VFIO_TYPE1_IOMMU });
    map(f, { iova: 0x4000_0000, size: 0x4000 });
    expect(unmap(f, { iova: 0x4000_1000, size: 0x1000 })).toBe(0n);
    expect(unmap(f, { iova: 0x4000_0000, size: 0x1000 })).toBe(0x4000n);
    expect(f.container.iommuInfo().dmaAvail).toBe(65535);
  });

  it('any task holding the container fd may unmap (v6.0+); before v6.0 only the mapping mm (0 bytes otherwise)', () => {
    for (const [profile, expected] of [
      [KERNEL_V6_18, 0x4000n],
      [{ version: [5, 19] as const }, 0n],
    ] as const) {
      const f = type1Fixture({ profile });
      map(f, { iova: 0x4000_0000, size: 0x4000 });
      // Another process that got the container fd (SCM_RIGHTS or fork) calls UNMAP_DMA.
      const other = new UserProcess({ vfio: f.vfio, pid: 2000 });
      const bytes = vfioIommuType1DmaUnmap.encode({ argsz: 24, flags: 0, iova: 0x4000_0000, size: 0x4000 });
      const file = f.process.fdget(f.container.fd);
      if (file instanceof EventFd) throw new TypeError('the container fd is an eventfd');
      file.ioctl(other, VFIO_IOMMU_UNMAP_DMA, bytes);
      expect(vfioIommuType1DmaUnmap.decode(bytes).size).toBe(expected);
      // The pages stay charged to the mm that pinned them until they are unpinned.
      expect(f.process.mm.lockedVm).toBe(expected === 0n ? 4 : 0);
    }
  });

  it('a VADDR update from another process moves the locked_vm charge to it (vfio_change_dma_owner)', () => {
    const f = type1Fixture();
    map(f, { iova: 0x4000_0000, size: 0x4000 });
    unmap(f, { flags: VFIO_DMA_UNMAP_FLAG_VADDR, iova: 0x4000_0000, size: 0x4000 });
    // The new VMM after a live update: its own mm and RLIMIT_MEMLOCK.
    const successor = new UserProcess({ vfio: f.vfio, pid: 2000, rlimitMemlock: 0x3000 });
    successor.addressSpace.mmap(0x7e00_0000_0000, physAddr(GUEST_RAM_PHYS), 0x4000);
    const file = f.process.fdget(f.container.fd);
    if (file instanceof EventFd) throw new TypeError('the container fd is an eventfd');
    const update = (): number =>
      file.ioctl(
        successor,
        VFIO_IOMMU_MAP_DMA,
        vfioIommuType1DmaMap.encode({
          argsz: 32,
          flags: VFIO_DMA_MAP_FLAG_VADDR,
          vaddr: 0x7e00_0000_0000,
          iova: 0x4000_0000,
          size: 0x4000,
        }),
      );
    expect(thrownErrno(update)).toBe('ENOMEM');
    expect([f.process.mm.lockedVm, successor.mm.lockedVm]).toEqual([4, 0]);
    successor.rlimitMemlock = 0x4000;
    update();
    expect([f.process.mm.lockedVm, successor.mm.lockedVm]).toEqual([0, 4]);
    // The successor now owns the pages: unmapping uncharges its mm.
    expect(unmap(f, { iova: 0x4000_0000, size: 0x4000 })).toBe(0x4000n);
    expect(successor.mm.lockedVm).toBe(0);
  });

  it('ALL removes every mapping and writes the total back', () => {
    const f = type1Fixture();
    map(f, { iova: 0x4000_0000, size: 0x4000 });
    map(f, { iova: 0x8000_0000, size: 0x1000, vaddr: GUEST_RAM_VADDR + 0x10000 });
    expect(unmap(f, { flags: VFIO_DMA_UNMAP_FLAG_ALL, iova: 0, size: 0 })).toBe(0x5000n);
    expect(f.process.mm.lockedVm).toBe(0);
  });

  it('VADDR invalidates and MAP VADDR restores; invalidating twice fails and rolls back', () => {
    const f = type1Fixture();
    map(f, { iova: 0x4000_0000, size: 0x4000 });
    map(f, { iova: 0x5000_0000, size: 0x1000, vaddr: GUEST_RAM_VADDR + 0x10000 });
    expect(unmap(f, { flags: VFIO_DMA_UNMAP_FLAG_VADDR, iova: 0x5000_0000, size: 0x1000 })).toBe(0x1000n);
    expect(
      thrownErrno(() => unmap(f, { flags: VFIO_DMA_UNMAP_FLAG_VADDR, iova: 0x4000_0000, size: 0x1000_1000 })),
    ).toBe('EINVAL');
    // The first mapping was rolled back: it can be invalidated on its own.
    expect(unmap(f, { flags: VFIO_DMA_UNMAP_FLAG_VADDR, iova: 0x4000_0000, size: 0x4000 })).toBe(0x4000n);
    expect(
      thrownErrno(() => map(f, { flags: VFIO_DMA_MAP_FLAG_VADDR, iova: 0x4000_0000, size: 0x2000 })),
    ).toBe('EINVAL');
    map(f, {
      flags: VFIO_DMA_MAP_FLAG_VADDR,
      iova: 0x4000_0000,
      size: 0x4000,
      vaddr: GUEST_RAM_VADDR + 0x20000,
    });
    expect(
      thrownErrno(() => map(f, { flags: VFIO_DMA_MAP_FLAG_VADDR, iova: 0x4000_0000, size: 0x4000 })),
    ).toBe('EINVAL');
  });
});

describe('UNMAP_DMA before v6.0 (the "task mm" check)', () => {
  it('the mm that made a mapping still unmaps it', () => {
    const f = type1Fixture({ profile: { version: [5, 19] } });
    map(f, { iova: 0x4000_0000, size: 0x4000 });
    expect(unmap(f, { iova: 0x4000_0000, size: 0x4000 })).toBe(0x4000n);
    expect(f.process.mm.lockedVm).toBe(0);
  });
});
