import {
  VFIO_DEVICE_GET_INFO,
  VFIO_DEVICE_GET_IRQ_INFO,
  VFIO_DEVICE_GET_REGION_INFO,
  VFIO_DEVICE_RESET,
  VFIO_DEVICE_SET_IRQS,
} from '../uapi/ioctls.js';
import { vfioDeviceInfo, vfioRegionInfo } from '../uapi/structs-device.js';
import { encodeIrqSet, vfioIrqInfo } from '../uapi/structs-irq.js';
import { u64ToNumber } from '../uapi/uapi-error.js';
import type { MmapRequest, MmapResult } from '../user/file.js';
import type { VfioSyscalls } from '../user/syscalls.js';
import { type IrqSet, irqSetRequest } from './irq-set.js';

/** VFIO_DEVICE_GET_INFO, decoded. */
export interface DeviceInfo {
  readonly flags: number;
  readonly numRegions: number;
  readonly numIrqs: number;
}

/** VFIO_DEVICE_GET_REGION_INFO, decoded. */
export interface RegionInfo {
  readonly index: number;
  readonly flags: number;
  readonly size: number;
  /** The file offset of the region (`index << 40` for vfio-platform). */
  readonly offset: number;
}

/** VFIO_DEVICE_GET_IRQ_INFO, decoded. */
export interface IrqInfo {
  readonly index: number;
  readonly flags: number;
  readonly count: number;
}

/** Typed device-fd operations over the {@link VfioSyscalls} seam (rust-vmm `VfioDevice`). */
export class VfioDeviceHandle {
  readonly fd: number;
  private readonly sys: VfioSyscalls;

  constructor(sys: VfioSyscalls, fd: number) {
    this.sys = sys;
    this.fd = fd;
  }

  info(): DeviceInfo {
    const bytes = vfioDeviceInfo.encode({
      argsz: vfioDeviceInfo.size,
      flags: 0,
      num_regions: 0,
      num_irqs: 0,
      cap_offset: 0,
      pad: 0,
    });
    this.sys.ioctl(this.fd, VFIO_DEVICE_GET_INFO, bytes);
    const info = vfioDeviceInfo.decode(bytes);
    return { flags: info.flags, numRegions: info.num_regions, numIrqs: info.num_irqs };
  }

  regionInfo(index: number): RegionInfo {
    const bytes = vfioRegionInfo.encode({
      argsz: vfioRegionInfo.size,
      flags: 0,
      index,
      cap_offset: 0,
      size: 0,
      offset: 0,
    });
    this.sys.ioctl(this.fd, VFIO_DEVICE_GET_REGION_INFO, bytes);
    const info = vfioRegionInfo.decode(bytes);
    return {
      index,
      flags: info.flags,
      size: u64ToNumber(info.size, 'region size'),
      offset: u64ToNumber(info.offset, 'region offset'),
    };
  }

  irqInfo(index: number): IrqInfo {
    const bytes = vfioIrqInfo.encode({ argsz: vfioIrqInfo.size, flags: 0, index, count: 0 });
    this.sys.ioctl(this.fd, VFIO_DEVICE_GET_IRQ_INFO, bytes);
    const info = vfioIrqInfo.decode(bytes);
    return { index, flags: info.flags, count: info.count };
  }

  /** VFIO_DEVICE_SET_IRQS with a typed payload (eventfds, booleans, or none). */
  setIrqs(set: IrqSet): void {
    this.sys.ioctl(this.fd, VFIO_DEVICE_SET_IRQS, encodeIrqSet(irqSetRequest(set)));
  }

  /** rust-vmm `enable_irq`: TRIGGER with one eventfd per vector from `start`. */
  enableIrq(index: number, eventfds: readonly number[], start = 0): void {
    this.setIrqs({ action: 'trigger', index, start, eventfds });
  }

  /** rust-vmm `disable_irq`: TRIGGER, DATA_NONE, count 0. */
  disableIrq(index: number): void {
    this.setIrqs({ action: 'trigger', index, count: 0 });
  }

  /** rust-vmm `unmask_irq`: UNMASK, DATA_NONE, count 1. */
  unmaskIrq(index: number): void {
    this.setIrqs({ action: 'unmask', index, count: 1 });
  }

  /** rust-vmm `mask_irq`: MASK, DATA_NONE, count 1. */
  maskIrq(index: number): void {
    this.setIrqs({ action: 'mask', index, count: 1 });
  }

  /** VFIO_DEVICE_RESET; `EINVAL` when the device has no reset. */
  reset(): void {
    this.sys.ioctl(this.fd, VFIO_DEVICE_RESET);
  }

  /** `pread` at a region's offset; returns the bytes read. */
  read(region: RegionInfo, offset: number, buffer: Uint8Array): number {
    return this.sys.pread(this.fd, buffer, region.offset + offset);
  }

  /** `pwrite` at a region's offset; returns the bytes written. */
  write(region: RegionInfo, offset: number, data: Uint8Array): number {
    return this.sys.pwrite(this.fd, data, region.offset + offset);
  }

  mmap(request: MmapRequest): MmapResult {
    return this.sys.mmap(this.fd, request);
  }

  close(): void {
    this.sys.close(this.fd);
  }
}
