import type { Device } from '@vfiokit/platform-bus';

/** A DMA-capability verdict with its reason, for reports. */
export interface DmaVerdict {
  /** True only when the policy PROVES the device cannot master DMA. */
  readonly cannotDma: boolean;
  readonly reason: string;
}

/**
 * Decides whether a device without an IOMMU provably cannot do DMA, so that vfio-platform may
 * register it in an emulated group (`vfio_register_emulated_iommu_dev`) instead of refusing it
 * (seed 001, after the 2024 RFC "Simple device assignment with VFIO platform"). The interface
 * lives here; `@vfiokit/emulated-iommu` implements it, so vfio does not import it.
 */
export interface DmaCapabilityPolicy {
  assess(device: Device): DmaVerdict;
}
