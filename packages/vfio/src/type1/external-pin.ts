import { IOMMU_READ, IOMMU_WRITE, KernelError, type PhysAddr, type PhysicalMemory } from '@vfiokit/core';
import type { PinnedChunk } from '../user/address-space.js';
import type { Task } from '../user/task.js';
import { markDirty } from './dirty.js';
import type { VfioDma } from './dma.js';
import { HOST_PAGE_SIZE, type Type1Iommu } from './type1-iommu.js';

/** `VFIO_PIN_PAGES_MAX_ENTRIES` (include/linux/vfio.h): `PAGE_SIZE / sizeof(unsigned long)`. */
export const VFIO_PIN_PAGES_MAX_ENTRIES: number = HOST_PAGE_SIZE / 8;

// vfio_pin_page_external → vaddr_get_pfns: the page holding the user address (the kernel
// hands out a struct page, so the address is page-aligned even for an unaligned IOVA);
// `EFAULT` when nothing is mapped there (pin_user_pages_remote, no vma). A VM_PFNMAP page (an
// mmapped device region) is found by follow_fault_pfn — `EFAULT` when the mapping's prot asks
// for write and the vma is read-only — but has no struct page: type1's `!pfn_valid(phys_pfn)`
// check then fails the pin with `EINVAL` (vfio_iommu_type1_pin_pages).
function pageOf(dma: VfioDma, iova: number): PhysAddr {
  const vaddr = dma.vaddr + (iova - dma.iova);
  const page = vaddr - (vaddr % HOST_PAGE_SIZE);
  const [chunk] = dma.mm.addressSpace.resolve(page, HOST_PAGE_SIZE);
  if (chunk === undefined)
    throw new KernelError('EFAULT', `user address 0x${vaddr.toString(16)} is not mapped`);
  if (chunk.pfnmap) {
    if (!chunk.writable && (dma.prot & IOMMU_WRITE) !== 0)
      throw new KernelError('EFAULT', `0x${vaddr.toString(16)} is a read-only device mapping`);
    throw new KernelError('EINVAL', `0x${vaddr.toString(16)} is device memory (!pfn_valid)`);
  }
  return chunk.paddr;
}

/**
 * `vfio_iommu_type1_pin_pages` (drivers/vfio/vfio_iommu_type1.c), for emulated-IOMMU devices:
 * `EACCES` unless TYPE1v2, `EBUSY` while user addresses are invalidated, `EINVAL` with no
 * device able to unpin, `EINVAL` for an IOVA no mapping covers, `EPERM` when the mapping lacks
 * `prot`. Pins are counted per page; `locked_vm` is charged only when no IOMMU domain already
 * pinned everything (`ENOMEM` past RLIMIT_MEMLOCK). Unwinds on failure. Returns the pages.
 */
export function type1PinPages(
  iommu: Type1Iommu,
  iova: number,
  npage: number,
  prot: number,
  rlimitMemlock: number,
): PhysAddr[] {
  if (!iommu.v2) throw new KernelError('EACCES', 'vfio_pin_pages needs TYPE1v2');
  if (iommu.vaddrInvalidCount !== 0)
    throw new KernelError('EBUSY', 'vfio_pin_pages not allowed with VFIO_UPDATE_VADDR');
  if (iommu.deviceList.size === 0)
    throw new KernelError('EINVAL', 'no device registered a dma_unmap callback');
  const doAccounting = !iommu.hasDomain;
  const pages: PhysAddr[] = [];
  try {
    for (let i = 0; i < npage; i++) {
      const at = iova + i * HOST_PAGE_SIZE;
      const dma = iommu.dmas.find(at, HOST_PAGE_SIZE);
      if (dma === undefined) throw new KernelError('EINVAL', `no mapping covers 0x${at.toString(16)}`);
      if ((dma.prot & prot) !== prot)
        throw new KernelError('EPERM', `mapping at 0x${dma.iova.toString(16)} lacks the protection asked`);
      const existing = dma.pfnList.get(at);
      if (existing !== undefined) {
        existing.refs++;
        pages.push(existing.paddr);
        continue;
      }
      const paddr = pageOf(dma, at);
      if (doAccounting && !dma.lockCap) {
        if (dma.mm.lockedVm + 1 > Math.floor(rlimitMemlock / HOST_PAGE_SIZE)) {
          throw new KernelError('ENOMEM', `RLIMIT_MEMLOCK (${rlimitMemlock}) exceeded`);
        }
      }
      if (doAccounting) dma.mm.lockedVm++;
      dma.pfnList.set(at, { paddr, refs: 1, accounted: doAccounting });
      // A newly pinned page counts as dirty while tracking (vfio_iommu_type1_pin_pages).
      markDirty(iommu, dma, at, HOST_PAGE_SIZE);
      pages.push(paddr);
    }
  } catch (error) {
    type1UnpinPages(iommu, iova, pages.length);
    throw error;
  }
  return pages;
}

