import type { VfioMetaDriverOptions, vfioPlatformDriver } from '@vfiokit/vfio';

/**
 * A platform-bus driver (`DriverSpec`), named through vfio's own driver factory so that this
 * package needs no dependency on platform-bus (the same trick as `DmaPolicyDevice`).
 */
export type BusDriverSpec = ReturnType<typeof vfioPlatformDriver>;

/** The bus device a driver's probe is given (a platform-bus `Device`). */
export type BusDevice = Parameters<BusDriverSpec['probe']>[0];

/** One MMIO region an emulated driver exposes: resource `index` of the device, in order. */
export interface EmulatedRegionSpec {
  /** What the region is (`UART registers`), for reports. */
  readonly name: string;
  /** The register window the driver knows (bytes); the device's resource must be at least this. */
  readonly size: number;
  /** Exposed without VFIO_REGION_INFO_FLAG_WRITE (IORESOURCE_READONLY). */
  readonly readOnly?: boolean;
}

/** One interrupt an emulated driver exposes: interrupt `index` of the device, in order. */
export interface EmulatedIrqSpec {
  /** The device's name for the line (`UARTINTR`), for reports. */
  readonly name: string;
}

/** Why the device cannot master the bus: the claim and where it can be checked. */
export interface NoDmaStatement {
  /** One line, at most `MAX_REASON_LENGTH` characters (the CLI prints it). */
  readonly reason: string;
  /** The TRM / specification and kernel file that show it. */
  readonly source: string;
}

/**
 * A device-specific emulated-IOMMU VFIO driver for a platform (or AMBA) device — the design
 * the VFIO maintainer called viable in answer to the 2024 RFC ("an emulated IOMMU in a device
 * specific context which can understand the device is not capable of DMA"). Not in Linux.
 */
export interface EmulatedDriverSpec {
  /** `drv->name`, what `driver_override` names (`vfio-pl011`). */
  readonly name: string;
  /** The bus the driver registers on; QEMU virt's PL011/PL031/PL061 are AMBA devices. */
  readonly bus: 'platform' | 'amba';
  /** `of_match_table`: the compatibles of the devices this driver knows. */
  readonly ofMatchTable: readonly string[];
  /** The regions exposed through the device fd, resource by resource. */
  readonly regions: readonly EmulatedRegionSpec[];
  /** The interrupts exposed through the device fd (VFIO_IRQ_SET_ACTION_TRIGGER etc.). */
  readonly irqs: readonly EmulatedIrqSpec[];
  /** Why the device cannot do DMA: the knowledge a generic meta driver lacks. */
  readonly noDma: NoDmaStatement;
}

/** What an emulated driver needs from the host: vfio-platform's common environment. */
export type EmulatedDriverEnvironment = Pick<
  VfioMetaDriverOptions,
  'vfio' | 'resets' | 'irqChip' | 'mmio' | 'delay' | 'log'
>;

/** An emulated driver ready to register on its bus: the bus `DriverSpec` plus its declaration. */
export type EmulatedDriver = BusDriverSpec & {
  readonly bus: 'platform' | 'amba';
  readonly spec: EmulatedDriverSpec;
};
