import { KernelError, type PhysAddr } from '@vfiokit/core';

const PAGE_SIZE = 0x1000;

interface UserMapping {
  readonly vaddr: number;
  readonly size: number;
  readonly paddr: PhysAddr;
}

/** A contiguous piece of physical memory backing part of a user range. */
export interface PinnedChunk {
  readonly vaddr: number;
  readonly paddr: PhysAddr;
  readonly size: number;
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
    this.mappings.push({ vaddr, size, paddr });
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
      chunks.push({ vaddr: cursor, paddr: (m.paddr + (cursor - m.vaddr)) as PhysAddr, size: stop - cursor });
      cursor = stop;
    }
    if (cursor < end) throw new KernelError('EFAULT', `user address 0x${cursor.toString(16)} is not mapped`);
    return chunks;
  }
}
