import { type AccessSize, KernelError } from '@vfiokit/core';

/**
 * Checks an access against a region's size, as every MmioDevice must (`EFAULT` outside it),
 * and returns the aligned 32-bit word offset the access falls in.
 */
export function wordOffset(device: string, regionSize: number, offset: number, size: AccessSize): number {
  if (!Number.isInteger(offset) || offset < 0 || offset + size > regionSize) {
    throw new KernelError(
      'EFAULT',
      `${device}: access 0x${offset.toString(16)}+${size} is outside the region`,
    );
  }
  return offset & ~3;
}

/** The `size` bytes at byte `lane` (0–3) of a 32-bit register value, little-endian. */
export function extractLanes(word: number, offset: number, size: AccessSize): number {
  const shift = (offset & 3) * 8;
  const mask = size === 4 ? 0xffff_ffff : (1 << (size * 8)) - 1;
  return ((word >>> shift) & mask) >>> 0;
}

/** `old` with the `size` bytes at `offset & 3` replaced by `value` (a sub-word write merges). */
export function mergeLanes(old: number, offset: number, size: AccessSize, value: number): number {
  if (size === 4) return value >>> 0;
  const shift = (offset & 3) * 8;
  const mask = ((1 << (size * 8)) - 1) << shift;
  return ((old & ~mask) | ((value << shift) & mask)) >>> 0;
}
