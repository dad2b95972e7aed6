import { IOMMU_READ, IOMMU_WRITE, KernelError } from '@vfiokit/core';
import { VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_VADDR, VFIO_DMA_MAP_FLAG_WRITE } from '../uapi/flags.js';
import type { Task } from '../user/task.js';
import type { VfioDma } from './dma.js';
import { iovaDmaValid } from './iova-list.js';
import { pinMapDma } from './pin.js';
import type { Type1Iommu } from './type1-iommu.js';

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
  // Past 2^53 nothing can be valid: no aperture or user address space reaches it.
  const fits =
    iova + size <= BigInt(Number.MAX_SAFE_INTEGER) && vaddr + size <= BigInt(Number.MAX_SAFE_INTEGER);
  const start = Number(iova);
  const length = Number(size);
  const existing = fits ? iommu.dmas.find(start, length) : undefined;
  if (setVaddr) {
    if (existing === undefined)
      throw new KernelError('ENOENT', `no mapping at 0x${iova.toString(16)} to update`);
    if (!existing.vaddrInvalid || existing.iova !== start || existing.size !== length) {
      throw new KernelError('EINVAL', 'VADDR update must match one invalidated mapping exactly');
    }
    existing.vaddr = Number(vaddr);
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
  if (!fits || !iovaDmaValid(iommu.iovaList, start, start + length - 1)) {
    throw new KernelError(
      'EINVAL',
      `0x${iova.toString(16)}+0x${size.toString(16)} is outside the valid IOVA ranges`,
    );
  }
  const dma: VfioDma = {
    iova: start,
    size: length,
    vaddr: Number(vaddr),
    prot,
    mm: current.mm,
    task: current,
    lockCap: current.capable('CAP_IPC_LOCK'),
    vaddrInvalid: false,
    pinned: [],
    pfnList: new Map(),
  };
  // No IOMMU-backed domain (only emulated groups): the mapping is only recorded.
  if (iommu.hasDomain) pinMapDma(iommu, dma, current);
  iommu.dmas.insert(dma);
  iommu.dmaAvail--;
}
