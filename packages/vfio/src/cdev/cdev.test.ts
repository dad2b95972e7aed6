import { EventFd, type Iova, KernelError, physAddr } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { IOMMU_IOAS_MAP_READABLE, IOMMU_IOAS_MAP_WRITEABLE, IommufdFile } from '@vfiokit/iommufd';
import { describe, expect, it } from 'vitest';
import { countingDeviceOps, testIommuGroup } from '../testing/index.js';
import {
  VFIO_DEVICE_ATTACH_IOMMUFD_PT,
  VFIO_DEVICE_BIND_IOMMUFD,
  VFIO_DEVICE_DETACH_IOMMUFD_PT,
  VFIO_DEVICE_GET_INFO,
} from '../uapi/ioctls.js';
import { UserAddressSpace } from '../user/address-space.js';
import type { VfioFile } from '../user/file.js';
import type { Capability, Task } from '../user/task.js';
import { Vfio } from '../vfio.js';
import { openDeviceCdev } from './open-cdev.js';

// The VFIO device cdev of Linux 6.12 (drivers/vfio/device_cdev.c, vfio_main.c, group.c)
// over @vfiokit/iommufd.

class Proc implements Task {
  readonly pid = 100;
  readonly comm = 'vmm';
  readonly mm = { addressSpace: new UserAddressSpace(), lockedVm: 0 };
  readonly rlimitMemlock = 64 << 20;
  private readonly fds = new Map<number, VfioFile | EventFd>();
  capable(_c: Capability): boolean {
    return false;
  }
  install(file: VfioFile | EventFd): number {
    const fd = this.fds.size + 3;
    this.fds.set(fd, file);
    return fd;
  }
  fdget(fd: number): VfioFile | EventFd {
    const f = this.fds.get(fd);
    if (f === undefined) throw new KernelError('EBADF', `fd ${fd} is not open`);
    return f;
  }
}

function bindArg(fd: number, argsz = 16, flags = 0): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, argsz, true);
  v.setUint32(4, flags, true);
  v.setInt32(8, fd, true);
  return b;
}

function attachArg(ptId: number, flags = 0): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setUint32(0, 12, true);
  v.setUint32(4, flags, true);
  v.setUint32(8, ptId, true);
  return b;
}

const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer).getUint32(at, true);

function setup() {
  const vfio = new Vfio({ allowUnsafeInterrupts: true, deviceCdev: true });
  const iommuGroup = testIommuGroup({ id: 5, devices: [{ name: 'dev' }] });
  const ops = countingDeviceOps();
  vfio.registerGroupDevice({ name: 'dev', ops, iommuGroup });
  const proc = new Proc();
  proc.mm.addressSpace.mmap(0x10_0000, physAddr(0x8000_0000), 0x10_0000);
  // iommufd's allow_unsafe_interrupts: the test devices have no isolating MSI parent.
  const iommufd = new IommufdFile({ task: iommufdTask(proc), allowUnsafeInterrupts: true });
  const iommufdFd = proc.install(iommufd);
  const cdev = openDeviceCdev(vfio, 'vfio0');
  return { vfio, iommuGroup, ops, proc, iommufd, iommufdFd, cdev };
}

function iommufdTask(proc: Proc) {
  return { mm: proc.mm, user: { lockedVm: 0 }, rlimitMemlock: proc.rlimitMemlock, capable: () => false };
}

describe('open(/dev/vfio/devices/vfioX)', () => {
  it('ENOENT without CONFIG_VFIO_DEVICE_CDEV or for no such index', () => {
    const vfio = new Vfio({ allowUnsafeInterrupts: true });
    vfio.registerGroupDevice({
      name: 'dev',
      ops: countingDeviceOps(),
      iommuGroup: testIommuGroup({ id: 1, devices: [{ name: 'dev' }] }),
    });
    expect(thrownErrno(() => openDeviceCdev(vfio, 'vfio0'))).toBe('ENOENT');
    expect(thrownErrno(() => openDeviceCdev(setup().vfio, 'vfio7'))).toBe('ENOENT');
  });
});

