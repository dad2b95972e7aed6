import type { IommuReservedRegion, IommuReservedRegionType } from './iommu-domain.js';
import { IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_WRITE } from './iommu-domain.js';

/** `MSI_IOVA_BASE` of the Arm SMMU drivers (arm-smmu.c, arm-smmu-v3.c): the software MSI window. */
export const MSI_IOVA_BASE = 0x800_0000;
/** `MSI_IOVA_LENGTH`: 1 MiB. */
export const MSI_IOVA_LENGTH = 0x10_0000;

/**
 * The software MSI window the Arm SMMU drivers' `get_resv_regions` report
 * (`iommu_alloc_resv_region(MSI_IOVA_BASE, MSI_IOVA_LENGTH, IOMMU_WRITE | IOMMU_NOEXEC |
 * IOMMU_MMIO, IOMMU_RESV_SW_MSI)`; drivers/iommu/arm/arm-smmu/arm-smmu.c).
 */
export function swMsiRegion(): IommuReservedRegion {
  return {
    start: MSI_IOVA_BASE as IommuReservedRegion['start'],
    size: MSI_IOVA_LENGTH,
    type: 'sw-msi',
    prot: IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO,
  };
}

/** `enum iommu_resv_type` values, which order regions of the same start. */
const TYPE_ORDER: Record<IommuReservedRegionType, number> = {
  direct: 0,
  'direct-relaxable': 1,
  reserved: 2,
  msi: 3,
  'sw-msi': 4,
};

/** The names `/sys/kernel/iommu_groups/<n>/reserved_regions` prints (`iommu_resv_type_string`). */
export const RESV_TYPE_NAMES: Record<IommuReservedRegionType, string> = {
  direct: 'direct',
  'direct-relaxable': 'direct-relaxable',
  reserved: 'reserved',
  msi: 'msi',
  'sw-msi': 'msi',
};

/**
 * `iommu_insert_resv_region` (drivers/iommu/iommu.c): inserts `region` into `regions`, kept
 * sorted by start (then type), and merges it with overlapping or adjacent regions of the same
 * type; regions of other types are left as they are, overlapping or not. Returns a new list.
 */
export function insertReservedRegion(
  regions: readonly IommuReservedRegion[],
  region: IommuReservedRegion,
): IommuReservedRegion[] {
  const list = [...regions];
  let at = list.findIndex(
    (r) =>
      region.start < r.start || (region.start === r.start && TYPE_ORDER[region.type] <= TYPE_ORDER[r.type]),
  );
  if (at < 0) at = list.length;
  list.splice(at, 0, { ...region });
  // The kernel's merge pass: walk in order; regions of the new type merge into the last kept
  // region of that type when they overlap it or touch it (start <= top_end + 1).
  const out: IommuReservedRegion[] = [];
  for (const r of list) {
    if (r.type !== region.type) {
      out.push(r);
      continue;
    }
    let top = -1;
    for (let i = out.length - 1; i >= 0; i--) {
      if (out[i]?.type === r.type) {
        top = i;
        break;
      }
    }
    const prev = top < 0 ? undefined : out[top];
    if (prev === undefined || r.start > prev.start + prev.size) {
      out.push(r);
      continue;
    }
    const end = Math.max(prev.start + prev.size - 1, r.start + r.size - 1);
    out[top] = { ...prev, size: end - prev.start + 1 };
  }
  return out;
}

/** `iommu_get_group_resv_regions`: every member's regions inserted one by one, in member order. */
export function groupReservedRegions(
  perDevice: readonly (readonly IommuReservedRegion[])[],
): IommuReservedRegion[] {
  let regions: IommuReservedRegion[] = [];
  for (const device of perDevice)
    for (const region of device) regions = insertReservedRegion(regions, region);
  return regions;
}
