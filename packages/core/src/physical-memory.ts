import type { PhysAddr } from './address.js';
import { KernelError } from './kernel-error.js';
import { rejectUnknownOptions } from './options.js';

const PAGE_SHIFT = 12;
const PAGE_SIZE = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE_SIZE - 1;
// Below this many bytes a plain loop beats creating a subarray view (no allocation).
const SMALL_COPY = 16;

/** Options of a {@link PhysicalMemory}. */
export interface PhysicalMemoryOptions {
  /** Width of the physical address space in bits (default 48, the arm64 PA size of most SoCs). */
  readonly addressBits?: number;
}

interface PageRange {
  readonly first: number;
  readonly end: number;
}

/**
 * Sparse, page-granular (4 KiB) physical memory.
 *
 * Only pages that were written hold storage, so memory use is proportional to pages touched.
 * `allocate` declares RAM: a read of an allocated page that was never written returns zeros.
 * A read of a page that is neither allocated nor written is a bus error, `EFAULT`, as is any
 * access past the address space. Page lookup is one `Map` access.
 */
export class PhysicalMemory {
  /** Width of the address space in bits. */
  readonly addressBits: number;
  /** The first address past the space. */
  readonly limit: number;
  private readonly pages = new Map<number, Uint8Array>();
  // Sorted, disjoint allocated page ranges; searched only when a page is absent from `pages`.
  private readonly allocated: PageRange[] = [];

  constructor(options: PhysicalMemoryOptions = {}) {
    rejectUnknownOptions(options, ['addressBits'], 'PhysicalMemory');
    const bits = options.addressBits ?? 48;
    if (!Number.isInteger(bits) || bits < PAGE_SHIFT || bits > 52) {
      throw new KernelError('EINVAL', `addressBits ${String(bits)} is not between 12 and 52`);
    }
    this.addressBits = bits;
    this.limit = 2 ** bits;
  }

  /** Number of pages that hold storage. */
  get populatedPages(): number {
    return this.pages.size;
  }

  /** Declares `[start, start + size)` as RAM (page-aligned); `EEXIST` when it overlaps RAM already declared. */
  allocate(start: PhysAddr, size: number): void {
    this.checkRange(start, size);
    if (start % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 || size === 0) {
      throw new KernelError(
        'EINVAL',
        `RAM 0x${start.toString(16)}+0x${size.toString(16)} is not whole pages`,
      );
    }
    const range = { first: start / PAGE_SIZE, end: (start + size) / PAGE_SIZE };
    const at = this.firstRangeEndingAfter(range.first);
    const next = this.allocated[at];
    if (next !== undefined && next.first < range.end) {
      throw new KernelError(
        'EEXIST',
        `RAM 0x${start.toString(16)}+0x${size.toString(16)} overlaps RAM already declared`,
      );
    }
    this.allocated.splice(at, 0, range);
  }

  /** Whether a read at `address` succeeds (the page is RAM or was written). */
  isBacked(address: PhysAddr): boolean {
    if (!Number.isSafeInteger(address) || address < 0 || address >= this.limit) return false;
    const pfn = Math.floor(address / PAGE_SIZE);
    return this.pages.has(pfn) || this.isAllocated(pfn);
  }

  /** Copies `into.length` bytes from `address` into `into`. */
  read(address: PhysAddr, into: Uint8Array): void {
    this.checkRange(address, into.length);
    let done = 0;
    while (done < into.length) {
      const at = address + done;
      const offset = at & PAGE_MASK;
      const chunk = Math.min(PAGE_SIZE - offset, into.length - done);
      const page = this.pageForRead(at);
      if (page === undefined) into.fill(0, done, done + chunk);
      else if (chunk <= SMALL_COPY) for (let i = 0; i < chunk; i++) into[done + i] = page[offset + i] ?? 0;
      else into.set(page.subarray(offset, offset + chunk), done);
      done += chunk;
    }
  }

  /** Copies `from` to memory at `address`, populating pages as needed. */
  write(address: PhysAddr, from: Uint8Array): void {
    this.checkRange(address, from.length);
    let done = 0;
    while (done < from.length) {
      const at = address + done;
      const offset = at & PAGE_MASK;
      const chunk = Math.min(PAGE_SIZE - offset, from.length - done);
      const page = this.pageForWrite(at);
      if (chunk <= SMALL_COPY) for (let i = 0; i < chunk; i++) page[offset + i] = from[done + i] ?? 0;
      else page.set(from.subarray(done, done + chunk), offset);
      done += chunk;
    }
  }