describe('VFIO_DEVICE_BIND_IOMMUFD', () => {
  it('vfio_main.c:1280 every other ioctl, and read, are EINVAL before the bind', () => {
    const { proc, cdev } = setup();
    expect(thrownErrno(() => cdev.ioctl(proc, VFIO_DEVICE_GET_INFO, new Uint8Array(16)))).toBe('EINVAL');
    expect(thrownErrno(() => cdev.read(proc, new Uint8Array(4), 0))).toBe('EINVAL');
  });
  it('device_cdev.c: a short argsz, flags or a negative fd are EINVAL; a closed fd EBADF; a non-iommufd fd EBADFD', () => {
    const { proc, cdev, iommufdFd } = setup();
    expect(thrownErrno(() => cdev.ioctl(proc, VFIO_DEVICE_BIND_IOMMUFD, bindArg(iommufdFd, 12)))).toBe(
      'EINVAL',
    );
    expect(thrownErrno(() => cdev.ioctl(proc, VFIO_DEVICE_BIND_IOMMUFD, bindArg(iommufdFd, 16, 1)))).toBe(
      'EINVAL',
    );
    expect(thrownErrno(() => cdev.ioctl(proc, VFIO_DEVICE_BIND_IOMMUFD, bindArg(-1)))).toBe('EINVAL');
    expect(thrownErrno(() => cdev.ioctl(proc, VFIO_DEVICE_BIND_IOMMUFD, bindArg(99)))).toBe('EBADF');
    const eventfd = proc.install(new EventFd());
    expect(thrownErrno(() => cdev.ioctl(proc, VFIO_DEVICE_BIND_IOMMUFD, bindArg(eventfd)))).toBe('EBADFD');
  });
  it('binds: out_devid is the iommufd device id, open_device ran, the group is claimed and its file cannot open (EBUSY)', () => {
    const { vfio, proc, cdev, iommufdFd, ops, iommuGroup } = setup();
    const arg = bindArg(iommufdFd);
    expect(cdev.ioctl(proc, VFIO_DEVICE_BIND_IOMMUFD, arg)).toBe(0);
    expect(u32(arg, 12)).toBe(1);
    expect(ops.opens).toBe(1);
    expect(iommuGroup.currentDomain.type).toBe('blocked');
    expect(thrownErrno(() => vfio.openGroup(proc, '5', (f) => proc.install(f)))).toBe('EBUSY');
    expect(thrownErrno(() => cdev.ioctl(proc, VFIO_DEVICE_BIND_IOMMUFD, bindArg(iommufdFd)))).toBe('EINVAL');
  });
  it('group.c:418 a bind while the group file is open is EBUSY', () => {
    const { vfio, proc, cdev, iommufdFd } = setup();
    vfio.openGroup(proc, '5', (f) => proc.install(f));
    expect(thrownErrno(() => cdev.ioctl(proc, VFIO_DEVICE_BIND_IOMMUFD, bindArg(iommufdFd)))).toBe('EBUSY');
  });
  it('vfio_main.c vfio_df_open: a second cdev file of the same device cannot bind (EINVAL: the cdev never shares a device)', () => {
    const { vfio, proc, cdev, iommufdFd } = setup();
    cdev.ioctl(proc, VFIO_DEVICE_BIND_IOMMUFD, bindArg(iommufdFd));
    const second = openDeviceCdev(vfio, 'vfio0');
    expect(thrownErrno(() => second.ioctl(proc, VFIO_DEVICE_BIND_IOMMUFD, bindArg(iommufdFd)))).toBe(
      'EINVAL',
    );
    second.release();
  });
});

