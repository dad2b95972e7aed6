import { VFIO_PL011, VFIO_PL031, VFIO_PL061 } from '@vfiokit/emulated-iommu';

/**
 * NOT IN LINUX — vfiokit's device-specific emulated-IOMMU VFIO drivers (issue #12, seed 001)
 * and the compatibles they match: a device that cannot master DMA and matches one takes the
 * emulated path through it with no opt-in. Other non-master devices can use the Sept 2024
 * RFC's generic route only when the host opts in (`emulated_generic`).
 */
export const EMULATED_DRIVERS: readonly { readonly driver: string; readonly compatible: string }[] = [
  VFIO_PL011,
  VFIO_PL031,
  VFIO_PL061,
].flatMap((spec) => spec.ofMatchTable.map((compatible) => ({ driver: spec.name, compatible })));

/** The RFC's generic emulated-IOMMU route, named in reasons. */
export const EMULATED_GENERIC_DRIVER = 'vfio-platform (emulated IOMMU, RFC)';

/** The device-specific emulated driver for a compatible list, if one matches. */
export function emulatedDriverFor(compatible: readonly string[]): string | undefined {
  return EMULATED_DRIVERS.find((entry) => compatible.includes(entry.compatible))?.driver;
}
