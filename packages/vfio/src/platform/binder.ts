import type { MmioDevice, PhysAddr } from '@vfiokit/core';

/** A device resource as `get_resource(vdev, i)` returns it (`struct resource`). */
export interface PlatformResource {
  /** `IORESOURCE_MEM`, `IORESOURCE_IO`, or another type (which regions init refuses). */
  readonly type: 'mem' | 'io' | 'other';
  readonly start: PhysAddr;
  readonly size: number;
  /** `IORESOURCE_READONLY`. */
  readonly readOnly?: boolean;
  /** What `ioremap` reaches: the device's register model; absent means ioremap fails (`ENOMEM`). */
  readonly model?: MmioDevice;
}

/**
 * The fields "filled by the bus specific binder" of `struct vfio_platform_device`
 * (drivers/vfio/platform/vfio_platform_private.h): all that differs between vfio-platform and
 * vfio-amba. Everything else lives in the common core.
 */
export interface VfioPlatformBinder {
  /** `dev_name(dev)`: what VFIO_GROUP_GET_DEVICE_FD matches. */
  readonly devName: string;
  /** `vdev->name`: used in IRQ names and messages. */
  readonly name: string;
  /** `VFIO_DEVICE_FLAGS_PLATFORM` or `VFIO_DEVICE_FLAGS_AMBA`. */
  readonly flags: number;
  /** The firmware node's `compatible` list (the first entry selects the reset). */
  readonly compatible: readonly string[];
  readonly resetRequired: boolean;
  getResource(index: number): PlatformResource | undefined;
  /** The Linux IRQ number of interrupt `index`, or a negative errno when there is none. */
  getIrq(index: number): number;
}
