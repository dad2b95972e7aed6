import { KernelError } from '@vfiokit/core';
import {
  attachIoas,
  bindIommufd,
  type CdevBinding,
  setCdevBinding,
  unbindIommufd,
} from '../cdev/cdev-binding.js';
import type { IommufdCtx, IommufdFileLike } from '../cdev/iommufd-ctx.js';
import { VfioContainer } from '../container/container.js';
import { VfioDeviceFile } from '../device/device-file.js';
import type { VfioDevice } from '../device/vfio-device.js';
import type { MsiIsolation } from '../type1/msi-isolation.js';
import { VFIO_GROUP_FLAGS_CONTAINER_SET, VFIO_GROUP_FLAGS_VIABLE } from '../uapi/flags.js';
import {
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_GET_STATUS,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_GROUP_UNSET_CONTAINER,
} from '../uapi/ioctls.js';
import { vfioGroupStatus } from '../uapi/structs-device.js';
import { getUserInt, pointerArg } from '../user/args.js';
import type { IoctlArg, MmapRequest, MmapResult, VfioFile } from '../user/file.js';
import type { Task } from '../user/task.js';
import type { VfioGroup } from './vfio-group.js';

/** What a group file asks of the VFIO core. */
export interface GroupFileEnvironment {
  /** Whether the group is viable under the active kernel profile. */
  viable(group: VfioGroup): boolean;
  /**
   * Pre-v5.19 profiles: GET_DEVICE_FD also refuses a non-viable group (`EINVAL`), as the old
   * vfio.c did; modern kernels rely on DMA ownership instead.
   */
  readonly deviceFdNeedsViability: boolean;
  /** Installs a new file in the caller's fd table, returning the fd. */
  installFile(current: Task, file: VfioFile): number;
  /** Kernel log lines (`dev_warn`). */
  readonly log: (line: string) => void;
  /** The group file's last reference dropped (`vfio_group_fops_release`). */
  readonly released: (group: VfioGroup) => void;
  /** MSI isolation, for `iommufd_device_bind` of a group opened over an iommufd. */
  readonly msiIsolation: MsiIsolation;
}

// strndup_user(arg, PAGE_SIZE): the device name is a NUL-terminated string.
function readName(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  if (end < 0)
    throw new KernelError(bytes.length >= 4096 ? 'EINVAL' : 'EFAULT', 'device name is not NUL-terminated');
  return new TextDecoder().decode(bytes.subarray(0, end));
}

/**
 * `/dev/vfio/<group>` (drivers/vfio/group.c vfio_group_fops). Device fds hold a reference, so
 * the real release (which leaves the container) waits until they are all closed.
 */
export class VfioGroupFile implements VfioFile {
  readonly kind = 'group' as const;
  readonly group: VfioGroup;
  private readonly env: GroupFileEnvironment;
  private refs = 1;

  constructor(group: VfioGroup, env: GroupFileEnvironment) {
    this.group = group;
    this.env = env;
  }

  ioctl(current: Task, request: number, arg?: IoctlArg): number {
    this.checkOpen();
    switch (request) {
      case VFIO_GROUP_GET_STATUS:
        this.getStatus(pointerArg(arg, 'VFIO_GROUP_GET_STATUS'));
        return 0;
      case VFIO_GROUP_SET_CONTAINER:
        this.setContainer(current, getUserInt(arg, 'VFIO_GROUP_SET_CONTAINER'));
        return 0;
      case VFIO_GROUP_UNSET_CONTAINER:
        this.unsetContainer();
        return 0;
      case VFIO_GROUP_GET_DEVICE_FD:
        return this.getDeviceFd(current, readName(pointerArg(arg, 'VFIO_GROUP_GET_DEVICE_FD')));
      default:
        throw new KernelError('ENOTTY', `group: unknown ioctl 0x${request.toString(16)}`);
    }
  }

  read(): number {
    throw new KernelError('EINVAL', 'the group file has no read');
  }

  write(): number {
    throw new KernelError('EINVAL', 'the group file has no write');
  }

  mmap(_current: Task, _request: MmapRequest): MmapResult {
    throw new KernelError('ENODEV', 'the group file has no mmap');
  }

  release(): void {
    this.put();
  }

  /** Drops one reference; the last one is `vfio_group_fops_release`. */
  put(): void {
    if (this.refs === 0) throw new KernelError('EBADF', `group ${this.group.name} file is closed`);
    this.refs--;
    if (this.refs > 0) return;
    // vfio_group_fops_release: device fds are closed by now; leave the container (or drop the
    // iommufd).
    if (this.group.container !== null) this.detach();
    this.group.iommufd = null;
    this.group.opened = false;
    this.env.released(this.group);
  }

