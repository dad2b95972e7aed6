import { KernelError } from '@vfiokit/core';
import { vfioIoctlDeviceFeature } from '../device/core-ioctls.js';
import type { VfioDevice } from '../device/vfio-device.js';
import type { VfioGroup } from '../group/vfio-group.js';
import type { MsiIsolation } from '../type1/msi-isolation.js';
import {
  VFIO_DEVICE_ATTACH_IOMMUFD_PT,
  VFIO_DEVICE_BIND_IOMMUFD,
  VFIO_DEVICE_DETACH_IOMMUFD_PT,
  VFIO_DEVICE_FEATURE,
} from '../uapi/ioctls.js';
import type { IoctlArg, MmapRequest, MmapResult, VfioFile } from '../user/file.js';
import type { Task } from '../user/task.js';
import {
  attachIoas,
  bindIommufd,
  type CdevBinding,
  setCdevBinding,
  unbindIommufd,
  vfioDeviceBlockGroup,
  vfioDeviceUnblockGroup,
} from './cdev-binding.js';
import { iommufdCtxFromFd } from './iommufd-ctx.js';

function structArg(
  arg: IoctlArg | undefined,
  minsz: number,
  what: string,
): { bytes: Uint8Array; view: DataView } {
  // copy_from_user of minsz bytes: EFAULT when the user buffer is shorter.
  if (!(arg instanceof Uint8Array) || arg.length < minsz)
    throw new KernelError('EFAULT', `${what}: no ${minsz}-byte struct`);
  return { bytes: arg, view: new DataView(arg.buffer, arg.byteOffset, arg.byteLength) };
}

/**
 * `/dev/vfio/devices/vfio<index>` opened (drivers/vfio/device_cdev.c, vfio_main.c, Linux
 * 6.12): nothing but VFIO_DEVICE_BIND_IOMMUFD works (`EINVAL`) until the device is bound to
 * an iommufd context; then ATTACH/DETACH_IOMMUFD_PT and the bus driver's ioctls, read, write
 * and mmap. While bound, the device's group cannot be opened (`EBUSY`), and a bind is `EBUSY`
 * while the group is open.
 */
export class VfioDeviceCdevFile implements VfioFile {
  readonly kind: 'device' = 'device';
  private accessGranted = false;
  private binding: CdevBinding | null = null;
  private open = true;
  /** `df->kvm`: set by KVM-VFIO's `KVM_DEV_VFIO_FILE_ADD` of this fd (`vfio_device_file_set_kvm`). */
  private kvm: object | undefined = undefined;

  /** `vfio_file_set_kvm` on a device file: KVM-VFIO's FILE_ADD / FILE_DEL. */
  setKvm(kvm: object | undefined): void {
    this.kvm = kvm;
  }

  constructor(
    readonly device: VfioDevice,
    private readonly group: VfioGroup,
    private readonly msiIsolation: MsiIsolation,
    /** NOT IN LINUX: the proposed no-IOMMU cdev profile is on (a no-IOMMU device has a cdev). */
    private readonly noiommuCdev = false,
  ) {}

  /** `vfio_device_fops_unl_ioctl` for a cdev file. */
  ioctl(current: Task, request: number, arg?: IoctlArg): number {
    this.checkOpen();
    if (request === VFIO_DEVICE_BIND_IOMMUFD) return this.bind(current, arg);
    if (!this.accessGranted) throw new KernelError('EINVAL', `${this.device.name}: not bound to iommufd`);
    if (request === VFIO_DEVICE_ATTACH_IOMMUFD_PT) return this.attachPt(arg);
    if (request === VFIO_DEVICE_DETACH_IOMMUFD_PT) return this.detachPt(arg);
    if (request === VFIO_DEVICE_FEATURE) return vfioIoctlDeviceFeature(arg);
    return this.device.ops.ioctl(current, request, arg);
  }

  /** The devid BIND returned, or null before. */
  get devid(): number | null {
    const b = this.binding;
    return b === null ? null : ((b.idev ?? b.access)?.id ?? null);
  }

