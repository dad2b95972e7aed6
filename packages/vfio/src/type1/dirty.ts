import { KernelError } from '@vfiokit/core';
import {
  VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_START,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP,
} from '../uapi/generated-constants.js';
import {
  vfioBitmap,
  vfioIommuType1DirtyBitmap,
  vfioIommuType1DirtyBitmapGet,
} from '../uapi/generated-structs.js';
import type { Task } from '../user/task.js';
import type { VfioDma } from './dma.js';
import type { Type1Iommu } from './type1-iommu.js';

// drivers/vfio/vfio_iommu_type1.c dirty page tracking: one bit per smallest IOMMU page, in u64
// words. DIRTY_BITMAP_SIZE_MAX is DIRTY_BITMAP_BYTES(INT_MAX pages).
export const DIRTY_BITMAP_SIZE_MAX = 0x1000_0000n;
// access_ok on arm64 with 48-bit VAs: the range must lie below TASK_SIZE.
const TASK_SIZE = 2n ** 48n;

/** `DIRTY_BITMAP_BYTES(n)`: whole u64 words. */
function bitmapBytes(npages: bigint): bigint {
  return ((npages + 63n) / 64n) * 8n;
}

/** `verify_bitmap_size`. */
export function verifyBitmapSize(npages: bigint, size: bigint): void {
  if (npages === 0n || size === 0n || size > DIRTY_BITMAP_SIZE_MAX || size < bitmapBytes(npages))
    throw new KernelError('EINVAL', `dirty bitmap of ${size} bytes for ${npages} pages`);
}

/** `access_ok(data, size)`. */
export function accessOk(data: bigint, size: bigint): void {
  if (data + size > TASK_SIZE)
    throw new KernelError('EINVAL', `bitmap 0x${data.toString(16)} is not user memory`);
}

/** `vfio_dma_bitmap_alloc` + `vfio_dma_populate_bitmap`: pages pinned for emulated devices start dirty. */
export function allocDmaBitmap(iommu: Type1Iommu, dma: VfioDma): void {
  const bits = dma.size / iommu.minPageSize;
  dma.bitmap = new Uint8Array(Math.ceil(bits / 64) * 8);
  for (const at of dma.pfnList.keys()) setBit(dma.bitmap, (at - dma.iova) / iommu.minPageSize);
}

/** Marks `[iova, iova + length)` of a mapping dirty while tracking (pins and `vfio_dma_rw` writes). */
export function markDirty(iommu: Type1Iommu, dma: VfioDma, iova: number, length: number): void {
  if (!iommu.dirtyPageTracking || dma.bitmap === null || length <= 0) return;
  const page = iommu.minPageSize;
  const first = Math.floor((iova - dma.iova) / page);
  const last = Math.floor((iova + length - 1 - dma.iova) / page);
  for (let bit = first; bit <= last; bit++) setBit(dma.bitmap, bit);
}

/** `vfio_iommu_populate_bitmap_full`: every page of every mapping dirty. */
export function populateBitmapFull(iommu: Type1Iommu): void {
  for (const dma of iommu.dmas.all()) if (dma.bitmap !== null) dma.bitmap.fill(0xff);
}

function setBit(bitmap: Uint8Array, bit: number): void {
  bitmap[bit >> 3] = (bitmap[bit >> 3] ?? 0) | (1 << (bit & 7));
}

function getBit(bitmap: Uint8Array, bit: number): boolean {
  return ((bitmap[bit >> 3] ?? 0) & (1 << (bit & 7))) !== 0;
}

/**
 * `update_user_bitmap`: writes a mapping's bits into the user's bitmap at its offset from
 * `baseIova`, keeping the user's bits below it in the first word (the leftover) and clearing
 * the rest of the last word, as the kernel's word copy does. All pages are dirty when an IOMMU
 * group that cannot report dirty pages is attached and the mapping is IOMMU-mapped.
 */
export function updateUserBitmap(
  iommu: Type1Iommu,
  current: Task,
  dma: VfioDma,
  baseIova: number,
  data: bigint,
): void {
  const page = iommu.minPageSize;
  const nbits = dma.size / page;
  const bitOffset = (dma.iova - baseIova) / page;
  const word = Math.floor(bitOffset / 64);
  const shift = bitOffset % 64;
  const bytes = Number(bitmapBytes(BigInt(nbits + shift)));
  const address = data + BigInt(word * 8);
  const all = numNonPinnedGroups(iommu) > 0 && dma.pinned.length > 0;
  const out = new Uint8Array(bytes);
  if (shift > 0) {
    const leftover = copyFromUser(current, address, 8);
    for (let bit = 0; bit < shift; bit++) if (getBit(leftover, bit)) setBit(out, bit);
  }
  for (let bit = 0; bit < nbits; bit++)
    if (all || (dma.bitmap !== null && getBit(dma.bitmap, bit))) setBit(out, bit + shift);
  copyToUser(current, address, out);
}

/** `num_non_pinned_groups`: attached IOMMU groups (emulated groups report through their pins). */
function numNonPinnedGroups(iommu: Type1Iommu): number {
  return iommu.domains.reduce((n, d) => n + d.groups.length, 0);
}

function copyToUser(current: Task, address: bigint, bytes: Uint8Array): void {
  if (current.copyToUser === undefined) throw new KernelError('EFAULT', 'the task has no user memory');
  current.copyToUser(Number(address), bytes);
}