/**
 * `vfio_iommu_type1_unpin_pages`: drops one pin per page; the last one uncharges. A page inside
 * a mapping that holds no pin is skipped silently, as the kernel does (vfio_unpin_page_external
 * returns 0 without a vpfn), so later pages are still unpinned; a page no mapping covers stops
 * the walk there (`break`, then WARN_ON(i != npage)) and TYPE1 v1 unpins nothing (WARN_ON) —
 * those two driver bugs are reported as `EINVAL` after the kernel's effect.
 */
export function type1UnpinPages(iommu: Type1Iommu, iova: number, npage: number): void {
  if (!iommu.v2) throw new KernelError('EINVAL', 'WARN_ON: vfio_unpin_pages on a TYPE1 (v1) container');
  for (let i = 0; i < npage; i++) {
    const at = iova + i * HOST_PAGE_SIZE;
    const dma = iommu.dmas.find(at, HOST_PAGE_SIZE);
    if (dma === undefined)
      throw new KernelError('EINVAL', `WARN_ON: vfio_unpin_pages at 0x${at.toString(16)}: no mapping`);
    const pfn = dma.pfnList.get(at);
    if (pfn === undefined || --pfn.refs > 0) continue;
    dma.pfnList.delete(at);
    if (pfn.accounted) dma.mm.lockedVm--;
  }
}

/**
 * `vfio_iommu_type1_dma_rw` + `_dma_rw_chunk`: copies between `data` and the user memory
 * behind IOVAs, crossing mappings. `EBUSY` while any user address of the container is
 * invalidated (checked once, before any copy); then per mapping: `EINVAL` for an IOVA no
 * mapping covers, `EPERM` for a write without IOMMU_WRITE or any access without IOMMU_READ,
 * `EFAULT` when the caller is a process other than the mapping's mm (`current->mm != mm`;
 * `current` null is a kernel thread, which borrows the mm) or the user memory is not there.
 * Chunks before the failing one stay copied, as in the kernel.
 */
export function type1DmaRw(
  iommu: Type1Iommu,
  memory: PhysicalMemory,
  iova: number,
  data: Uint8Array,
  write: boolean,
  current: Task | null = null,
): void {
  if (iommu.vaddrInvalidCount !== 0)
    throw new KernelError('EBUSY', 'vfio_dma_rw not allowed with VFIO_UPDATE_VADDR');
  let done = 0;
  while (done < data.length) {
    const at = iova + done;
    const dma = iommu.dmas.find(at, 1);
    if (dma === undefined) throw new KernelError('EINVAL', `no mapping covers 0x${at.toString(16)}`);
    if ((write && (dma.prot & IOMMU_WRITE) === 0) || (dma.prot & IOMMU_READ) === 0) {
      throw new KernelError('EPERM', `mapping at 0x${dma.iova.toString(16)} forbids this access`);
    }
    if (current !== null && current.mm !== dma.mm)
      throw new KernelError(
        'EFAULT',
        `pid ${current.pid} is not the mm of the mapping at 0x${dma.iova.toString(16)}`,
      );
    const length = Math.min(data.length - done, dma.iova + dma.size - at);
    copyChunk(dma, memory, at, data.subarray(done, done + length), write);
    if (write) markDirty(iommu, dma, at, length);
    done += length;
  }
}

// copy_to_user / copy_from_user of one chunk: all of it, or — at a user page that is not
// mapped — the bytes before it, then `EFAULT` (the chunk reports 0 copied, so the whole call
// fails, but what was copied stays copied, as with the kernel's uaccess fixups).
function copyChunk(
  dma: VfioDma,
  memory: PhysicalMemory,
  iova: number,
  data: Uint8Array,
  write: boolean,
): void {
  const vaddr = dma.vaddr + (iova - dma.iova);
  let chunks: PinnedChunk[];
  try {
    chunks = dma.mm.addressSpace.resolve(vaddr, data.length);
  } catch (error) {
    if (!(error instanceof KernelError) || error.code !== 'EFAULT') throw error;
    chunks = mappedPrefix(dma, vaddr, data.length);
    copyChunks(memory, vaddr, chunks, data, write);
    throw error;
  }
  copyChunks(memory, vaddr, chunks, data, write);
}

function copyChunks(
  memory: PhysicalMemory,
  vaddr: number,
  chunks: PinnedChunk[],
  data: Uint8Array,
  write: boolean,
): void {
  for (const chunk of chunks) {
    const piece = data.subarray(chunk.vaddr - vaddr, chunk.vaddr - vaddr + chunk.size);
    if (write) memory.write(chunk.paddr, piece);
    else memory.read(chunk.paddr, piece);
  }
}

// The chunks of `[vaddr, vaddr + size)` up to the first user page that is not mapped.
function mappedPrefix(dma: VfioDma, vaddr: number, size: number): PinnedChunk[] {
  const out: PinnedChunk[] = [];
  let at = vaddr;
  while (at < vaddr + size) {
    const step = Math.min(vaddr + size, at - (at % HOST_PAGE_SIZE) + HOST_PAGE_SIZE) - at;
    try {
      out.push(...dma.mm.addressSpace.resolve(at, step));
    } catch {
      break;
    }
    at += step;
  }
  return out;
}
