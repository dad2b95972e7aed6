import type { KernelVersion } from './uapi/layout.js';

/**
 * Which kernel's behaviour to model where VFIO changed in ways a user can see. Defaults to
 * v6.18. The research (kernel-semantics §3.1, §4.4, §9.4, §1.3) names the cut-overs:
 * - group viability: before v5.19 a group was viable only when every device was unbound or
 *   bound to a VFIO driver (drivers/vfio/vfio.c group notifier); from v5.19 DMA ownership
 *   (`iommu_group_dma_owner_claimed`) decides;
 * - MSI isolation: before v6.3 a system-wide check (`irq_domain_check_msi_remap`), from v6.3
 *   per device (`iommu_group_has_isolated_msi`);
 * - sysfs bind errors: before v5.13 a failing `bind` write reported `ENODEV` whatever the probe said.
 */
export interface KernelProfile {
  readonly version: KernelVersion;
}

/** The default profile: v6.18. */
export const KERNEL_V6_18: KernelProfile = Object.freeze({ version: [6, 18] as const });

/** Whether `profile` is at least `major.minor`. */
export function kernelAtLeast(profile: KernelProfile, major: number, minor: number): boolean {
  const [a, b] = profile.version;
  return a > major || (a === major && b >= minor);
}

/** v5.19+: viability by DMA ownership rather than by the driver-name allow list. */
export function viabilityByDmaOwnership(profile: KernelProfile): boolean {
  return kernelAtLeast(profile, 5, 19);
}

/** v6.3+: MSI isolation is a per-device property. */
export function perDeviceMsiIsolation(profile: KernelProfile): boolean {
  return kernelAtLeast(profile, 6, 3);
}

/** v5.13+: a failing sysfs `bind` reports the probe's own error (before: always `ENODEV`). */
export function bindReportsProbeError(profile: KernelProfile): boolean {
  return kernelAtLeast(profile, 5, 13);
}
