import { KernelError, type PhysAddr, type PhysicalMemory, rejectUnknownOptions } from '@vfiokit/core';

const CPU_PAGE = 4096;

/** Options of a {@link TablePageAllocator}. */
export interface TablePageAllocatorOptions {
  readonly memory: PhysicalMemory;
  /** First byte of the RAM the allocator hands out (CPU-page aligned). */
  readonly base: PhysAddr;
  /** Bytes of RAM it owns; declared as RAM in `memory` at construction. */
  readonly size: number;
}

/**
 * The page allocator io-pgtable-arm takes its tables from (`iommu_alloc_pages_node` with
 * `__GFP_ZERO`, drivers/iommu/iommu-pages.h): an allocation of `bytes` is rounded up to a
 * power-of-two number of 4 KiB CPU pages (`get_order`), aligned to its own size as the buddy
 * allocator aligns an order, and zeroed in memory. Every allocation is accounted, so a test
 * can prove that tables are freed (`liveAllocations`, `allocatedBytes`) and that a double or
 * foreign free is an error rather than silent corruption.
 */
export class TablePageAllocator {
  readonly memory: PhysicalMemory;
  readonly base: number;
  readonly size: number;
  private next: number;
  private readonly freeLists = new Map<number, number[]>();
  private readonly live = new Map<number, number>();
  private bytesLive = 0;
  private peak = 0;

  constructor(options: TablePageAllocatorOptions) {
    rejectUnknownOptions(options, ['memory', 'base', 'size'], 'TablePageAllocator');
    if (options.base % CPU_PAGE !== 0 || options.size % CPU_PAGE !== 0 || options.size <= 0) {
      throw new KernelError('EINVAL', 'TablePageAllocator: base and size must be whole 4 KiB pages');
    }
    this.memory = options.memory;
    this.base = options.base;
    this.size = options.size;
    this.next = options.base;
    this.memory.allocate(options.base, options.size);
  }

  /** Allocations not freed yet. */
  get liveAllocations(): number {
    return this.live.size;
  }

  /** Bytes held by live allocations (after rounding to whole orders). */
  get allocatedBytes(): number {
    return this.bytesLive;
  }

  /** The most bytes ever live at once. */
  get peakBytes(): number {
    return this.peak;
  }

  /** Whether `address` is the start of a live allocation. */
  isAllocated(address: number): boolean {
    return this.live.has(address);
  }

  /** Every live allocation as `[address, bytes]`. */
  allocations(): [number, number][] {
    return [...this.live.entries()];
  }

  /** Allocates and zeroes `bytes` (rounded up to an order); `ENOMEM` when the region is full. */
  alloc(bytes: number): PhysAddr {
    const size = orderSize(bytes);
    const reused = this.freeLists.get(size)?.pop();
    let address: number;
    if (reused !== undefined) address = reused;
    else {
      address = Math.ceil(this.next / size) * size;
      if (address + size > this.base + this.size) {
        throw new KernelError('ENOMEM', `no ${size}-byte table page left in the IOMMU page pool`);
      }
      // Pages skipped to align this one go on the free lists, so no memory is lost.
      this.release(this.next, address);
      this.next = address + size;
    }
    this.memory.write(address as PhysAddr, zeros(size));
    this.live.set(address, size);
    this.bytesLive += size;
    if (this.bytesLive > this.peak) this.peak = this.bytesLive;
    return address as PhysAddr;
  }

  /** Frees an allocation made by `alloc`; `EINVAL` for an address that is not one. */
  free(address: number, bytes: number): void {
    const size = this.live.get(address);
    if (size === undefined || size !== orderSize(bytes)) {
      throw new KernelError(
        'EINVAL',
        `0x${address.toString(16)} is not a live ${bytes}-byte table allocation`,
      );
    }
    this.live.delete(address);
    this.bytesLive -= size;
    let list = this.freeLists.get(size);
    if (list === undefined) {
      list = [];
      this.freeLists.set(size, list);
    }
    list.push(address);
  }

  // Puts [from, to) on the 4 KiB free list (alignment padding).
  private release(from: number, to: number): void {
    for (let at = from; at < to; at += CPU_PAGE) {
      let list = this.freeLists.get(CPU_PAGE);
      if (list === undefined) {
        list = [];
        this.freeLists.set(CPU_PAGE, list);
      }
      list.push(at);
    }
  }
}

function orderSize(bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new KernelError('EINVAL', `bad table allocation size ${String(bytes)}`);
  }
  let size = CPU_PAGE;
  while (size < bytes) size *= 2;
  return size;
}

const zeroPages = new Map<number, Uint8Array>();
function zeros(size: number): Uint8Array {
  let page = zeroPages.get(size);
  if (page === undefined) {
    page = new Uint8Array(size);
    zeroPages.set(size, page);
  }
  return page;
}
