import { VFIO_GROUP_FLAGS_CONTAINER_SET, VFIO_GROUP_FLAGS_VIABLE } from '../uapi/flags.js';
import {
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_GET_STATUS,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_GROUP_UNSET_CONTAINER,
} from '../uapi/ioctls.js';
import { vfioGroupStatus } from '../uapi/structs-device.js';
import type { VfioSyscalls } from '../user/syscalls.js';
import type { VfioContainerHandle } from './container-handle.js';
import { VfioDeviceHandle } from './device-handle.js';

/** VFIO_GROUP_GET_STATUS, decoded. */
export interface GroupStatus {
  readonly viable: boolean;
  readonly containerSet: boolean;
}

/** Typed group operations over the {@link VfioSyscalls} seam (rust-vmm `VfioGroup`). */
export class VfioGroupHandle {
  readonly fd: number;
  private readonly sys: VfioSyscalls;

  constructor(sys: VfioSyscalls, fd: number) {
    this.sys = sys;
    this.fd = fd;
  }

  /** `open("/dev/vfio/<group>")`. */
  static open(sys: VfioSyscalls, group: number | string): VfioGroupHandle {
    return new VfioGroupHandle(sys, sys.open(`/dev/vfio/${group}`));
  }

  status(): GroupStatus {
    const bytes = vfioGroupStatus.encode({ argsz: vfioGroupStatus.size, flags: 0 });
    this.sys.ioctl(this.fd, VFIO_GROUP_GET_STATUS, bytes);
    const { flags } = vfioGroupStatus.decode(bytes);
    return {
      viable: (flags & VFIO_GROUP_FLAGS_VIABLE) !== 0,
      containerSet: (flags & VFIO_GROUP_FLAGS_CONTAINER_SET) !== 0,
    };
  }

  setContainer(container: VfioContainerHandle | number): void {
    const fd = typeof container === 'number' ? container : container.fd;
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setInt32(0, fd, true);
    this.sys.ioctl(this.fd, VFIO_GROUP_SET_CONTAINER, bytes);
  }

  unsetContainer(): void {
    this.sys.ioctl(this.fd, VFIO_GROUP_UNSET_CONTAINER);
  }

  /** VFIO_GROUP_GET_DEVICE_FD with the device's name as a NUL-terminated string. */
  getDevice(name: string): VfioDeviceHandle {
    const encoded = new TextEncoder().encode(name);
    const bytes = new Uint8Array(encoded.length + 1);
    bytes.set(encoded);
    return new VfioDeviceHandle(this.sys, this.sys.ioctl(this.fd, VFIO_GROUP_GET_DEVICE_FD, bytes));
  }

  close(): void {
    this.sys.close(this.fd);
  }
}
