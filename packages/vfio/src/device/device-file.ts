import { KernelError } from '@vfiokit/core';
import { cdevBinding, setCdevBinding, unbindIommufd } from '../cdev/cdev-binding.js';
import type { VfioGroup } from '../group/vfio-group.js';
import { VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_FEATURE } from '../uapi/ioctls.js';
import type { IoctlArg, MmapRequest, MmapResult, VfioFile } from '../user/file.js';
import type { Task } from '../user/task.js';
import { vfioGroupDeviceBindIommufd, vfioIoctlDeviceFeature } from './core-ioctls.js';
import type { VfioDevice } from './vfio-device.js';

/** What a device file holds on to while open: the group file reference (`fput(group->opened_file)` at release). */
export interface GroupFileRef {
  put(): void;
}

/**
 * A device fd (`anon_inode:[vfio-device]`, drivers/vfio/vfio_main.c vfio_device_fops): ioctl,
 * read, write and mmap go to the bus driver's ops; release is the device's last-close path.
 */
export class VfioDeviceFile implements VfioFile {
  readonly kind = 'device' as const;
  readonly device: VfioDevice;
  private readonly group: VfioGroup;
  private readonly groupFile: GroupFileRef;
  private open = true;

  constructor(device: VfioDevice, group: VfioGroup, groupFile: GroupFileRef) {
    this.device = device;
    this.group = group;
    this.groupFile = groupFile;
  }

  /**
   * `vfio_device_fops_unl_ioctl`: BIND_IOMMUFD and FEATURE are the core's own; everything
   * else (the cdev-only ATTACH/DETACH_IOMMUFD_PT too, on a group fd) goes to the bus driver.
   */
  ioctl(current: Task, request: number, arg?: IoctlArg): number {
    this.checkOpen();
    if (request === VFIO_DEVICE_BIND_IOMMUFD) return vfioGroupDeviceBindIommufd(arg);
    if (request === VFIO_DEVICE_FEATURE) return vfioIoctlDeviceFeature(arg);
    return this.device.ops.ioctl(current, request, arg);
  }

  read(current: Task, buffer: Uint8Array, offset: number): number {
    this.checkOpen();
    return this.device.ops.read(current, buffer, offset);
  }

  write(current: Task, data: Uint8Array, offset: number): number {
    this.checkOpen();
    return this.device.ops.write(current, data, offset);
  }

  mmap(current: Task, request: MmapRequest): MmapResult {
    this.checkOpen();
    return this.device.ops.mmap(current, request);
  }

  /**
   * `vfio_device_fops_release` → `vfio_df_group_close`: the last close calls `close_device`
   * and gives up the container use; then the group file and registration references drop.
   */
  release(): void {
    this.checkOpen();
    this.open = false;
    this.device.openCount--;
    try {
      if (this.device.openCount === 0) {
        this.device.ops.closeDevice();
        this.device.kvm = undefined; // vfio_device_put_kvm
        if (this.group.iommufd !== null) {
          // vfio_df_group_close → vfio_df_iommufd_unbind, for a device opened over an iommufd.
          const binding = cdevBinding(this.device);
          if (binding !== undefined) unbindIommufd(binding);
          setCdevBinding(this.device, undefined);
        } else {
          this.group.container?.type1?.deviceList.delete(this.device);
          this.group.containerUsers--;
        }
      }
    } finally {
      this.groupFile.put();
      this.device.putRegistration();
    }
  }

  /** `df->kvm`, set by KVM-VFIO's FILE_ADD of this fd; the device, open already, does not read it. */
  kvm: object | undefined = undefined;

  /** `vfio_file_set_kvm` on a device fd of the group path (`vfio_device_file_set_kvm`). */
  setKvm(kvm: object | undefined): void {
    this.kvm = kvm;
  }

  private checkOpen(): void {
    if (!this.open) throw new KernelError('EBADF', `${this.device.name}: device file is closed`);
  }
}