  /**
   * `vfio_df_ioctl_bind_iommufd`: `EINVAL` for a short argsz, flags or a negative fd;
   * `EBUSY` while the group file is open (`vfio_device_block_group`); `EINVAL` when bound
   * already; `EBADF`/`EBADFD` for a bad iommufd; `EINVAL` when the device is open elsewhere
   * (the cdev path never shares a device, `vfio_df_open`); then the bus driver's
   * `bind_iommufd` (`iommufd_device_bind` or, for emulated devices, `iommufd_access_create`)
   * and `open_device`. Writes `out_devid`.
   */
  private bind(current: Task, arg: IoctlArg | undefined): number {
    const { view } = structArg(arg, 16, 'VFIO_DEVICE_BIND_IOMMUFD');
    const argsz = view.getUint32(0, true);
    const flags = view.getUint32(4, true);
    const fd = view.getInt32(8, true);
    if (argsz < 16 || flags !== 0 || fd < 0) throw new KernelError('EINVAL', 'bad vfio_device_bind_iommufd');
    vfioDeviceBlockGroup(this.group);
    try {
      if (this.accessGranted) throw new KernelError('EINVAL', `${this.device.name} is bound already`);
      const ictx = iommufdCtxFromFd(current, fd);
      if (this.device.openCount !== 0) throw new KernelError('EINVAL', `${this.device.name} is open already`);
      // NOT IN LINUX (the 2025 no-IOMMU cdev proposal): a no-IOMMU device binds only for a
      // caller with CAP_SYS_RAWIO, as its group path requires, through an iommufd_access.
      if (this.group.kind === 'noiommu') {
        if (!this.noiommuCdev) throw new KernelError('ENODEV', `${this.device.name} has no cdev`);
        if (!current.capable('CAP_SYS_RAWIO'))
          throw new KernelError('EPERM', 'no-IOMMU devices need CAP_SYS_RAWIO');
      }
      // vfio_df_get_kvm_safe: the VM this file was added to before the bind, if any.
      this.device.kvm = this.kvm;
      const binding = bindIommufd(this.device, this.group, this.msiIsolation, ictx);
      this.device.openCount++;
      try {
        this.device.ops.openDevice();
      } catch (error) {
        this.device.openCount--;
        this.device.kvm = undefined;
        unbindIommufd(binding);
        throw error;
      }
      this.binding = binding;
      setCdevBinding(this.device, binding);
      view.setUint32(12, (binding.idev ?? binding.access)?.id ?? 0, true);
      this.accessGranted = true;
      return 0;
    } catch (error) {
      vfioDeviceUnblockGroup(this.group);
      throw error;
    }
  }

  /**
   * `vfio_df_ioctl_attach_pt`: `EINVAL` for a short argsz or flags; then `attach_ioas`
   * (attach, or replace when attached already); writes the HWPT id back to `pt_id`.
   */
  private attachPt(arg: IoctlArg | undefined): number {
    const { view } = structArg(arg, 12, 'VFIO_DEVICE_ATTACH_IOMMUFD_PT');
    if (view.getUint32(0, true) < 12 || view.getUint32(4, true) !== 0)
      throw new KernelError('EINVAL', 'bad vfio_device_attach_iommufd_pt');
    const b = this.binding as CdevBinding;
    const ptId = view.getUint32(8, true);
    const out = attachIoas(b, ptId);
    if (b.idev !== null) view.setUint32(8, out, true);
    return 0;
  }

  /** `vfio_df_ioctl_detach_pt`: `EINVAL` for a short argsz or flags; detaching an unattached device does nothing. */
  private detachPt(arg: IoctlArg | undefined): number {
    const { view } = structArg(arg, 8, 'VFIO_DEVICE_DETACH_IOMMUFD_PT');
    if (view.getUint32(0, true) < 8 || view.getUint32(4, true) !== 0)
      throw new KernelError('EINVAL', 'bad vfio_device_detach_iommufd_pt');
    const b = this.binding as CdevBinding;
    if (!b.attached) return 0;
    if (b.idev !== null) b.ictx.deviceDetach(b.idev);
    else if (b.access !== null) b.ictx.accessDetach(b.access);
    b.attached = false;
    return 0;
  }

  read(current: Task, buffer: Uint8Array, offset: number): number {
    this.checkGranted();
    return this.device.ops.read(current, buffer, offset);
  }

  write(current: Task, data: Uint8Array, offset: number): number {
    this.checkGranted();
    return this.device.ops.write(current, data, offset);
  }

  mmap(current: Task, request: MmapRequest): MmapResult {
    this.checkGranted();
    return this.device.ops.mmap(current, request);
  }

  /**
   * `vfio_device_fops_release` → `vfio_df_unbind_iommufd`: when bound, the last close runs
   * `close_device`, then the iommufd unbind (detaching first), and unblocks the group; the
   * registration reference taken at open drops.
   */
  release(): void {
    this.checkOpen();
    this.open = false;
    try {
      const b = this.binding;
      if (this.accessGranted && b !== null) {
        this.device.openCount--;
        try {
          this.device.ops.closeDevice();
        } finally {
          this.device.kvm = undefined; // vfio_device_put_kvm
          unbindIommufd(b);
          setCdevBinding(this.device, undefined);
          this.binding = null;
          this.accessGranted = false;
          vfioDeviceUnblockGroup(this.group);
        }
      }
    } finally {
      this.device.putRegistration();
    }
  }

  private checkGranted(): void {
    this.checkOpen();
    if (!this.accessGranted) throw new KernelError('EINVAL', `${this.device.name}: not bound to iommufd`);
  }

  private checkOpen(): void {
    if (!this.open) throw new KernelError('EBADF', `${this.device.name}: device file is closed`);
  }
}
