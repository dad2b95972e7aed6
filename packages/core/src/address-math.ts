import type { AnyAddress } from './address.js';
import { KernelError } from './kernel-error.js';

/** Page sizes of the arm64 translation granules. */
export const PAGE_SIZE_4K = 0x1000;
export const PAGE_SIZE_16K = 0x4000;
export const PAGE_SIZE_64K = 0x10000;
/** One of the arm64 granule sizes. */
export type PageSize = typeof PAGE_SIZE_4K | typeof PAGE_SIZE_16K | typeof PAGE_SIZE_64K;

/** Whether `value` is a granule size (4K, 16K or 64K). */
export function isPageSize(value: number): value is PageSize {
  return value === PAGE_SIZE_4K || value === PAGE_SIZE_16K || value === PAGE_SIZE_64K;
}

function checkLength(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new KernelError('EINVAL', `${what} ${String(value)} is not a non-negative safe integer`);
  }
}

function checkAlignment(alignment: number): void {
  // A power of two below 2^53; bit tricks do not work above 2^31, so test by division.
  if (
    !Number.isSafeInteger(alignment) ||
    alignment < 1 ||
    2 ** Math.round(Math.log2(alignment)) !== alignment
  ) {
    throw new KernelError('EINVAL', `alignment ${String(alignment)} is not a power of two`);
  }
}

/** `address + offset` in the same space; `EOVERFLOW` past 2^53 − 1, `EINVAL` below zero. */
export function checkedAdd<A extends AnyAddress>(address: A, offset: number): A {
  if (!Number.isSafeInteger(offset)) {
    throw new KernelError('EINVAL', `offset ${String(offset)} is not a safe integer`);
  }
  const sum = address + offset;
  if (sum > Number.MAX_SAFE_INTEGER) {
    throw new KernelError('EOVERFLOW', `0x${address.toString(16)} + 0x${offset.toString(16)} passes 2^53`);
  }
  if (sum < 0) throw new KernelError('EINVAL', `0x${address.toString(16)} + ${offset} is negative`);
  return sum as A;
}

/** The distance `to - from` between two addresses of one space; `EINVAL` when negative. */
export function checkedDistance<A extends AnyAddress>(from: A, to: A): number {
  if (to < from) {
    throw new KernelError('EINVAL', `0x${to.toString(16)} lies below 0x${from.toString(16)}`);
  }
  return to - from;
}

/** Whether `value` (an address or a length) is a multiple of `alignment` (a power of two). */
export function isAligned(value: number, alignment: number): boolean {
  checkAlignment(alignment);
  checkLength('value', value);
  return value % alignment === 0;
}

/** `value` rounded down to a multiple of `alignment` (a power of two). */
export function alignDown<T extends number>(value: T, alignment: number): T {
  checkAlignment(alignment);
  checkLength('value', value);
  return (value - (value % alignment)) as T;
}

/** `value` rounded up to a multiple of `alignment`; `EOVERFLOW` when that passes 2^53 − 1. */
export function alignUp<T extends number>(value: T, alignment: number): T {
  checkAlignment(alignment);
  checkLength('value', value);
  const rest = value % alignment;
  if (rest === 0) return value;
  const up = value - rest + alignment;
  if (up > Number.MAX_SAFE_INTEGER) {
    throw new KernelError(
      'EOVERFLOW',
      `0x${value.toString(16)} aligned up to 0x${alignment.toString(16)} passes 2^53`,
    );
  }
  return up as T;
}

/** A half-open range `[start, start + size)` of one address space. */
export interface AddressRange<A extends AnyAddress> {
  readonly start: A;
  readonly size: number;
}

/** A checked range: `EINVAL` for a bad size, `EOVERFLOW` when its end passes 2^53. */
export function addressRange<A extends AnyAddress>(start: A, size: number): AddressRange<A> {
  checkLength('size', size);
  checkedAdd(start, size);
  return { start, size };
}

/** The first address after the range (exclusive end). */
export function rangeEnd<A extends AnyAddress>(range: AddressRange<A>): A {
  return checkedAdd(range.start, range.size);
}

/** Whether two ranges share at least one byte (empty ranges overlap nothing). */
export function rangesOverlap<A extends AnyAddress>(a: AddressRange<A>, b: AddressRange<A>): boolean {
  if (a.size === 0 || b.size === 0) return false;
  return a.start < b.start + b.size && b.start < a.start + a.size;
}

/** Whether every byte of `inner` lies in `outer` (an empty `inner` is contained where it starts inside or at the end). */
export function rangeContains<A extends AnyAddress>(outer: AddressRange<A>, inner: AddressRange<A>): boolean {
  return inner.start >= outer.start && inner.start + inner.size <= outer.start + outer.size;
}

/** Whether `address` lies in `range`. */
export function rangeContainsAddress<A extends AnyAddress>(range: AddressRange<A>, address: A): boolean {
  return address >= range.start && address < range.start + range.size;
}
