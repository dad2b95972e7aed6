import { IOMMU_READ, IOMMU_WRITE, KernelError } from '@vfiokit/core';
import { VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_VADDR, VFIO_DMA_MAP_FLAG_WRITE } from '../uapi/flags.js';
import type { Task } from '../user/task.js';
import { allocDmaBitmap } from './dirty.js';
import { lockedPagesOf, type VfioDma } from './dma.js';
import { iovaDmaValid } from './iova-list.js';
import { pinMapDma } from './pin.js';
import { HOST_PAGE_SIZE, type Type1Iommu } from './type1-iommu.js';

const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** The fields of a `vfio_iommu_type1_dma_map` after the ioctl's argsz/flags checks. */
export interface DmaMapRequest {
  readonly flags: number;
  readonly vaddr: bigint;
  readonly iova: bigint;
  readonly size: bigint;
}

/**
 * `vfio_dma_do_map` (drivers/vfio/vfio_iommu_type1.c), in the kernel's order:
 * prot/VADDR consistency (`EINVAL`); size 0 or iova/size/vaddr not aligned to the minimum
 * page size (`EINVAL`); iova or vaddr wrap (`EINVAL`); VADDR update (`ENOENT` without a
 * mapping, `EINVAL` unless it matches an invalidated one exactly); any overlap (`EEXIST`);
 * `dma_avail` exhausted (`ENOSPC`); outside the IOVA ranges (`EINVAL`); then pin and map
 * (`ENOMEM` past RLIMIT_MEMLOCK, `EFAULT` for unmapped user memory), unwinding fully on error.
 */
export function type1MapDma(iommu: Type1Iommu, current: Task, request: DmaMapRequest): void {
  const setVaddr = (request.flags & VFIO_DMA_MAP_FLAG_VADDR) !== 0;
  let prot = 0;
  if ((request.flags & VFIO_DMA_MAP_FLAG_WRITE) !== 0) prot |= IOMMU_WRITE;
  if ((request.flags & VFIO_DMA_MAP_FLAG_READ) !== 0) prot |= IOMMU_READ;
  if ((prot !== 0 && setVaddr) || (prot === 0 && !setVaddr)) {
    throw new KernelError('EINVAL', 'MAP_DMA needs READ/WRITE, or VADDR alone');
  }
  const pgsize = BigInt(iommu.minPageSize);
  const { size, iova, vaddr } = request;
  if (size === 0n || ((size | iova | vaddr) & (pgsize - 1n)) !== 0n) {
    throw new KernelError('EINVAL', `MAP_DMA iova/size/vaddr not aligned to 0x${pgsize.toString(16)}`);
  }
  if (iova + size - 1n > U64_MAX || vaddr + size - 1n > U64_MAX) {
    throw new KernelError('EINVAL', 'MAP_DMA wraps the IOVA or user address space');
  }
  // Page-aligned values below 2^65 are exact as doubles (at most 53 significant bits), so the
  // mapping is kept in numbers (the hot paths) without losing a bit, up to the top of the u64
  // space; only inclusive ends (`- 1`) need bigints, and those are computed as bigints.
  const start = exactNumber(iova);
  const length = exactNumber(size);
  const existing = iommu.dmas.find(start, length);
  if (setVaddr) {
    if (existing === undefined)
      throw new KernelError('ENOENT', `no mapping at 0x${iova.toString(16)} to update`);
    if (!existing.vaddrInvalid || existing.iova !== start || existing.size !== length) {
      throw new KernelError('EINVAL', 'VADDR update must match one invalidated mapping exactly');
    }
    changeDmaOwner(existing, current);
    existing.vaddr = exactNumber(vaddr);
    existing.vaddrInvalid = false;
    iommu.vaddrInvalidCount--;
    return;
  }
  if (existing !== undefined) {
    throw new KernelError(
      'EEXIST',
      `0x${iova.toString(16)}+0x${size.toString(16)} overlaps mapping at 0x${existing.iova.toString(16)}`,
    );
  }
  if (iommu.dmaAvail === 0)
    throw new KernelError('ENOSPC', `dma_entry_limit (${iommu.dmaEntryLimit}) reached`);
  if (!iovaDmaValid(iommu.iovaList, iova, iova + size - 1n)) {
    throw new KernelError(
      'EINVAL',
      `0x${iova.toString(16)}+0x${size.toString(16)} is outside the valid IOVA ranges`,
    );
  }
  const dma: VfioDma = {
    iova: start,
    size: length,
    vaddr: exactNumber(vaddr),
    prot,
    mm: current.mm,
    task: current,
    lockCap: current.capable('CAP_IPC_LOCK'),
    vaddrInvalid: false,
    pinned: [],
    pfnList: new Map(),
    bitmap: null,
  };
  // No IOMMU-backed domain (only emulated groups): the mapping is only recorded.
  if (iommu.hasDomain) pinMapDma(iommu, dma, current);
  iommu.dmas.insert(dma);
  iommu.dmaAvail--;
  if (iommu.dirtyPageTracking) allocDmaBitmap(iommu, dma);
}

/**
 * `vfio_change_dma_owner`: a VADDR update made by another process (a new VMM after live
 * update) moves the mapping's locked_vm charge to the caller's mm, checked against the
 * caller's RLIMIT_MEMLOCK unless it has CAP_IPC_LOCK (`ENOMEM`), and makes it the owner.
 */
function changeDmaOwner(dma: VfioDma, current: Task): void {
  if (dma.mm === current.mm) return;
  const npage = lockedPagesOf(dma);
  const lockCap = current.capable('CAP_IPC_LOCK');
  if (!lockCap && current.mm.lockedVm + npage > Math.floor(current.rlimitMemlock / HOST_PAGE_SIZE)) {
    throw new KernelError('ENOMEM', `RLIMIT_MEMLOCK (${current.rlimitMemlock}) exceeded`);
  }
  current.mm.lockedVm += npage;
  dma.mm.lockedVm -= npage;
  dma.task = current;
  dma.mm = current.mm;
  dma.lockCap = lockCap;
}

// A pgsize-aligned u64 as a number: exact for every page size of 2 KiB or more (below 2^65 such
// a value has at most 53 significant bits). Smaller page sizes exist on no VFIO platform.
function exactNumber(value: bigint): number {
  const n = Number(value);
  if (BigInt(n) !== value)
    throw new KernelError('EINVAL', `0x${value.toString(16)} is not exact at this page size`);
  return n;
}
