import { type EventFd, KernelError } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { IommufdFile } from '@vfiokit/iommufd';
import { describe, expect, it } from 'vitest';
import { countingDeviceOps } from '../testing/index.js';
import { VFIO_DEVICE_BIND_IOMMUFD } from '../uapi/ioctls.js';
import { UserAddressSpace } from '../user/address-space.js';
import type { VfioFile } from '../user/file.js';
import type { Capability, Task } from '../user/task.js';
import { Vfio } from '../vfio.js';
import { iommufdTaskOf } from './iommufd-ctx.js';
import { openDeviceCdev } from './open-cdev.js';

// Linux 6.12 gives a no-IOMMU device no cdev (drivers/vfio/vfio.h vfio_device_add: "cdev does not
// support noiommu device"). NOT IN LINUX: the Oct 2025 proposal (Jacob Pan, after Yi Liu) gives
// it one and binds it through an iommufd_access for CAP_SYS_RAWIO callers — the opt-in
// `noiommuCdev` profile.

class Proc implements Task {
  readonly pid = 7;
  readonly comm = 'dpdk';
  readonly mm = { addressSpace: new UserAddressSpace(), lockedVm: 0 };
  readonly rlimitMemlock = 64 << 20;
  private readonly fds = new Map<number, VfioFile | EventFd>();
  constructor(private readonly rawio: boolean) {}
  capable(c: Capability): boolean {
    return this.rawio && c === 'CAP_SYS_RAWIO';
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

function bindArg(fd: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, 16, true);
  v.setInt32(8, fd, true);
  return b;
}

function noiommuVfio(noiommuCdev: boolean): Vfio {
  const vfio = new Vfio({ deviceCdev: true, enableUnsafeNoiommuMode: true, noiommuCdev });
  vfio.registerGroupDevice({ name: 'uart', ops: countingDeviceOps(), iommuGroup: undefined });
  return vfio;
}

describe('no-IOMMU devices and the device cdev', () => {
  it('Linux 6.12: a no-IOMMU device has no /dev/vfio/devices node (ENOENT)', () => {
    const vfio = noiommuVfio(false);
    expect(vfio.devNodes()).toContain('noiommu-0');
    expect(vfio.deviceNodes()).toEqual([]);
    expect(thrownErrno(() => openDeviceCdev(vfio, 'vfio0'))).toBe('ENOENT');
  });

  it('proposal (opt-in): the node exists; BIND needs CAP_SYS_RAWIO and binds an access; the kernel is tainted', () => {
    const vfio = noiommuVfio(true);
    expect(vfio.deviceNodes()).toEqual(['vfio0']);
    expect(vfio.taint).toBe(64);
    for (const rawio of [false, true]) {
      const proc = new Proc(rawio);
      const iommufd = proc.install(new IommufdFile({ task: iommufdTaskOf(proc) }));
      const cdev = openDeviceCdev(vfio, 'vfio0');
      proc.install(cdev);
      const bind = bindArg(iommufd);
      const errno = thrownErrno(() => cdev.ioctl(proc, VFIO_DEVICE_BIND_IOMMUFD, bind));
      expect(errno, rawio ? 'with CAP_SYS_RAWIO' : 'without').toBe(rawio ? undefined : 'EPERM');
      if (rawio) expect(cdev.devid).toBeGreaterThan(0);
      cdev.release();
    }
  });
});
