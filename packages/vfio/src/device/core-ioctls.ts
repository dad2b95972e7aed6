import { KernelError } from '@vfiokit/core';
import {
  VFIO_DEVICE_FEATURE_GET,
  VFIO_DEVICE_FEATURE_MASK,
  VFIO_DEVICE_FEATURE_PROBE,
  VFIO_DEVICE_FEATURE_SET,
} from '../uapi/flags.js';
import { pointerArg } from '../user/args.js';
import type { IoctlArg } from '../user/file.js';

// Both structs start { __u32 argsz; __u32 flags; }: offsetofend(flags) = 8.
const FEATURE_MINSZ = 8;
// struct vfio_device_bind_iommufd { argsz, flags, __s32 iommufd, __u32 out_devid }.
const BIND_MINSZ = 16;

function u32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at, true);
}

/**
 * `vfio_ioctl_device_feature` (drivers/vfio/vfio_main.c): `EFAULT` for a short buffer,
 * `EINVAL` for a short argsz, unknown flags, or GET|SET without PROBE; then each feature's
 * handler. A device without migration, dirty-logging or `device_feature` ops (vfio-platform,
 * vfio-amba) answers `ENOTTY` for every feature, the core ones included (`!device->mig_ops`,
 * `!device->log_ops` come first in each handler).
 */
export function vfioIoctlDeviceFeature(arg: IoctlArg | undefined): never {
  const bytes = pointerArg(arg, 'VFIO_DEVICE_FEATURE');
  if (bytes.length < FEATURE_MINSZ) throw new KernelError('EFAULT', 'vfio_device_feature is past the buffer');
  const argsz = u32(bytes, 0);
  const flags = u32(bytes, 4);
  if (argsz < FEATURE_MINSZ) throw new KernelError('EINVAL', `vfio_device_feature argsz ${argsz} < 8`);
  const known =
    VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_PROBE;
  if ((flags & ~known) !== 0)
    throw new KernelError('EINVAL', `unknown feature flags 0x${flags.toString(16)}`);
  if (
    (flags & VFIO_DEVICE_FEATURE_PROBE) === 0 &&
    (flags & VFIO_DEVICE_FEATURE_SET) !== 0 &&
    (flags & VFIO_DEVICE_FEATURE_GET) !== 0
  )
    throw new KernelError('EINVAL', 'VFIO_DEVICE_FEATURE_GET and _SET together without _PROBE');
  throw new KernelError(
    'ENOTTY',
    `feature ${flags & VFIO_DEVICE_FEATURE_MASK} is not supported by this device`,
  );
}

/**
 * `vfio_df_ioctl_bind_iommufd` (drivers/vfio/device_cdev.c) on a device fd from
 * VFIO_GROUP_GET_DEVICE_FD: `EFAULT` for a short buffer, `EINVAL` for a bad argsz, flags or
 * fd, and then `EINVAL` because BIND_IOMMUFD is only for cdev fds (`df->group` is set).
 */
export function vfioGroupDeviceBindIommufd(arg: IoctlArg | undefined): never {
  const bytes = pointerArg(arg, 'VFIO_DEVICE_BIND_IOMMUFD');
  if (bytes.length < BIND_MINSZ)
    throw new KernelError('EFAULT', 'vfio_device_bind_iommufd is past the buffer');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (u32(bytes, 0) < BIND_MINSZ || u32(bytes, 4) !== 0 || view.getInt32(8, true) < 0)
    throw new KernelError('EINVAL', 'vfio_device_bind_iommufd: bad argsz, flags or iommufd');
  throw new KernelError('EINVAL', 'BIND_IOMMUFD is only allowed on a device cdev fd, not a group-opened one');
}