function copyFromUser(current: Task, address: bigint, length: number): Uint8Array {
  if (current.copyFromUser === undefined) throw new KernelError('EFAULT', 'the task has no user memory');
  return current.copyFromUser(Number(address), length);
}

/**
 * `vfio_iova_dirty_bitmap`: the range must not bisect a mapping (`EINVAL`); each mapping inside
 * is reported, then its bitmap is cleared and re-populated with the pinned pages.
 */
function iovaDirtyBitmap(iommu: Type1Iommu, current: Task, data: bigint, iova: number, size: number): void {
  const page = iommu.minPageSize;
  const first = iommu.dmas.find(iova, page);
  if (first !== undefined && first.iova !== iova)
    throw new KernelError('EINVAL', 'the range bisects a mapping');
  const last = iommu.dmas.find(iova + size - page, page);
  if (last !== undefined && last.iova + last.size !== iova + size)
    throw new KernelError('EINVAL', 'the range bisects a mapping');
  for (const dma of iommu.dmas.overlapping(iova, iova + size)) {
    if (dma.iova < iova) continue;
    updateUserBitmap(iommu, current, dma, iova, data);
    allocDmaBitmap(iommu, dma);
  }
}

/**
 * `vfio_iommu_type1_dirty_pages` (VFIO_IOMMU_DIRTY_PAGES): `EACCES` unless TYPE1v2; `EINVAL`
 * for a short argsz, unknown flags or not exactly one flag. START allocates a bitmap per mapping
 * (pinned pages dirty), STOP frees them; GET_BITMAP needs a `vfio_iommu_type1_dirty_bitmap_get`
 * after the header (`EINVAL` when short), a range that does not wrap, user memory for the
 * bitmap, a bitmap big enough, the smallest IOMMU page size, aligned iova and size, and tracking
 * on (each `EINVAL`).
 */
export function type1DirtyPages(iommu: Type1Iommu, current: Task, bytes: Uint8Array): void {
  if (!iommu.v2) throw new KernelError('EACCES', 'VFIO_IOMMU_DIRTY_PAGES needs TYPE1v2');
  const minsz = vfioIommuType1DirtyBitmap.offsetofend('flags');
  const dirty = vfioIommuType1DirtyBitmap.decodePrefix(bytes, minsz);
  const mask =
    VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
    VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP |
    VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
  if (dirty.argsz < minsz || (dirty.flags & ~mask) !== 0)
    throw new KernelError(
      'EINVAL',
      `vfio_iommu_type1_dirty_bitmap argsz ${dirty.argsz} flags 0x${dirty.flags.toString(16)}`,
    );
  // __ffs(flags) != __fls(flags): exactly one flag (none counts as one in the kernel's bit
  // arithmetic and then matches no branch, returning -EINVAL).
  if ((dirty.flags & (dirty.flags - 1)) !== 0)
    throw new KernelError('EINVAL', 'only one dirty-pages flag at a time');
  if (dirty.flags === VFIO_IOMMU_DIRTY_PAGES_FLAG_START) {
    if (!iommu.dirtyPageTracking) {
      for (const dma of iommu.dmas.all()) allocDmaBitmap(iommu, dma);
      iommu.dirtyPageTracking = true;
    }
    return;
  }
  if (dirty.flags === VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP) {
    if (iommu.dirtyPageTracking) {
      iommu.dirtyPageTracking = false;
      for (const dma of iommu.dmas.all()) dma.bitmap = null;
    }
    return;
  }
  if (dirty.flags !== VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP)
    throw new KernelError('EINVAL', 'no dirty-pages operation');
  const dataSize = dirty.argsz - minsz;
  if (dataSize === 0 || dataSize < vfioIommuType1DirtyBitmapGet.size)
    throw new KernelError('EINVAL', 'no vfio_iommu_type1_dirty_bitmap_get after the header');
  const range = vfioIommuType1DirtyBitmapGet.decode(bytes, minsz);
  const iova = range.iova;
  const size = range.size;
  if (iova + size > 0xffff_ffff_ffff_ffffn + 1n || iova + size < iova)
    throw new KernelError('EINVAL', 'the range wraps');
  const data = range['bitmap.data'];
  accessOk(data, range['bitmap.size']);
  const pgsize = range['bitmap.pgsize'];
  const pgshift = pgsize === 0n ? 63n : BigInt((pgsize & -pgsize).toString(2).length - 1);
  verifyBitmapSize(size >> pgshift, range['bitmap.size']);
  const page = BigInt(iommu.minPageSize);
  if (pgsize !== page) throw new KernelError('EINVAL', `bitmap page size ${pgsize} is not ${page}`);
  if ((iova & (page - 1n)) !== 0n || size === 0n || (size & (page - 1n)) !== 0n)
    throw new KernelError('EINVAL', 'iova or size not aligned to the page size');
  if (!iommu.dirtyPageTracking) throw new KernelError('EINVAL', 'dirty page tracking is not started');
  iovaDirtyBitmap(iommu, current, data, Number(iova), Number(size));
}

/** The `struct vfio_bitmap` after an UNMAP_DMA header, decoded (for GET_DIRTY_BITMAP). */
export function unmapBitmap(bytes: Uint8Array, at: number): { pgsize: bigint; size: bigint; data: bigint } {
  return vfioBitmap.decode(bytes, at);
}
