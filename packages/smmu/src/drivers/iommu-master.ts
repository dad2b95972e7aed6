import type { IommuEndpoint, IommuGroup, IommuReservedRegion } from '@vfiokit/core';

/**
 * One `iommus` entry of a master (`struct of_phandle_args`): the IOMMU node and its
 * `#iommu-cells` arguments. `@vfiokit/devicetree`'s `DtLink` has this shape.
 */
export interface IommuLink {
  /** Full path of the IOMMU node. */
  readonly target: string;
  /** The argument cells (stream ID, SMR mask, or none). */
  readonly args: readonly number[];
  /** `of_device_is_available()` of the IOMMU node. */
  readonly targetAvailable: boolean;
}

/** A bus master as of_iommu_configure() sees it. */
export interface IommuMaster {
  /** `dev_name(dev)`. */
  readonly name: string;
  /** `iommus`, in property order, up to the first entry of_parse_phandle_with_args() refuses. */
  readonly iommus: readonly IommuLink[];
  /** `device_get_dma_attr(dev) == DEV_DMA_COHERENT` (of_dma_is_coherent of the master). */
  readonly dmaCoherent: boolean;
}

/**
 * `struct iommu_fwspec`: the IOMMU instance the master was first linked to
 * (`iommu_fwnode`), the driver it belongs to, and the IDs every `of_xlate` added.
 */
export interface IommuFwspec {
  /** Path of the first IOMMU node of `iommus` (`fwspec->iommu_fwnode`). */
  readonly iommu: string;
  /** The driver (`iommu_fwspec_ops`): later entries must name an instance of the same driver. */
  readonly ops: IommuOps;
  /** `fwspec->ids`: arm-smmu packs the SMR mask into bits [31:16]. */
  readonly ids: number[];
}

/**
 * The part of `struct iommu_ops` the probe path calls, one object per driver
 * (`arm_smmu_ops`, `arm_smmu_v3_ops`, `exynos_iommu_ops`).
 */
export interface IommuOps {
  readonly name: string;
  /** `of_xlate`: append the firmware IDs of one `iommus` entry to the fwspec. */
  ofXlate(fwspec: IommuFwspec, link: IommuLink): void;
  /**
   * `probe_device` then `device_group` (drivers/iommu/iommu.c __iommu_probe_device →
   * iommu_group_get_for_dev): the group the master joins and the endpoint (its stream IDs)
   * that the group's domains attach. Throws the driver's error, having undone its own work.
   */
  probeDevice(master: IommuMaster, fwspec: IommuFwspec): { group: IommuGroup; endpoint: IommuEndpoint };
  /** `release_device`: undo what `probe_device` allocated (stream map entries, STEs). */
  releaseDevice(master: IommuMaster, fwspec: IommuFwspec): void;
  /** `capable(dev, IOMMU_CAP_CACHE_COHERENCY)`. */
  cacheCoherent(master: IommuMaster, fwspec: IommuFwspec): boolean;
  /** `get_resv_regions`. */
  reservedRegions(master: IommuMaster, fwspec: IommuFwspec): readonly IommuReservedRegion[];
}
