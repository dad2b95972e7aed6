import { type Iova, physAddr } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { openedPlatformFixture } from '../test-support/platform-fixture.js';
import type { MmapRequest } from '../user/file.js';

// mm/mmap.c + drivers/vfio/vfio_main.c: the vma holds the device file (vm_file), so the
// device's last close (vfio_device_fops_release → close_device and its reset) waits for munmap;
// the mapping is VM_PFNMAP, so type1's vaddr_get_pfns maps it without pinning or accounting.
const MAP: MmapRequest = {
  start: 0x7000_0000,
  length: 0x1000,
  offset: 0,
  read: true,
  write: true,
  shared: true,
};

describe('a device region mmapped into the user address space', () => {
  it('loads and stores through the mapping reach the registers', () => {
    const f = openedPlatformFixture();
    f.handle.mmap(MAP);
    f.process.store(0x7000_0010, 4, 0xcafe);
    expect(f.regs.read(0x10, 4)).toBe(0xcafe);
    f.regs.write(0x20, 4, 0x1234);
    expect(f.process.load(0x7000_0020, 4)).toBe(0x1234);
    expect(thrownErrno(() => f.process.load(0x7000_1000, 4))).toBe('EFAULT');
  });

  it('a read-only mapping refuses stores (EFAULT, the SIGSEGV)', () => {
    const f = openedPlatformFixture();
    f.handle.mmap({ ...MAP, write: false });
    expect(thrownErrno(() => f.process.store(0x7000_0000, 4, 1))).toBe('EFAULT');
  });

  it('closing the device fd while mapped does not release the device: munmap does', () => {
    const f = openedPlatformFixture();
    f.handle.mmap(MAP);
    const events = f.core.platform.devices.length; // keep the fixture alive
    expect(events).toBeGreaterThan(0);
    const device = f.vfio.groups.get('5')?.devices[0];
    f.handle.close();
    expect(device?.openCount).toBe(1);
    expect(f.vfio.groups.get('5')?.containerUsers).toBe(2);
    // The fd is gone: its number answers EBADF, but the registers are still reachable.
    expect(thrownErrno(() => f.process.ioctl(f.handle.fd, 0))).toBe('EBADF');
    f.process.store(0x7000_0000, 4, 7);
    f.process.munmap(0x7000_0000, 0x1000);
    expect(device?.openCount).toBe(0);
    expect(f.vfio.groups.get('5')?.containerUsers).toBe(1);
    expect(thrownErrno(() => f.process.munmap(0x7000_0000, 0x1000))).toBe('EINVAL');
  });

  it('MAP_DMA of the mapping maps the device pages without charging locked_vm (VM_PFNMAP)', () => {
    const f = openedPlatformFixture();
    f.process.addressSpace.mmap(0x1_0000_0000, physAddr(0x9000_0000), 0x2000);
    f.handle.mmap(MAP);
    f.container.mapDma({ vaddr: 0x7000_0000, iova: 0x4000_0000, size: 0x1000 });
    expect(f.process.mm.lockedVm).toBe(0);
    const domain = f.iommuGroup.domains[0];
    expect(domain?.translate(0x4000_0000 as Iova, 'read')).toBe(0x1c00_0000);
    f.container.mapDma({ vaddr: 0x1_0000_0000, iova: 0x5000_0000, size: 0x2000 });
    expect(f.process.mm.lockedVm).toBe(2);
  });

  it('MAP_DMA with write of a read-only device mapping is EFAULT; read-only MAP_DMA of it works', () => {
    const f = openedPlatformFixture();
    f.handle.mmap({ ...MAP, write: false });
    expect(
      thrownErrno(() => f.container.mapDma({ vaddr: 0x7000_0000, iova: 0x4000_0000, size: 0x1000 })),
    ).toBe('EFAULT');
    f.container.mapDma({ vaddr: 0x7000_0000, iova: 0x4000_0000, size: 0x1000, write: false });
  });
});
