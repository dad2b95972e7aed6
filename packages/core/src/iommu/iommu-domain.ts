import type { Iova, PhysAddr } from '../address.js';

/** `IOMMU_READ`, `IOMMU_WRITE`, … of include/linux/iommu.h, combined with `|`. */
export const IOMMU_READ: number = 1 << 0;
export const IOMMU_WRITE: number = 1 << 1;
export const IOMMU_CACHE: number = 1 << 2;
export const IOMMU_NOEXEC: number = 1 << 3;
export const IOMMU_MMIO: number = 1 << 4;
export const IOMMU_PRIV: number = 1 << 5;

/** A set of `IOMMU_*` protection bits. */
export type IommuProt = number;

/** The direction of one bus access, as an IOMMU checks it. */
export type IommuAccess = 'read' | 'write';

/**
 * Why a translation failed.
 * - `translation`: no mapping covers the IOVA (an SMMU translation fault).
 * - `permission`: a mapping exists but does not allow this access.
 * - `address-size`: the IOVA lies outside the domain's aperture (input address size fault).
 * - `blocked`: the domain lets nothing through (a BLOCKED domain, or none attached).
 */
export type IommuFaultKind = 'translation' | 'permission' | 'address-size' | 'blocked';

/** A structured translation failure: what was asked and why it was refused. */
export interface IommuFault {
  readonly kind: IommuFaultKind;
  readonly iova: Iova;
  readonly access: IommuAccess;
  /** One line saying why, for reports (`no mapping at 0x40000000`). */
  readonly reason: string;
}

/** Whether a `translate` result is a fault rather than an address. */
export function isIommuFault(result: PhysAddr | IommuFault): result is IommuFault {
  return typeof result !== 'number';
}

/** `enum iommu_resv_type` of include/linux/iommu.h. */
export type IommuReservedRegionType = 'direct' | 'direct-relaxable' | 'reserved' | 'msi' | 'sw-msi';

/** A region of IOVA space the IOMMU keeps for itself (`struct iommu_resv_region`). */
export interface IommuReservedRegion {
  readonly start: Iova;
  readonly size: number;
  readonly type: IommuReservedRegionType;
  readonly prot: IommuProt;
}

/** A bus master the domain translates for: a device and the stream IDs it emits. */
export interface IommuEndpoint {
  /** The device's name on its bus (`7ff00000.dma-controller`). */
  readonly device: string;
  readonly streamIds: readonly number[];
}

/** `domain->type` of include/linux/iommu.h, as far as VFIO cares. */
export type IommuDomainType = 'unmanaged' | 'dma' | 'identity' | 'blocked';

/**
 * An IOMMU translation domain: a set of IOVA → physical mappings that attached endpoints'
 * DMA goes through (`struct iommu_domain` with its `iommu_domain_ops`).
 *
 * `map`, `unmap` and `translate` follow include/linux/iommu.h: IOVA, physical address and
 * size must be aligned to the smallest page size in `pgsizeBitmap` (`EINVAL`), a map over
 * an existing mapping fails with `EEXIST`, and `unmap` returns the bytes it unmapped, which
 * may be fewer than asked. `translate` never throws for a bad IOVA: it returns a fault.
 */
export interface IommuDomain {
  readonly type: IommuDomainType;
  /** Supported page sizes, one bit per size (`domain->pgsize_bitmap`), e.g. 4K|2M|1G. */
  readonly pgsizeBitmap: number;
  /** The IOVA range the domain can translate (`domain->geometry`), inclusive end. */
  readonly aperture: { readonly start: Iova; readonly end: Iova };
  /** Endpoints currently attached. */
  readonly endpoints: readonly IommuEndpoint[];
  /** Attaches an endpoint; `EBUSY` when it is attached already, `EINVAL` when incompatible. */
  attach(endpoint: IommuEndpoint): void;
  /** Detaches an endpoint; `ENODEV` when it is not attached. */
  detach(endpoint: IommuEndpoint): void;
  /** Maps `[iova, iova + size)` to `[paddr, paddr + size)` with `prot`. */
  map(iova: Iova, paddr: PhysAddr, size: number, prot: IommuProt): void;
  /** Unmaps what lies in `[iova, iova + size)`; returns the bytes unmapped. */
  unmap(iova: Iova, size: number): number;
  /** The physical address an access at `iova` reaches, or why it cannot. */
  translate(iova: Iova, access: IommuAccess): PhysAddr | IommuFault;
  /** Regions of IOVA space the IOMMU reserves (MSI windows, direct mappings). */
  reservedRegions(): readonly IommuReservedRegion[];
  /**
   * `domain->ops`: the same object for every domain one IOMMU driver allocates (arm-smmu's
   * `arm_smmu_ops`, …). VFIO's type1 tries to put a new group into an existing domain with the
   * same ops before keeping a new one (vfio_iommu_type1_attach_group). Absent: never shared.
   */
  readonly ops?: object;
  /**
   * `iommu_domain_free`: the driver takes back what the domain holds (a context bank, an
   * ASID, its page tables). Absent: the domain holds nothing that needs freeing.
   */
  free?(): void;
}

/** The smallest page size of a `pgsizeBitmap` (its lowest set bit). */
export function minPageSize(pgsizeBitmap: number): number {
  if (!Number.isSafeInteger(pgsizeBitmap) || pgsizeBitmap <= 0) return 0;
  let size = 1;
  while (pgsizeBitmap % (size * 2) === 0) size *= 2;
  return size;
}
