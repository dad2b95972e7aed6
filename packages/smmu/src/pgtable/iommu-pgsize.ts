import { KernelError } from '@vfiokit/core';

/** The largest power of two dividing `value` (2^53 for 0, which every size divides). */
export function lowestBit(value: number): number {
  if (value === 0) return 2 ** 53;
  let bit = 1;
  while ((value / bit) % 2 === 0) bit *= 2;
  return bit;
}

/** Where {@link iommu_pgsize} leaves its page count (reused, so mapping does not allocate). */
export interface PgsizeCount {
  count: number;
}

/**
 * `iommu_pgsize()` of drivers/iommu/iommu.c: the biggest supported page size that fits `size`
 * and the alignment of both `iova` and `paddr`, and how many pages of it to map before the
 * next bigger page size becomes usable (so `[iova, iova + count * pgsize)` stops at that
 * boundary when the rest of the range can take a bigger page). `pgsizeBitmap` holds sizes
 * up to 1 GiB, so it fits 32-bit bitwise arithmetic; addresses do not, and use division.
 */
export function iommu_pgsize(
  pgsizeBitmap: number,
  iova: number,
  paddr: number,
  size: number,
  out: PgsizeCount,
): number {
  const align = Math.min(lowestBit(iova), lowestBit(paddr));
  let pgsize = 0;
  for (let bit = 1; bit <= 0x4000_0000; bit *= 2) {
    if ((pgsizeBitmap & bit) !== 0 && bit <= size && bit <= align) pgsize = bit;
  }
  // BUG_ON(!pgsizes) in the kernel; callers check alignment first, so this is a caller bug.
  if (pgsize === 0)
    throw new KernelError('EINVAL', `no page size fits 0x${size.toString(16)} at 0x${iova.toString(16)}`);
  let next = 0;
  for (let bit = pgsize * 2; bit <= 0x4000_0000; bit *= 2) {
    if ((pgsizeBitmap & bit) !== 0) {
      next = bit;
      break;
    }
  }
  let span = size;
  if (next !== 0 && iova % next === paddr % next) {
    // Offset to the next bigger page size's boundary; stop there if a bigger page then fits.
    const offset = next - ((iova % next) | (paddr % next));
    if (offset + next <= size) span = offset;
  }
  out.count = Math.floor(span / pgsize);
  return pgsize;
}
