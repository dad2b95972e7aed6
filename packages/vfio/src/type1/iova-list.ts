import type { IommuDomain, IommuReservedRegion } from '@vfiokit/core';

/**
 * One usable IOVA range, inclusive end (`struct vfio_iova`). `bigint` because an inclusive
 * end of a 56- or 64-bit aperture (`2^56 - 1`, `2^64 - 1`) has no exact `number`.
 */
export interface IovaRange {
  readonly start: bigint;
  readonly end: bigint;
}

/**
 * A domain's `geometry` as exact bigints. core's aperture is in `number`s, whose inclusive end
 * of an aperture wider than 53 bits (`2^n - 1`) has rounded up to `2^n`: such an end is taken
 * as the all-ones value it rounded from (no aperture ends on an even address).
 */
export function apertureOf(domain: IommuDomain): IovaRange {
  const { start, end } = domain.aperture;
  const bigEnd = BigInt(end);
  return {
    start: BigInt(start),
    end: Number.isSafeInteger(end) ? bigEnd : bigEnd - 1n,
  };
}

/**
 * `vfio_iommu_aper_resize`: clips the list to the aperture; an empty list becomes the
 * aperture itself (drivers/vfio/vfio_iommu_type1.c).
 */
export function aperResize(list: readonly IovaRange[], aperture: IovaRange): IovaRange[] {
  if (list.length === 0) return [aperture];
  const out: IovaRange[] = [];
  for (const r of list) {
    const s = r.start > aperture.start ? r.start : aperture.start;
    const e = r.end < aperture.end ? r.end : aperture.end;
    if (s <= e) out.push({ start: s, end: e });
  }
  return out;
}

/** Whether a reserved region counts for VFIO (`IOMMU_RESV_DIRECT_RELAXABLE` does not). */
export function countsAsReserved(region: IommuReservedRegion): boolean {
  return region.type !== 'direct-relaxable';
}

/** `vfio_iommu_resv_exclude`: removes every reserved region from the list. */
export function resvExclude(
  list: readonly IovaRange[],
  reserved: readonly IommuReservedRegion[],
): IovaRange[] {
  let out = [...list];
  for (const region of reserved) {
    if (!countsAsReserved(region) || region.size === 0) continue;
    const rs = BigInt(region.start);
    const re = rs + BigInt(region.size) - 1n;
    const next: IovaRange[] = [];
    for (const r of out) {
      if (re < r.start || rs > r.end) {
        next.push(r);
        continue;
      }
      if (r.start < rs) next.push({ start: r.start, end: rs - 1n });
      if (re < r.end) next.push({ start: re + 1n, end: r.end });
    }
    out = next;
  }
  return out;
}

/** `vfio_iommu_iova_dma_valid`: `[start, end]` lies inside one range, or the list is empty (mdev-only). */
export function iovaDmaValid(list: readonly IovaRange[], start: bigint, end: bigint): boolean {
  if (list.length === 0) return true;
  return list.some((r) => start >= r.start && end <= r.end);
}
