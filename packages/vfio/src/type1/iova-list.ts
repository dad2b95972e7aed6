import type { IommuReservedRegion } from '@vfiokit/core';

/** One usable IOVA range, inclusive end (`struct vfio_iova`). */
export interface IovaRange {
  readonly start: number;
  readonly end: number;
}

/**
 * `vfio_iommu_aper_resize`: clips the list to the aperture; an empty list becomes the
 * aperture itself (drivers/vfio/vfio_iommu_type1.c).
 */
export function aperResize(list: readonly IovaRange[], start: number, end: number): IovaRange[] {
  if (list.length === 0) return [{ start, end }];
  const out: IovaRange[] = [];
  for (const r of list) {
    const s = Math.max(r.start, start);
    const e = Math.min(r.end, end);
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
    const rs = region.start;
    const re = region.start + region.size - 1;
    const next: IovaRange[] = [];
    for (const r of out) {
      if (re < r.start || rs > r.end) {
        next.push(r);
        continue;
      }
      if (r.start < rs) next.push({ start: r.start, end: rs - 1 });
      if (re < r.end) next.push({ start: re + 1, end: r.end });
    }
    out = next;
  }
  return out;
}

/** `vfio_iommu_iova_dma_valid`: `[start, end]` lies inside one range, or the list is empty (mdev-only). */
export function iovaDmaValid(list: readonly IovaRange[], start: number, end: number): boolean {
  if (list.length === 0) return true;
  return list.some((r) => start >= r.start && end <= r.end);
}
