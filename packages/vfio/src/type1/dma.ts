import type { IommuProt, Iova, PhysAddr } from '@vfiokit/core';
import type { Mm, Task } from '../user/task.js';

/** A pinned, IOMMU-mapped piece of a mapping: `[iova, iova + size)` → `[paddr, paddr + size)`. */
export interface MappedChunk {
  readonly iova: Iova;
  readonly paddr: PhysAddr;
  readonly size: number;
  /**
   * From a `VM_PFNMAP` vma (an mmapped device region): `vaddr_get_pfns` finds reserved pfns,
   * which are mapped but neither pinned nor charged to `locked_vm`.
   */
  readonly pfnmap?: boolean;
}

/** One user mapping (`struct vfio_dma`, drivers/vfio/vfio_iommu_type1.c). */
export interface VfioDma {
  readonly iova: number;
  readonly size: number;
  vaddr: number;
  readonly prot: IommuProt;
  /** The mm its pages are charged to: the creator's, until a VADDR update from another mm. */
  mm: Mm;
  /** `dma->task`: whose RLIMIT_MEMLOCK later pins are checked against. */
  task: Task;
  /** `lock_cap = capable(CAP_IPC_LOCK)` sampled at MAP_DMA. */
  lockCap: boolean;
  /** `VFIO_DMA_UNMAP_FLAG_VADDR` invalidated the user address; DMA continues. */
  vaddrInvalid: boolean;
  /** Pinned physical chunks while an IOMMU-backed domain exists (else empty: only recorded). */
  pinned: MappedChunk[];
  /**
   * `dma->pfn_list`: pages pinned for emulated-IOMMU devices by `vfio_pin_pages`, by IOVA,
   * with a reference count; `accounted` when the pin charged `locked_vm` (no IOMMU domain).
   */
  readonly pfnList: Map<number, { readonly paddr: PhysAddr; refs: number; accounted: boolean }>;
  /** `dma->bitmap`: one bit per smallest IOMMU page while dirty tracking runs, else null. */
  bitmap: Uint8Array | null;
}

/** `dma->locked_vm`: the pages this mapping charged to its mm (IOMMU pins and accounted external pins). */
export function lockedPagesOf(dma: VfioDma): number {
  let pages = pinnedPages(dma.pinned);
  for (const pfn of dma.pfnList.values()) if (pfn.accounted) pages++;
  return pages;
}

/** Pages a chunk list covers. */
export function pinnedPages(chunks: readonly MappedChunk[]): number {
  let pages = 0;
  for (const c of chunks) if (c.pfnmap !== true) pages += c.size / 0x1000;
  return pages;
}

/**
 * The container's mappings sorted by IOVA (the kernel's `dma_list` rb-tree). Mappings never
 * overlap: MAP_DMA refuses any overlap with `EEXIST`.
 */
export class DmaTree {
  private readonly items: VfioDma[] = [];

  get size(): number {
    return this.items.length;
  }

  /** All mappings in IOVA order. */
  all(): readonly VfioDma[] {
    return this.items;
  }

  /** `vfio_find_dma`: some mapping overlapping `[start, start + size)`, or undefined. */
  find(start: number, size: number): VfioDma | undefined {
    const at = this.firstEndingAfter(start);
    const dma = this.items[at];
    // `dma.iova <= start` also decides when `start + size` rounds (IOVAs above 2^53).
    return dma !== undefined && (dma.iova <= start || dma.iova < start + size) ? dma : undefined;
  }

  /** Mappings overlapping `[start, end)` in IOVA order (`vfio_find_dma_first_node` and on). */
  overlapping(start: number, end: number): VfioDma[] {
    const out: VfioDma[] = [];
    for (let at = this.firstEndingAfter(start); at < this.items.length; at++) {
      const dma = this.items[at];
      if (dma === undefined || dma.iova >= end) break;
      out.push(dma);
    }
    return out;
  }

  insert(dma: VfioDma): void {
    this.items.splice(this.firstEndingAfter(dma.iova), 0, dma);
  }

  remove(dma: VfioDma): void {
    const at = this.items.indexOf(dma);
    if (at >= 0) this.items.splice(at, 1);
  }

  private firstEndingAfter(iova: number): number {
    let low = 0;
    let high = this.items.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const dma = this.items[mid];
      if (dma !== undefined && dma.iova + dma.size <= iova) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
