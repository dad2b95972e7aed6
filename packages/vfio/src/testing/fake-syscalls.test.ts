import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { VfioContainerHandle } from '../api/container-handle.js';
import { VfioDeviceHandle } from '../api/device-handle.js';
import { VfioGroupHandle } from '../api/group-handle.js';
import {
  VFIO_DEVICE_SET_IRQS,
  VFIO_GET_API_VERSION,
  VFIO_IOMMU_UNMAP_DMA,
  VFIO_SET_IOMMU,
  VFIO_TYPE1v2_IOMMU,
} from '../uapi/ioctls.js';
import { vfioIommuType1DmaUnmap } from '../uapi/structs-iommu.js';
import { vfioIrqSet } from '../uapi/structs-irq.js';
import { FakeVfioSyscalls } from './fake-syscalls.js';

describe('FakeVfioSyscalls (a process-level fake of the VfioSyscalls seam)', () => {
  it('drives the typed handles with programmed answers and records every call', () => {
    const sys = new FakeVfioSyscalls(['/dev/vfio/vfio', '/dev/vfio/7'])
      .onIoctl(VFIO_GET_API_VERSION, () => 0)
      .onIoctl(VFIO_SET_IOMMU, () => 0)
      .onIoctl(VFIO_IOMMU_UNMAP_DMA, (_fd, _path, arg) => {
        if (arg instanceof Uint8Array)
          vfioIommuType1DmaUnmap.encodePrefix({ argsz: 24, flags: 0, iova: 0n, size: 0x2000n }, 24, arg);
        return 0;
      });
    const container = VfioContainerHandle.open(sys);
    expect(container.apiVersion()).toBe(0);
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    expect(container.unmapDma({ iova: 0x1000, size: 0x2000 })).toBe(0x2000n);
    expect(sys.calls.map((c) => c.call)).toEqual(['open', 'ioctl', 'ioctl', 'ioctl']);
    expect(sys.calls[2]).toEqual({ call: 'ioctl', fd: 3, request: VFIO_SET_IOMMU, arg: VFIO_TYPE1v2_IOMMU });
    expect(thrownErrno(() => VfioGroupHandle.open(sys, 8))).toBe('ENOENT');
  });

  it('an unprogrammed ioctl is ENOTTY; a closed fd is EBADF; the device handle encodes typed IRQ payloads', () => {
    const seen: number[] = [];
    const sys = new FakeVfioSyscalls(['/dev/vfio/7']).onIoctl(VFIO_DEVICE_SET_IRQS, (_fd, _path, arg) => {
      if (arg instanceof Uint8Array) seen.push(vfioIrqSet.decode(arg).count);
      return 0;
    });
    const fd = sys.open('/dev/vfio/7');
    new VfioDeviceHandle(sys, fd).enableIrq(0, [9, 10]);
    expect(seen).toEqual([2]);
    expect(thrownErrno(() => sys.ioctl(fd, 0x3b99))).toBe('ENOTTY');
    sys.close(fd);
    expect(thrownErrno(() => sys.ioctl(fd, VFIO_DEVICE_SET_IRQS))).toBe('EBADF');
  });
});
