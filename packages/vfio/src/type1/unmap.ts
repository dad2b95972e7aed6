import { KernelError } from '@vfiokit/core';
import { kernelAtLeast } from '../profile.js';
import type { Task } from '../user/task.js';
import { updateUserBitmap } from './dirty.js';
import type { VfioDma } from './dma.js';
import { unmapUnpin } from './pin.js';
import type { Type1Iommu } from './type1-iommu.js';

const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** The fields of a `vfio_iommu_type1_dma_unmap` after the ioctl's argsz/flags checks. */
export interface DmaUnmapRequest {
  readonly iova: bigint;
  readonly size: bigint;
  /** `VFIO_DMA_UNMAP_FLAG_ALL`. */
  readonly all: boolean;
  /** `VFIO_DMA_UNMAP_FLAG_VADDR`: invalidate user addresses, keep the mappings. */
  readonly invalidateVaddr: boolean;
  /** `VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP`: the `vfio_bitmap` that follows the header. */
  readonly bitmap?: { readonly pgsize: bigint; readonly size: bigint; readonly data: bigint };
}

/**
 * `vfio_dma_do_unmap` (drivers/vfio/vfio_iommu_type1.c). Returns the bytes unmapped (what
 * the ioctl writes back into `size`). `EBUSY` for VADDR while emulated-IOMMU groups are
 * attached ("Cannot update vaddr if mdev is present"). Mappings are never split: v2 refuses a
 * range whose start or end falls inside a mapping (`EINVAL`); v1 stops at a mapping that
 * starts before `iova` (success, 0 bytes) and removes whole any mapping starting inside the
 * range. Before v6.0 only the mm that mapped could unmap (the walk stopped at another mm's
 * mapping); "vfio/iommu_type1: remove the "task mm" check in unmap" (v5.20, released as v6.0)
 * lets any holder of the container fd unmap.
 */
export function type1UnmapDma(iommu: Type1Iommu, current: Task, request: DmaUnmapRequest): number {
  if (request.invalidateVaddr && iommu.emulatedGroups.size > 0)
    throw new KernelError('EBUSY', 'cannot invalidate vaddrs while emulated-IOMMU groups are attached');
  const sameMmOnly = !kernelAtLeast(iommu.env.profile, 6, 0);
  const pgsize = BigInt(iommu.minPageSize);
  let { iova, size } = request;
  if ((iova & (pgsize - 1n)) !== 0n) throw new KernelError('EINVAL', 'UNMAP_DMA iova not page aligned');
  if (request.all) {
    if (iova !== 0n || size !== 0n) throw new KernelError('EINVAL', 'UNMAP_DMA ALL needs iova = size = 0');
    size = U64_MAX;
  } else if (size === 0n || (size & (pgsize - 1n)) !== 0n || iova + size - 1n > U64_MAX) {
    throw new KernelError('EINVAL', 'UNMAP_DMA size is 0, unaligned or wraps');
  }
  // Page-aligned values below 2^65 are exact numbers; the ALL range's end (2^64 - 1) rounds to
  // 2^64, which is past every mapping, as the exclusive end should be.
  // When dirty tracking is enabled, allow only min supported pgsize.
  if (request.bitmap !== undefined && (!iommu.dirtyPageTracking || request.bitmap.pgsize !== pgsize))
    throw new KernelError('EINVAL', 'GET_DIRTY_BITMAP without tracking or with another page size');
  const startN = Number(iova);
  const endN = Number(iova + size);
  const page = iommu.minPageSize;
  if (iommu.v2 && !request.all) {
    const first = iommu.dmas.find(startN, page);
    if (first !== undefined && first.iova !== startN) {
      throw new KernelError('EINVAL', `UNMAP_DMA would split the mapping at 0x${first.iova.toString(16)}`);
    }
    const last = iommu.dmas.find(endN - page, page);
    if (last !== undefined && last.iova + last.size !== endN) {
      throw new KernelError('EINVAL', `UNMAP_DMA would split the mapping at 0x${last.iova.toString(16)}`);
    }
  }
  let unmapped = 0;
  const touched: VfioDma[] = [];
  for (const dma of iommu.dmas.overlapping(startN, endN)) {
    if (!iommu.v2 && startN > dma.iova) break;
    if (sameMmOnly && dma.mm !== current.mm) break;
    if (request.invalidateVaddr) {
      if (dma.vaddrInvalid) {
        for (const done of touched) {
          done.vaddrInvalid = false;
          iommu.vaddrInvalidCount--;
        }
        throw new KernelError('EINVAL', `mapping at 0x${dma.iova.toString(16)} already has an invalid vaddr`);
      }
      dma.vaddrInvalid = true;
      iommu.vaddrInvalidCount++;
      touched.push(dma);
      unmapped += dma.size;
      continue;
    }
    notifyDmaUnmap(iommu, dma);
    if (request.bitmap !== undefined) updateUserBitmap(iommu, current, dma, startN, request.bitmap.data);
    unmapped += dma.size;
    removeDma(iommu, dma);
  }
  return unmapped;
}

// vfio_dma_do_unmap: pages an emulated device pinned must be released first; every device
// with a dma_unmap callback is told (vfio_notify_dma_unmap), and the kernel retries and finally
// BUG()s when a driver does not unpin synchronously. The model fails instead of crashing.
// The count is the kernel's: the first notification sets `dma_last` with `retries = 0`, each
// `goto again` then runs BUG_ON(++retries > 10) before notifying, so 11 notifications happen
// and the 12th pass BUG()s.
const NOTIFY_RETRIES = 11;

function notifyDmaUnmap(iommu: Type1Iommu, dma: VfioDma): void {
  for (let retry = 0; dma.pfnList.size > 0; retry++) {
    if (retry >= NOTIFY_RETRIES) {
      throw new KernelError(
        'EBUSY',
        `BUG: pages at 0x${dma.iova.toString(16)} still pinned after dma_unmap notifications`,
      );
    }
    for (const device of iommu.deviceList) device.dmaUnmap(dma.iova, dma.size);
  }
}

/** `vfio_remove_dma`: unmap from every domain, unpin, unaccount, `dma_avail++`. */
export function removeDma(iommu: Type1Iommu, dma: VfioDma): void {
  unmapUnpin(iommu, dma);
  if (dma.vaddrInvalid) iommu.vaddrInvalidCount--;
  iommu.dmas.remove(dma);
  iommu.dmaAvail++;
}
