import { KernelError, type MmioDevice, type PhysAddr } from '@vfiokit/core';

const PAGE_SIZE = 0x1000;

interface UserMapping {
  readonly vaddr: number;
  readonly size: number;
  readonly paddr: PhysAddr;
  /** A `VM_PFNMAP` mapping of device MMIO (`remap_pfn_range`), with the registers behind it. */
  readonly pfnmap: boolean;
  readonly mmio: MmioDevice | undefined;
  readonly mmioOffset: number;
  readonly writable: boolean;
}

/** A contiguous piece of physical memory backing part of a user range. */
export interface PinnedChunk {
  readonly vaddr: number;
  readonly paddr: PhysAddr;
  readonly size: number;
  /** Device memory from an mmapped region (`VM_PFNMAP`): no struct page, never charged. */
  readonly pfnmap: boolean;
  /** The mapping allows writes (`VM_WRITE`). */
  readonly writable: boolean;
}

/** What a user access at an address reaches. */
export interface UserTarget {
  readonly paddr: PhysAddr;
  /** The registers, for a device mapping, at `offset`. */
  readonly mmio: MmioDevice | undefined;
  readonly offset: number;
  readonly writable: boolean;
}

/**
 * A process's virtual address space, reduced to what VFIO pins: page-aligned ranges of
 * anonymous memory, each backed by one contiguous run of host physical memory (as a VMM's
 * guest RAM would be after the kernel faulted it in). `resolve` is `pin_user_pages_remote`:
 * every page must be mapped or the pin fails `EFAULT`.
 */
export class UserAddressSpace {
  private readonly mappings: UserMapping[] = [];

  /** Maps `[vaddr, vaddr + size)` onto `[paddr, paddr + size)`; `EINVAL` unaligned, `EEXIST` on overlap. */
  mmap(vaddr: number, paddr: PhysAddr, size: number): void {
    this.insert(vaddr, paddr, size, { pfnmap: false, mmio: undefined, mmioOffset: 0, writable: true });
  }

  /**
   * Enters a device mmap (`remap_pfn_range` on a `VM_PFNMAP | VM_IO` vma): `[vaddr, vaddr +
   * size)` onto device MMIO at `paddr`, whose registers are `mmio` from `mmioOffset`.
   */
  mapPfn(
    vaddr: number,
    paddr: PhysAddr,
    size: number,
    device: {
      readonly mmio: MmioDevice | undefined;
      readonly mmioOffset: number;
      readonly writable: boolean;
    },
  ): void {
    this.insert(vaddr, paddr, size, { pfnmap: true, ...device });
  }

  /** The mapping covering `vaddr`: `EFAULT` (a SIGSEGV) when none. */
  target(vaddr: number): UserTarget {
    const m = this.mappings.find((x) => x.vaddr <= vaddr && vaddr < x.vaddr + x.size);
    if (m === undefined)
      throw new KernelError('EFAULT', `user address 0x${vaddr.toString(16)} is not mapped`);
    const delta = vaddr - m.vaddr;
    return {
      paddr: (m.paddr + delta) as PhysAddr,
      mmio: m.mmio,
      offset: m.mmioOffset + delta,
      writable: m.writable,
    };
  }

  private insert(
    vaddr: number,
    paddr: PhysAddr,
    size: number,
    kind: Pick<UserMapping, 'pfnmap' | 'mmio' | 'mmioOffset' | 'writable'>,
  ): void {
    if (size <= 0 || vaddr % PAGE_SIZE !== 0 || paddr % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0) {
      throw new KernelError(
        'EINVAL',
        `mmap 0x${vaddr.toString(16)}+0x${size.toString(16)} is not whole pages`,
      );
    }
    if (!Number.isSafeInteger(vaddr + size)) throw new KernelError('EINVAL', 'mmap passes 2^53');
    if (this.mappings.some((m) => vaddr < m.vaddr + m.size && m.vaddr < vaddr + size)) {
      throw new KernelError('EEXIST', `0x${vaddr.toString(16)} overlaps an existing mapping`);
    }
    this.mappings.push({ vaddr, size, paddr, ...kind });
    this.mappings.sort((a, b) => a.vaddr - b.vaddr);
  }

  /** Unmaps a range previously mapped whole; `EINVAL` when no mapping starts there with that size. */
  munmap(vaddr: number, size: number): void {
    const at = this.mappings.findIndex((m) => m.vaddr === vaddr && m.size === size);
    if (at < 0) throw new KernelError('EINVAL', `no mapping 0x${vaddr.toString(16)}+0x${size.toString(16)}`);
    this.mappings.splice(at, 1);
  }

  /** The physical chunks behind `[vaddr, vaddr + size)`; `EFAULT` when any page is unmapped. */
  resolve(vaddr: number, size: number): PinnedChunk[] {
    const chunks: PinnedChunk[] = [];
    let cursor = vaddr;
    const end = vaddr + size;
    for (const m of this.mappings) {
      if (cursor >= end) break;
      if (m.vaddr + m.size <= cursor) continue;
      if (m.vaddr > cursor) break;
      const stop = Math.min(end, m.vaddr + m.size);
      chunks.push({
        vaddr: cursor,
        paddr: (m.paddr + (cursor - m.vaddr)) as PhysAddr,
        size: stop - cursor,
        pfnmap: m.pfnmap,
        writable: m.writable,
      });
      cursor = stop;
    }
    if (cursor < end) throw new KernelError('EFAULT', `user address 0x${cursor.toString(16)} is not mapped`);
    return chunks;
  }
}