  readU8(address: PhysAddr): number {
    return this.readUnsigned(address, 1);
  }

  readU16(address: PhysAddr): number {
    return this.readUnsigned(address, 2);
  }

  readU32(address: PhysAddr): number {
    return this.readUnsigned(address, 4);
  }

  readU64(address: PhysAddr): bigint {
    this.checkRange(address, 8);
    const low = BigInt(this.readUnsigned(address, 4));
    const high = BigInt(this.readUnsigned((address + 4) as PhysAddr, 4));
    return (high << 32n) | low;
  }

  writeU8(address: PhysAddr, value: number): void {
    this.writeUnsigned(address, 1, value);
  }

  writeU16(address: PhysAddr, value: number): void {
    this.writeUnsigned(address, 2, value);
  }

  writeU32(address: PhysAddr, value: number): void {
    this.writeUnsigned(address, 4, value);
  }

  writeU64(address: PhysAddr, value: bigint): void {
    if (value < 0n || value > 0xffff_ffff_ffff_ffffn) {
      throw new KernelError('EINVAL', `value ${value} does not fit in 64 bits`);
    }
    this.checkRange(address, 8);
    this.writeUnsigned(address, 4, Number(value & 0xffff_ffffn));
    this.writeUnsigned((address + 4) as PhysAddr, 4, Number(value >> 32n));
  }

  // Byte at a time, little-endian, lowest address first (so a fault names the first byte
  // that has no memory): allocation-free, and correct across a page boundary.
  private readUnsigned(address: PhysAddr, size: number): number {
    this.checkRange(address, size);
    let value = 0;
    let scale = 1;
    for (let i = 0; i < size; i++) {
      const at = address + i;
      const page = this.pageForRead(at);
      value += (page === undefined ? 0 : (page[at & PAGE_MASK] ?? 0)) * scale;
      scale *= 256;
    }
    return value;
  }

  private writeUnsigned(address: PhysAddr, size: number, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value >= 2 ** (size * 8)) {
      throw new KernelError('EINVAL', `value ${String(value)} does not fit in ${size} bytes`);
    }
    this.checkRange(address, size);
    let rest = value;
    for (let i = 0; i < size; i++) {
      const at = address + i;
      this.pageForWrite(at)[at & PAGE_MASK] = rest % 256;
      rest = Math.floor(rest / 256);
    }
  }

  private checkRange(address: number, size: number): void {
    if (!Number.isSafeInteger(address) || address < 0 || !Number.isSafeInteger(size) || size < 0) {
      throw new KernelError('EINVAL', `bad physical range ${String(address)}+${String(size)}`);
    }
    if (address + size > this.limit) {
      throw new KernelError(
        'EFAULT',
        `0x${address.toString(16)}+0x${size.toString(16)} lies past the ${this.addressBits}-bit physical space`,
      );
    }
  }

  // undefined means "allocated but never written": reads as zeros.
  private pageForRead(address: number): Uint8Array | undefined {
    const pfn = Math.floor(address / PAGE_SIZE);
    const page = this.pages.get(pfn);
    if (page !== undefined || this.isAllocated(pfn)) return page;
    throw new KernelError('EFAULT', `no memory at physical address 0x${address.toString(16)}`);
  }

  private pageForWrite(address: number): Uint8Array {
    const pfn = Math.floor(address / PAGE_SIZE);
    let page = this.pages.get(pfn);
    if (page === undefined) {
      page = new Uint8Array(PAGE_SIZE);
      this.pages.set(pfn, page);
    }
    return page;
  }

  private isAllocated(pfn: number): boolean {
    const range = this.allocated[this.firstRangeEndingAfter(pfn)];
    return range !== undefined && range.first <= pfn;
  }

  // Index of the first range whose end lies past `pfn` (binary search).
  private firstRangeEndingAfter(pfn: number): number {
    let low = 0;
    let high = this.allocated.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.allocated[mid]?.end ?? 0) <= pfn) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
