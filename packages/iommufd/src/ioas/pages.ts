import { KernelError, type PhysAddr } from '@vfiokit/core';
import type { IommufdTask } from '../task.js';
import { hex, PAGE_SIZE, toNumber } from './bits.js';

const PAGE = Number(PAGE_SIZE);

/** `enum iopt_pages_account_mode` of drivers/iommu/iommufd/io_pagetable.h. */
export type PagesAccountMode = 'none' | 'user' | 'mm';

/** A run of pinned pages, physically contiguous, all with the same number of holders. */
interface Segment {
  first: bigint;
  last: bigint;
  paddr: number;
  holders: number;
}

/** Physically contiguous pinned pages `[index, index + npages)` starting at `paddr`. */
export interface PinnedRun {
  readonly index: bigint;
  readonly npages: number;
  readonly paddr: PhysAddr;
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
  /** Pinned pages as sorted, disjoint runs (the kernel's pinned_pfns xarray and domains, compressed). */
  private segments: Segment[] = [];

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
    let n = 0;
    for (const seg of this.segments) n += Number(seg.last - seg.first + 1n);
    return n;
  }

  /** The physical address of a pinned page, or undefined. */
  pinnedPage(index: bigint): PhysAddr | undefined {
    const seg = this.segments.find((x) => x.first <= index && index <= x.last);
    return seg === undefined ? undefined : ((seg.paddr + Number(index - seg.first) * PAGE) as PhysAddr);
  }

  /** The pinned runs covering `[first, last]`; `EFAULT` if a page there is not pinned. */
  runs(first: bigint, last: bigint): PinnedRun[] {
    const out: PinnedRun[] = [];
    let cursor = first;
    for (const seg of this.segments) {
      if (seg.last < cursor) continue;
      if (seg.first > cursor) break;
      const to = seg.last < last ? seg.last : last;
      out.push({
        index: cursor,
        npages: Number(to - cursor + 1n),
        paddr: (seg.paddr + Number(cursor - seg.first) * PAGE) as PhysAddr,
      });
      cursor = to + 1n;
      if (cursor > last) return out;
    }
    throw new KernelError('EFAULT', `page ${cursor} of ${hex(this.uptr)} is not pinned`);
  }

  /**
   * Takes one hold on pages `[first, last]` (inclusive indexes), pinning those not pinned
   * yet: `pin_user_pages_fast` (`EFAULT` for an unmapped page, a `VM_PFNMAP` page, or a
   * write pin of a read-only vma) then `do_update_pinned` (`ENOMEM` past RLIMIT_MEMLOCK).
   * All or nothing: a failure leaves no new hold and no new pin.
   */
  hold(first: bigint, last: bigint): PinnedRun[] {
    const fresh: Segment[] = [];
    let freshPages = 0;
    let cursor = first;
    const gaps: [bigint, bigint][] = [];
    for (const seg of this.segments) {
      if (seg.last < cursor) continue;
      if (seg.first > last) break;
      if (seg.first > cursor) gaps.push([cursor, seg.first - 1n]);
      cursor = seg.last + 1n;
    }
    if (cursor <= last) gaps.push([cursor, last]);
    for (const [from, to] of gaps) {
      for (const seg of this.pin(from, to)) {
        fresh.push(seg);
        freshPages += Number(seg.last - seg.first + 1n);
      }
    }
    this.account(freshPages, true);
    if (fresh.length > 0)
      this.segments = [...this.segments, ...fresh].sort((a, b) => (a.first < b.first ? -1 : 1));
    for (const seg of this.split(first, last)) seg.holders++;
    return this.runs(first, last);
  }

  /** Drops one hold on `[first, last]`; pages nobody holds are unpinned and uncharged. */
  release(first: bigint, last: bigint): void {
    let covered = 0n;
    for (const seg of this.segments)
      if (seg.last >= first && seg.first <= last)
        covered += (seg.last < last ? seg.last : last) - (seg.first > first ? seg.first : first) + 1n;
    if (covered !== last - first + 1n)
      throw new KernelError('EINVAL', `pages ${first}-${last} of ${hex(this.uptr)} are not held`);
    let freed = 0;
    for (const seg of this.split(first, last)) {
      seg.holders--;
      if (seg.holders === 0) freed += Number(seg.last - seg.first + 1n);
    }
    this.segments = this.segments.filter((seg) => seg.holders > 0);
    this.account(freed, false);
  }

  /** Splits segments at `first` and `last + 1`; returns those inside `[first, last]`. */
  private split(first: bigint, last: bigint): Segment[] {
    const out: Segment[] = [];
    const next: Segment[] = [];
    for (const seg of this.segments) {
      if (seg.last < first || seg.first > last) {
        next.push(seg);
        continue;
      }
      if (seg.first < first) {
        next.push({ ...seg, last: first - 1n });
        seg.paddr += Number(first - seg.first) * PAGE;
        seg.first = first;
      }
      if (seg.last > last) {
        next.push(seg);
        const tail = {
          first: last + 1n,
          last: seg.last,
          paddr: seg.paddr + Number(last + 1n - seg.first) * PAGE,
          holders: seg.holders,
        };
        seg.last = last;
        next.push(tail);
        out.push(seg);
        continue;
      }
      next.push(seg);
      out.push(seg);
    }
    this.segments = next.sort((a, b) => (a.first < b.first ? -1 : 1));
    return out;
  }

  /** `pin_user_pages_fast` over `[from, to]`: new segments (no holder yet), one per user chunk. */
  private pin(from: bigint, to: bigint): Segment[] {
    const vaddr = toNumber(this.uptr + from * PAGE_SIZE, 'user address');
    const out: Segment[] = [];
    let index = from;
    for (const chunk of this.task.mm.addressSpace.resolve(vaddr, Number(to - from + 1n) * PAGE)) {
      const at = hex(this.uptr + index * PAGE_SIZE);
      // pin_user_pages refuses VM_IO | VM_PFNMAP vmas (check_vma_flags) with -EFAULT.
      if (chunk.pfnmap) throw new KernelError('EFAULT', `${at} is a VM_PFNMAP mapping`);
      if (this.writable && !chunk.writable)
        throw new KernelError('EFAULT', `${at} is read-only and the map is writeable`);
      const npages = BigInt(chunk.size / PAGE);
      out.push({ first: index, last: index + npages - 1n, paddr: chunk.paddr, holders: 0 });
      index += npages;
    }
    return out;
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
