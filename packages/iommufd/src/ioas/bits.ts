import { KernelError } from '@vfiokit/core';

/** `PAGE_SIZE` of the oracle's arm64 kernel (CONFIG_ARM64_4K_PAGES). */
export const PAGE_SIZE = 4096n;
/** `ULONG_MAX` on a 64-bit kernel: IOVAs, lengths and user pointers are `unsigned long`. */
export const ULONG_MAX: bigint = (1n << 64n) - 1n;
/** `U64_MAX`, which IOMMU_IOAS_UNMAP's `length` takes to mean "everything". */
export const U64_MAX: bigint = ULONG_MAX;

/** A u64 argument, as a number or a bigint; the model works in bigint so 2^64-1 is exact. */
export type U64 = number | bigint;

/** A user-supplied u64 as bigint: `EINVAL` for a negative or fractional number or one past 2^64. */
export function u64(value: U64, what: string): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value))
    throw new KernelError('EINVAL', `${what} ${String(value)} is not a safe integer (pass a bigint)`);
  const v = BigInt(value);
  if (v < 0n || v > ULONG_MAX) throw new KernelError('EINVAL', `${what} ${v} is not a u64`);
  return v;
}

/** `roundup_pow_of_two`. */
export function roundupPowOfTwo(n: bigint): bigint {
  let p = 1n;
  while (p < n) p <<= 1n;
  return p;
}

/** `1UL << __ffs64(x)` (x != 0): the lowest set bit. */
export function lowestBit(x: bigint): bigint {
  return x & -x;
}

/** A bigint IOVA/address that user memory and domains (2^53 numbers) can take. */
export function toNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new KernelError('EFAULT', `${what} 0x${value.toString(16)} is past 2^53`);
  return Number(value);
}

export function hex(value: bigint | number): string {
  return `0x${value.toString(16)}`;
}
