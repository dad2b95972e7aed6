import type { MmioDevice } from './mmio-device.js';

/**
 * What a reset module acts on: the device's MMIO regions in `reg` order (what
 * `vdev->regions[i].ioaddr` maps in drivers/vfio/platform/vfio_platform_common.c) and a
 * delay in model time, which lets device models progress while the module waits, as
 * `udelay`/`usleep_range` do.
 */
export interface ResetTarget {
  /** The device's name on its bus (`fff50000.ethernet`). */
  readonly name: string;
  /** The device's `compatible` list; the first entry selects the module. */
  readonly compatible: readonly string[];
  /** MMIO regions in `reg` order. */
  readonly regions: readonly MmioDevice[];
  /** Waits at least `microseconds` of model time. */
  delay(microseconds: number): void;
}

/**
 * A reset routine (`int (*of_reset)(struct vfio_platform_device *)`). It returns when the
 * device is quiescent and throws a `KernelError` (for instance `ETIMEDOUT`) when it cannot
 * make it so.
 */
export type ResetHandler = (target: ResetTarget) => void;