describe('VFIO_DEVICE_ATTACH_IOMMUFD_PT / DETACH', () => {
  it('attaches to an IOAS (pt_id becomes the auto HWPT), DMA follows IOMMU_IOAS_MAP, detach blocks it again', () => {
    const { proc, cdev, iommufdFd, iommufd, iommuGroup } = setup();
    cdev.ioctl(proc, VFIO_DEVICE_BIND_IOMMUFD, bindArg(iommufdFd));
    const ctx = iommufd.iommufd;
    const ioas = ctx.ioasAlloc();
    expect(thrownErrno(() => cdev.ioctl(proc, VFIO_DEVICE_ATTACH_IOMMUFD_PT, attachArg(ioas, 1)))).toBe(
      'EINVAL',
    );
    expect(thrownErrno(() => cdev.ioctl(proc, VFIO_DEVICE_ATTACH_IOMMUFD_PT, attachArg(77)))).toBe('ENOENT');
    const arg = attachArg(ioas);
    cdev.ioctl(proc, VFIO_DEVICE_ATTACH_IOMMUFD_PT, arg);
    expect(u32(arg, 8)).toBe(3);
    ctx.ioasMap({
      flags: IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE | 1,
      ioas_id: ioas,
      user_va: 0x10_0000,
      length: 0x1000,
      iova: 0x4000_0000,
    });
    expect(iommuGroup.currentDomain.translate(0x4000_0010 as Iova, 'write')).toBe(0x8000_0010);
    expect(proc.mm.lockedVm).toBe(0); // ACCOUNT_USER: the user's locked_vm, not the mm's
    const detach = new Uint8Array(8);
    new DataView(detach.buffer).setUint32(0, 8, true);
    cdev.ioctl(proc, VFIO_DEVICE_DETACH_IOMMUFD_PT, detach);
    expect(iommuGroup.currentDomain.type).toBe('blocked');
  });
  it('close: close_device, detach, unbind; the group is free again and the iommufd file can go', () => {
    const { vfio, proc, cdev, iommufdFd, iommufd, ops, iommuGroup } = setup();
    cdev.ioctl(proc, VFIO_DEVICE_BIND_IOMMUFD, bindArg(iommufdFd));
    cdev.ioctl(proc, VFIO_DEVICE_ATTACH_IOMMUFD_PT, attachArg(iommufd.iommufd.ioasAlloc()));
    iommufd.release();
    expect(iommufd.iommufd.released).toBe(false); // the bound device holds the context
    cdev.release();
    expect(ops.closes).toBe(1);
    expect(iommuGroup.owner).toBeNull();
    expect(iommufd.iommufd.released).toBe(true);
    vfio.openGroup(proc, '5', (f) => proc.install(f));
  });
});

describe('emulated devices through iommufd_access', () => {
  it('bind creates an access, attach puts it on the IOAS, vfio_pin_pages pins through it, and IOMMU_IOAS_UNMAP calls dma_unmap', () => {
    const vfio = new Vfio({ deviceCdev: true });
    const unmaps: [number, number][] = [];
    const ops = {
      ...countingDeviceOps(),
      dmaUnmap: (iova: number, length: number) => void unmaps.push([iova, length]),
    };
    const device = vfio.registerEmulatedIommuDevice({ name: 'mtty', ops });
    const proc = new Proc();
    proc.mm.addressSpace.mmap(0x10_0000, physAddr(0x8000_0000), 0x10_0000);
    const iommufd = new IommufdFile({ task: iommufdTask(proc) });
    const cdev = openDeviceCdev(vfio, 'vfio0');
    const bind = bindArg(proc.install(iommufd));
    cdev.ioctl(proc, VFIO_DEVICE_BIND_IOMMUFD, bind);
    expect(u32(bind, 12)).toBe(1); // the access id
    const ctx = iommufd.iommufd;
    const ioas = ctx.ioasAlloc();
    cdev.ioctl(proc, VFIO_DEVICE_ATTACH_IOMMUFD_PT, attachArg(ioas));
    ctx.ioasMap({
      flags: IOMMU_IOAS_MAP_READABLE | 1,
      ioas_id: ioas,
      user_va: 0x10_0000,
      length: 0x2000,
      iova: 0x1000,
    });
    expect(vfio.pinPages(device, 0x1000, 2, 1)).toEqual([0x8000_0000, 0x8000_1000]);
    expect(thrownErrno(() => vfio.pinPages(device, 0x1000, 1, 2))).toBe('EPERM');
    vfio.unpinPages(device, 0x1000, 2);
    ctx.ioasUnmap({ ioas_id: ioas, iova: 0x1000, length: 0x2000 });
    expect(unmaps).toEqual([]); // nothing pinned: the access is not asked
    ctx.ioasMap({
      flags: IOMMU_IOAS_MAP_READABLE | 1,
      ioas_id: ioas,
      user_va: 0x10_0000,
      length: 0x1000,
      iova: 0x1000,
    });
    vfio.pinPages(device, 0x1000, 1, 1);
    expect(thrownErrno(() => ctx.ioasUnmap({ ioas_id: ioas, iova: 0x1000, length: 0x1000 }))).toBe('EDEADLK');
    expect(unmaps[0]).toEqual([0x1000, 0x1000]);
  });
});