  // VFIO_GROUP_GET_STATUS: minsz = offsetofend(flags) = 8.
  private getStatus(bytes: Uint8Array): void {
    const minsz = vfioGroupStatus.offsetofend('flags');
    const status = vfioGroupStatus.decodePrefix(bytes, minsz);
    if (status.argsz < minsz)
      throw new KernelError('EINVAL', `vfio_group_status argsz ${status.argsz} < ${minsz}`);
    // vfio_device_remove_group clears group->iommu_group once its last device is gone.
    if (this.group.devices.length === 0) throw new KernelError('ENODEV', `group ${this.group.name} is gone`);
    let flags = 0;
    // vfio_group_has_iommu: a container or an iommufd.
    if (this.group.container !== null || this.group.iommufd !== null)
      flags = VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET;
    else if (this.env.viable(this.group)) flags = VFIO_GROUP_FLAGS_VIABLE;
    vfioGroupStatus.encodePrefix({ argsz: status.argsz, flags }, minsz, bytes);
  }

  // vfio_group_ioctl_set_container (drivers/vfio/group.c): EFAULT, EBADF, EINVAL, ENODEV, EBADFD.
  private setContainer(current: Task, fd: number): void {
    if (fd < 0) throw new KernelError('EBADF', `container fd ${fd}`);
    const file = current.fdget(fd);
    if (this.group.container !== null || this.group.iommufd !== null)
      throw new KernelError('EINVAL', `group ${this.group.name} already has a container`);
    // !group->iommu_group: cleared when the last device's removal completed.
    if (this.group.devices.length === 0) throw new KernelError('ENODEV', `group ${this.group.name} is gone`);
    if (file instanceof VfioContainer) {
      file.attachGroup(current, this.group);
      this.group.container = file;
      this.group.containerUsers = 1;
      return;
    }
    // iommufd_ctx_from_file: /dev/iommu in place of a container. A no-IOMMU group puts the
    // context in compat no-IOMMU mode (CONFIG_VFIO_NOIOMMU), any other creates the compat IOAS.
    if ('iommufd' in file) {
      const ictx = (file as IommufdFileLike).iommufd;
      if (this.group.kind === 'noiommu') {
        if (ictx.vfioCompatSetNoIommu === undefined)
          throw new KernelError('EOPNOTSUPP', 'this iommufd has no VFIO compat no-IOMMU mode');
        ictx.vfioCompatSetNoIommu();
      } else {
        if (ictx.vfioCompatIoasCreate === undefined)
          throw new KernelError('EOPNOTSUPP', 'this iommufd has no VFIO compat IOAS');
        ictx.vfioCompatIoasCreate();
      }
      this.group.iommufd = ictx;
      return;
    }
    throw new KernelError('EBADFD', `fd ${fd} is not a VFIO container or /dev/iommu`);
  }

  // vfio_group_ioctl_unset_container: EINVAL without a container, EBUSY with open device fds.
  // With an iommufd there is no user count to check: the reference is simply dropped.
  private unsetContainer(): void {
    if (this.group.container === null && this.group.iommufd === null)
      throw new KernelError('EINVAL', `group ${this.group.name} has no container`);
    if (this.group.container !== null) {
      if (this.group.containerUsers !== 1) {
        throw new KernelError(
          'EBUSY',
          `group ${this.group.name} has ${this.group.containerUsers - 1} open device(s)`,
        );
      }
      this.detach();
    }
    this.group.iommufd = null;
  }

  private detach(): void {
    const container = this.group.container;
    if (container === null) return;
    container.detachGroup(this.group);
    this.group.container = null;
    this.group.containerUsers = 0;
  }

