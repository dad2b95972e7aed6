// The in-kernel iommufd API under the kernel's own names (include/linux/iommufd.h), which is
// what drivers/vfio/iommufd.c calls: thin wrappers over IommufdContext's methods.
import type { PhysAddr } from '@vfiokit/core';
import type { IommufdBindOptions, IommufdContext } from './context.js';
import type { IommufdAccess, IommufdAccessOps } from './device/access.js';
import type { IommufdDevice } from './device/device.js';
import type { U64 } from './ioas/bits.js';

/** `iommufd_device_bind(ictx, dev, &id)`; the id is `idev.id`. */
export function iommufd_device_bind(ictx: IommufdContext, options: IommufdBindOptions): IommufdDevice {
  return ictx.deviceBind(options);
}

/** `iommufd_device_unbind(idev)`. */
export function iommufd_device_unbind(ictx: IommufdContext, idev: IommufdDevice): void {
  ictx.deviceUnbind(idev);
}

/** `iommufd_device_attach(idev, &pt_id)`: returns the HWPT id written back to `pt_id`. */
export function iommufd_device_attach(ictx: IommufdContext, idev: IommufdDevice, ptId: number): number {
  return ictx.deviceAttach(idev, ptId);
}

/** `iommufd_device_detach(idev)`. */
export function iommufd_device_detach(ictx: IommufdContext, idev: IommufdDevice): void {
  ictx.deviceDetach(idev);
}

/** `iommufd_access_create(ictx, ops, data, &id)`; the id is `access.id`. */
export function iommufd_access_create(ictx: IommufdContext, ops: IommufdAccessOps): IommufdAccess {
  return ictx.accessCreate(ops);
}

/** `iommufd_access_attach(access, ioas_id)`. */
export function iommufd_access_attach(ictx: IommufdContext, access: IommufdAccess, ioasId: number): void {
  ictx.accessAttach(access, ioasId);
}

/** `iommufd_access_detach(access)`. */
export function iommufd_access_detach(ictx: IommufdContext, access: IommufdAccess): void {
  ictx.accessDetach(access);
}

/** `iommufd_access_destroy(access)`. */
export function iommufd_access_destroy(ictx: IommufdContext, access: IommufdAccess): void {
  ictx.accessDestroy(access);
}

/** `iommufd_access_pin_pages(access, iova, length, out_pages, flags)`: the pages' physical addresses. */
export function iommufd_access_pin_pages(
  ictx: IommufdContext,
  access: IommufdAccess,
  iova: U64,
  length: U64,
  flags: number,
): PhysAddr[] {
  return ictx.accessPinPages(access, iova, length, flags);
}

/** `iommufd_access_unpin_pages(access, iova, length)`. */
export function iommufd_access_unpin_pages(
  ictx: IommufdContext,
  access: IommufdAccess,
  iova: U64,
  length: U64,
): void {
  ictx.accessUnpinPages(access, iova, length);
}

/** `iommufd_access_rw(access, iova, data, length, flags)`. */
export function iommufd_access_rw(
  ictx: IommufdContext,
  access: IommufdAccess,
  iova: U64,
  data: Uint8Array,
  flags: number,
): void {
  ictx.accessRw(access, iova, data, flags);
}
