import { IOMMU_CACHE, IOMMU_WRITE, type Iova, KernelError } from '@vfiokit/core';
import type { Task } from '../user/task.js';
import { type MappedChunk, pinnedPages, type VfioDma } from './dma.js';
import { HOST_PAGE_SIZE, type Type1Domain, type Type1Iommu } from './type1-iommu.js';

/**
 * `vfio_pin_pages_remote` + `vfio_lock_acct` (drivers/vfio/vfio_iommu_type1.c): pins the user pages behind a mapping and
 * accounts them to the creating mm; `ENOMEM` past `RLIMIT_MEMLOCK` without `CAP_IPC_LOCK`
 * (the kernel logs "RLIMIT_MEMLOCK (%ld) exceeded"); `EFAULT` for unmapped user memory.
 */
export function pinDma(dma: VfioDma, rlimitMemlock: number): MappedChunk[] {
  const resolved = dma.mm.addressSpace.resolve(dma.vaddr, dma.size);
  // vaddr_get_pfns → follow_fault_pfn: a write mapping of a read-only VM_PFNMAP vma cannot be
  // faulted in for write (fixup_user_fault fails): EFAULT.
  const readOnly = resolved.find((c) => c.pfnmap && !c.writable);
  if (readOnly !== undefined && (dma.prot & IOMMU_WRITE) !== 0)
    throw new KernelError('EFAULT', `0x${readOnly.vaddr.toString(16)} is a read-only device mapping`);
  const chunks = resolved.map((c) => ({
    iova: (dma.iova + (c.vaddr - dma.vaddr)) as Iova,
    paddr: c.paddr,
    size: c.size,
    ...(c.pfnmap ? { pfnmap: true } : {}),
  }));
  // Pages an emulated device pinned (and charged) already are not charged twice.
  let alreadyCharged = 0;
  for (const pfn of dma.pfnList.values()) if (pfn.accounted) alreadyCharged++;
  const pages = pinnedPages(chunks) - alreadyCharged;
  const limitPages = Math.floor(rlimitMemlock / HOST_PAGE_SIZE);
  if (!dma.lockCap && dma.mm.lockedVm + pages > limitPages) {
    throw new KernelError('ENOMEM', `RLIMIT_MEMLOCK (${rlimitMemlock}) exceeded`);
  }
  dma.mm.lockedVm += pages;
  for (const pfn of dma.pfnList.values()) pfn.accounted = false;
  return chunks;
}

/** `vfio_unpin_pages_remote` + unaccounting. */
export function unpinDma(dma: VfioDma): void {
  dma.mm.lockedVm -= pinnedPages(dma.pinned);
  dma.pinned = [];
}

/** `iommu_map` of every pinned chunk into one domain (always with `IOMMU_CACHE`); unwinds on failure. */
export function mapIntoDomain(domain: Type1Domain, dma: VfioDma): void {
  const done: MappedChunk[] = [];
  try {
    for (const chunk of dma.pinned) {
      domain.domain.map(chunk.iova, chunk.paddr, chunk.size, dma.prot | IOMMU_CACHE);
      done.push(chunk);
    }
  } catch (error) {
    for (const chunk of done) domain.domain.unmap(chunk.iova, chunk.size);
    throw error;
  }
}

/** `vfio_unmap_unpin`: removes a mapping from every domain, then unpins. */
export function unmapUnpin(iommu: Type1Iommu, dma: VfioDma): void {
  for (const d of iommu.domains) for (const chunk of dma.pinned) d.domain.unmap(chunk.iova, chunk.size);
  unpinDma(dma);
}

/** `vfio_pin_map_dma`: pin, then map into every domain; full unwind on failure. */
export function pinMapDma(iommu: Type1Iommu, dma: VfioDma, current: Task): void {
  dma.pinned = pinDma(dma, current.rlimitMemlock);
  const mapped: Type1Domain[] = [];
  try {
    for (const d of iommu.domains) {
      mapIntoDomain(d, dma);
      mapped.push(d);
    }
  } catch (error) {
    for (const d of mapped) for (const chunk of dma.pinned) d.domain.unmap(chunk.iova, chunk.size);
    unpinDma(dma);
    throw error;
  }
}