  /**
   * `vfio_group_ioctl_get_device_fd`: `ENODEV` for an unknown (or unregistering) name; then
   * `vfio_df_group_open`: `EINVAL` without a container; the first open needs the container's
   * backend set (`EINVAL`), no-IOMMU needs CAP_SYS_RAWIO (`EPERM`), then `open_device` runs and
   * its error is returned.
   */
  private getDeviceFd(current: Task, name: string): number {
    const device = this.group.devices.find((d) => (d.ops.match ? d.ops.match(name) : d.name === name));
    if (device === undefined || !device.tryGetRegistration()) {
      throw new KernelError('ENODEV', `no device ${JSON.stringify(name)} in group ${this.group.name}`);
    }
    try {
      if (this.group.iommufd !== null) return this.openThroughIommufd(current, device, this.group.iommufd);
      const container = this.group.container;
      if (container === null) throw new KernelError('EINVAL', `group ${this.group.name} has no container`);
      if (this.env.deviceFdNeedsViability && !this.env.viable(this.group)) {
        throw new KernelError('EINVAL', `group ${this.group.name} is not viable`);
      }
      device.openCount++;
      if (device.openCount === 1) {
        device.kvm = this.group.kvm; // vfio_device_group_get_kvm_safe
        try {
          if (container.driver === null)
            throw new KernelError('EINVAL', 'the container has no IOMMU backend set');
          if (this.group.kind === 'noiommu' && !current.capable('CAP_SYS_RAWIO')) {
            throw new KernelError('EPERM', 'no-IOMMU devices need CAP_SYS_RAWIO');
          }
          // vfio_device_group_use_iommu: one more container user, and devices that pin pages
          // join type1's device_list so unmaps can ask them to unpin.
          this.group.containerUsers++;
          const pins = device.ops.dmaUnmap !== undefined ? container.type1 : null;
          pins?.deviceList.add(device);
          try {
            device.ops.openDevice();
          } catch (error) {
            pins?.deviceList.delete(device);
            this.group.containerUsers--;
            throw error;
          }
        } catch (error) {
          device.openCount--;
          device.kvm = undefined;
          throw error;
        }
      }
      this.refs++;
      const fd = this.env.installFile(current, new VfioDeviceFile(device, this.group, this));
      // vfio_device_open_file, after the open succeeded.
      if (this.group.kind === 'noiommu') {
        const prefix = device.driver === undefined ? device.name : `${device.driver} ${device.name}`;
        this.env.log(`${prefix}: vfio-noiommu device opened by user (${current.comm}:${current.pid})`);
      }
      return fd;
    } catch (error) {
      device.putRegistration();
      throw error;
    }
  }

  /**
   * `vfio_df_group_open` with `group->iommufd` (drivers/vfio/group.c, iommufd.c): a no-IOMMU
   * device needs CAP_SYS_RAWIO and no compat IOAS (`EPERM`), and binds nothing; any other binds
   * on first open (`vfio_df_iommufd_bind`), runs `open_device`, and attaches to the compat IOAS
   * (`vfio_iommufd_compat_attach_ioas`); a failure unwinds in reverse.
   */
  private openThroughIommufd(current: Task, device: VfioDevice, ictx: IommufdCtx): number {
    device.openCount++;
    if (device.openCount === 1) {
      device.kvm = this.group.kvm; // vfio_device_group_get_kvm_safe
      let binding: CdevBinding | undefined;
      try {
        if (this.group.kind === 'noiommu') {
          let hasCompatIoas = true;
          try {
            ictx.vfioCompatIoasGetId?.();
          } catch {
            hasCompatIoas = false;
          }
          if (!current.capable('CAP_SYS_RAWIO') || hasCompatIoas)
            throw new KernelError('EPERM', 'no-IOMMU devices need CAP_SYS_RAWIO and no compat IOAS');
        } else {
          binding = bindIommufd(device, this.group, this.env.msiIsolation, ictx);
          setCdevBinding(device, binding);
        }
        device.ops.openDevice();
        if (binding !== undefined) {
          try {
            if (ictx.vfioCompatIoasGetId === undefined)
              throw new KernelError('ENODEV', 'this iommufd has no VFIO compat IOAS');
            attachIoas(binding, ictx.vfioCompatIoasGetId());
          } catch (error) {
            device.ops.closeDevice();
            throw error;
          }
        }
      } catch (error) {
        if (binding !== undefined) {
          unbindIommufd(binding);
          setCdevBinding(device, undefined);
        }
        device.openCount--;
        device.kvm = undefined;
        throw error;
      }
    }
    this.refs++;
    return this.env.installFile(current, new VfioDeviceFile(device, this.group, this));
  }

  /** `vfio_file_set_kvm` on a group file (`vfio_group_set_kvm`): KVM-VFIO's FILE_ADD / FILE_DEL. */
  setKvm(kvm: object | undefined): void {
    this.group.kvm = kvm;
  }

  private checkOpen(): void {
    if (this.refs === 0) throw new KernelError('EBADF', `group ${this.group.name} file is closed`);
  }
}
