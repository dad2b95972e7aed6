import { KernelError, type PhysAddr } from '@vfiokit/core';
import type { IommufdTask } from '../task.js';
import { hex, PAGE_SIZE, toNumber } from './bits.js';

/** `enum iopt_pages_account_mode` of drivers/iommu/iommufd/io_pagetable.h. */
export type PagesAccountMode = 'none' | 'user' | 'mm';

interface PinnedPage {
  readonly paddr: PhysAddr;
  holders: number;
}

/**
 * `struct iopt_pages` (drivers/iommu/iommufd/pages.c): the user memory one IOMMU_IOAS_MAP
 * named, shared by every area that maps a slice of it (IOMMU_IOAS_COPY shares it across
 * IOASes). Pages are pinned lazily — only while an area of them sits in an IOAS with a
 * domain, or an `iommufd_access` pins them — and each page is pinned and charged ONCE
 * however many domains, areas and accesses hold it (`npinned`, `do_update_pinned`).
 */
export class IoptPages {
  /** `pages->uptr`: the user address, rounded down to a page. */
  readonly uptr: bigint;
  readonly npages: bigint;
  readonly writable: boolean;
  accountMode: PagesAccountMode;
  /** `source_task`/`source_mm`/`source_user`: whoever mapped (current at IOMMU_IOAS_MAP). */
  readonly task: IommufdTask;
  private readonly pinned = new Map<bigint, PinnedPage>();

  /**
   * `iopt_alloc_pages`: `EINVAL` for length 0 or past `SIZE_MAX - PAGE_SIZE`, `EOVERFLOW`
   * when `uptr + length` wraps. CAP_IPC_LOCK holders are not charged (ACCOUNT_NONE).
   */
  constructor(task: IommufdTask, uptr: bigint, length: bigint, writable: boolean) {
    const max = (1n << 64n) - 1n;
    if (length > max - PAGE_SIZE || length === 0n)
      throw new KernelError('EINVAL', `iopt_alloc_pages: length ${hex(length)}`);
    if (uptr + length > max) throw new KernelError('EOVERFLOW', 'iopt_alloc_pages: uptr + length wraps');
    this.task = task;
    this.uptr = uptr - (uptr % PAGE_SIZE);
    this.npages = (length + (uptr - this.uptr) + PAGE_SIZE - 1n) / PAGE_SIZE;
    this.writable = writable;
    this.accountMode = task.capable('CAP_IPC_LOCK') ? 'none' : 'user';
  }

  /** `pages->npinned`. */
  get npinned(): number {
    return this.pinned.size;
  }

  /** The physical address of a pinned page, or undefined. */
  pinnedPage(index: bigint): PhysAddr | undefined {
    return this.pinned.get(index)?.paddr;
  }

  /**
   * Takes one hold on pages `[first, last]` (inclusive indexes), pinning those not pinned
   * yet: `pin_user_pages_fast` (`EFAULT` for an unmapped page, a `VM_PFNMAP` page, or a
   * write pin of a read-only vma) then `do_update_pinned` (`ENOMEM` past RLIMIT_MEMLOCK).
   * All or nothing: a failure leaves no new hold and no new pin.
   */
  hold(first: bigint, last: bigint): PhysAddr[] {
    const fresh: bigint[] = [];
    const out: PhysAddr[] = [];
    try {
      for (let index = first; index <= last; index++) {
        const page = this.pinned.get(index);
        if (page !== undefined) {
          out.push(page.paddr);
          continue;
        }
        const paddr = this.pinOne(index);
        this.pinned.set(index, { paddr, holders: 0 });
        fresh.push(index);
        out.push(paddr);
      }
      this.account(fresh.length, true);
    } catch (error) {
      for (const index of fresh) this.pinned.delete(index);
      throw error;
    }
    for (let index = first; index <= last; index++) {
      const page = this.pinned.get(index);
      if (page !== undefined) page.holders++;
    }
    return out;
  }

  /** Drops one hold on `[first, last]`; pages nobody holds are unpinned and uncharged. */
  release(first: bigint, last: bigint): void {
    let freed = 0;
    for (let index = first; index <= last; index++) {
      const page = this.pinned.get(index);
      if (page === undefined)
        throw new KernelError('EINVAL', `page ${index} of ${hex(this.uptr)} is not held`);
      page.holders--;
      if (page.holders === 0) {
        this.pinned.delete(index);
        freed++;
      }
    }
    this.account(freed, false);
  }

  private pinOne(index: bigint): PhysAddr {
    const vaddr = toNumber(this.uptr + index * PAGE_SIZE, 'user address');
    const [chunk] = this.task.mm.addressSpace.resolve(vaddr, Number(PAGE_SIZE));
    if (chunk === undefined) throw new KernelError('EFAULT', `${hex(vaddr)} is not mapped`);
    // pin_user_pages refuses VM_IO | VM_PFNMAP vmas (check_vma_flags) with -EFAULT.
    if (chunk.pfnmap) throw new KernelError('EFAULT', `${hex(vaddr)} is a VM_PFNMAP mapping`);
    if (this.writable && !chunk.writable)
      throw new KernelError('EFAULT', `${hex(vaddr)} is read-only and the map is writeable`);
    return chunk.paddr;
  }

  /**
   * `do_update_pinned`: ACCOUNT_USER charges `user->locked_vm` against RLIMIT_MEMLOCK
   * (`incr_user_locked_vm`), ACCOUNT_MM charges `mm->locked_vm` as `__account_locked_vm`
   * does (no limit for CAP_IPC_LOCK); `mm->pinned_vm` always moves.
   */
  private account(npages: number, inc: boolean): void {
    if (npages === 0) return;
    const task = this.task;
    const limit = Math.floor(task.rlimitMemlock / Number(PAGE_SIZE));
    if (this.accountMode === 'user') {
      if (inc && task.user.lockedVm + npages > limit)
        throw new KernelError(
          'ENOMEM',
          `locked_vm ${task.user.lockedVm} + ${npages} > RLIMIT_MEMLOCK ${limit}`,
        );
      task.user.lockedVm += inc ? npages : -npages;
    } else if (this.accountMode === 'mm') {
      if (inc && !task.capable('CAP_IPC_LOCK') && task.mm.lockedVm + npages > limit)
        throw new KernelError(
          'ENOMEM',
          `locked_vm ${task.mm.lockedVm} + ${npages} > RLIMIT_MEMLOCK ${limit}`,
        );
      task.mm.lockedVm += inc ? npages : -npages;
    }
    task.mm.pinnedVm = (task.mm.pinnedVm ?? 0) + (inc ? npages : -npages);
  }
}
