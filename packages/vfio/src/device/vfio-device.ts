import { KernelError } from '@vfiokit/core';
import type { IoctlArg, MmapRequest, MmapResult } from '../user/file.js';
import type { Task } from '../user/task.js';

/**
 * `struct vfio_device_ops`: what a VFIO bus driver (vfio-platform, vfio-amba, an emulated
 * device) implements. `openDevice` runs on the first open of the device, `closeDevice` on the
 * last close (drivers/vfio/vfio_main.c vfio_df_device_first_open / vfio_df_device_last_close).
 */
export interface VfioDeviceOps {
  openDevice(): void;
  closeDevice(): void;
  ioctl(current: Task, request: number, arg: IoctlArg | undefined): number;
  read(current: Task, buffer: Uint8Array, offset: number): number;
  write(current: Task, data: Uint8Array, offset: number): number;
  mmap(current: Task, request: MmapRequest): MmapResult;
  /** `ops->match`: whether a GET_DEVICE_FD name selects this device; default `dev_name` equality. */
  match?(name: string): boolean;
  /** `ops->dma_unmap`: emulated-IOMMU devices unpin what overlaps a range being unmapped. */
  dmaUnmap?(iova: number, length: number): void;
}

/** What the bus driver registers: `struct vfio_device` before `vfio_register_*_dev`. */
export interface VfioDeviceSpec {
  /** `dev_name(dev)`: what GET_DEVICE_FD matches. */
  readonly name: string;
  readonly ops: VfioDeviceOps;
  /** The bus driver's name (`dev_driver_string`), for kernel log lines; default none. */
  readonly driver?: string;
}

/**
 * `struct vfio_device` (drivers/vfio/vfio_main.c): open count and the registration
 * reference count that `vfio_unregister_group_dev` waits on. Each open device fd holds one
 * registration reference, so unregistering waits until user space closes them.
 */
export class VfioDevice {
  readonly name: string;
  readonly ops: VfioDeviceOps;
  /** The bus driver's name, for log lines. */
  readonly driver: string | undefined;
  /** `device->open_count`. */
  openCount = 0;
  /**
   * `device->kvm`: the VM taken at the first open (`vfio_device_group_get_kvm_safe` from the
   * group's, `vfio_df_get_kvm_safe` from the cdev file's `KVM_DEV_VFIO_FILE_ADD`), held until
   * the last close. A file added to the VM after the open gives the device none.
   */
  kvm: object | undefined = undefined;
  private registrations = 1;
  private unregistering = false;
  private readonly waiters: Array<() => void> = [];

  constructor(spec: VfioDeviceSpec) {
    this.name = spec.name;
    this.ops = spec.ops;
    this.driver = spec.driver;
  }

  /** Whether the device is still registered (new GET_DEVICE_FD lookups find it). */
  get registered(): boolean {
    return this.registrations > 0 && !this.unregistering;
  }

  /** `ops->dma_unmap`: asks an emulated-IOMMU device to unpin what it pinned in a range. */
  dmaUnmap(iova: number, length: number): void {
    if (this.ops.dmaUnmap === undefined) throw new KernelError('EINVAL', `${this.name} has no dma_unmap`);
    this.ops.dmaUnmap(iova, length);
  }

  /** `vfio_device_try_get_registration`: false once unregistration began. */
  tryGetRegistration(): boolean {
    if (!this.registered) return false;
    this.registrations++;
    return true;
  }

  /** `vfio_device_put_registration`: the last put wakes the unregister waiter. */
  putRegistration(): void {
    if (this.registrations === 0)
      throw new KernelError('EINVAL', `${this.name}: registration count underflow`);
    this.registrations--;
    if (this.registrations === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  /**
   * `vfio_unregister_group_dev`: drops the registration reference; returns nothing when no fd
   * holds the device, else a promise that settles once the last fd closes. It never fails; it
   * blocks (here: stays pending). `onGone` runs synchronously when the last reference drops
   * (at once, or inside the last fd's close), as the unbinding thread continues right there.
   */
  unregister(onGone?: () => void): void | Promise<void> {
    if (this.unregistering) throw new KernelError('EINVAL', `${this.name} is being unregistered already`);
    this.unregistering = true;
    if (this.registrations === 1) {
      this.registrations = 0;
      onGone?.();
      return undefined;
    }
    const done = new Promise<void>((resolve) => {
      this.waiters.push(() => {
        onGone?.();
        resolve();
      });
    });
    this.putRegistration();
    return done;
  }
}
