import { UapiError } from './uapi-error.js';

// drivers/vfio/platform/vfio_platform_private.h: the region index lives in the top bits of
// the device fd's file offset. Kernel-internal (not in <linux/vfio.h>): userspace must use
// the `offset` that VFIO_DEVICE_GET_REGION_INFO reports.

/** `VFIO_PLATFORM_OFFSET_SHIFT`. */
export const VFIO_PLATFORM_OFFSET_SHIFT = 40;
/** `VFIO_PLATFORM_OFFSET_MASK`: the offset inside a region. */
export const VFIO_PLATFORM_OFFSET_MASK: number = 2 ** VFIO_PLATFORM_OFFSET_SHIFT - 1;

/** `VFIO_PLATFORM_INDEX_TO_OFFSET(index)`; a {@link UapiError} when the offset passes 2^53. */
export function vfioPlatformIndexToOffset(index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** (53 - VFIO_PLATFORM_OFFSET_SHIFT)) {
    throw new UapiError(`region index ${String(index)} does not fit a safe file offset`);
  }
  return index * 2 ** VFIO_PLATFORM_OFFSET_SHIFT;
}

/** `VFIO_PLATFORM_OFFSET_TO_INDEX(offset)` and the offset inside the region. */
export function vfioPlatformSplitOffset(offset: number): { readonly index: number; readonly offset: number } {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new UapiError(`file offset ${String(offset)} is not a non-negative safe integer`);
  }
  const index = Math.floor(offset / 2 ** VFIO_PLATFORM_OFFSET_SHIFT);
  return { index, offset: offset - index * 2 ** VFIO_PLATFORM_OFFSET_SHIFT };
}
