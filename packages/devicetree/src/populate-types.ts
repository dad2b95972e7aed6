/**
 * What {@link populateDevices} returns: the devices of_platform_populate() creates, as
 * plain data. Paths are full node paths; 64-bit quantities are `bigint`.
 */
import type { KernelVersion } from '@vfiokit/core';
import type { FdtError } from './fdt-error.js';
import type { DtResource } from './of-address.js';
import type { GicInterruptType, IrqTrigger } from './of-gic.js';

/** The bus a populated device sits on. */
export type DtDeviceBus = 'platform' | 'amba';

/** A phandle-with-arguments link from a device to a provider node (IOMMU, clock, DMA controller, …). */
export interface DtLink {
  /** Position in the property (empty entries count, so it matches the `*-names` index). */
  readonly index: number;
  /** The matching `*-names` entry (`clock-names`, `dma-names`, …), if any. */
  readonly name: string | undefined;
  /** Full path of the provider node. */
  readonly target: string;
  /** The argument cells (stream ID, clock index, DMA request line, …). */
  readonly args: readonly number[];
  /** Whether the provider node is available (`status` absent, `okay` or `ok`). */
  readonly targetAvailable: boolean;
}

/** One interrupt of a device, resolved to its controller. */
export interface DtIrq {
  /** Index in the device's interrupt list. */
  readonly index: number;
  /** The matching `interrupt-names` entry, if any. */
  readonly name: string | undefined;
  /** Full path of the interrupt controller (after any `interrupt-map`). */
  readonly controller: string;
  /** The specifier in the controller's format. */
  readonly args: readonly number[];
  /** GIC interrupt type, when the controller is a GIC. */
  readonly gicType: GicInterruptType | undefined;
  /** GIC INTID (SPI n → n + 32, PPI n → n + 16, …), when the controller is a GIC. */
  readonly intid: number | undefined;
  /** Trigger type from the GIC flags cell, when the controller is a GIC. */
  readonly trigger: IrqTrigger | undefined;
}

/** A device the kernel would create for a device-tree node. */
export interface DtDevice {
  /** The device name (`dev_name()`), as of_device_make_bus_id() makes it: `7ff00000.dma-controller`. */
  readonly name: string;
  /** `platform` or `amba` (nodes compatible with `arm,primecell`). */
  readonly bus: DtDeviceBus;
  /** Full path of the node. */
  readonly path: string;
  /** Name of the parent device (the bus device it was created under), `undefined` at top level. */
  readonly parent: string | undefined;
  /** The node's `compatible` strings, most specific first. */
  readonly compatible: readonly string[];
  /**
   * MMIO regions with CPU physical addresses. Platform devices: every `reg` entry up to the
   * first that does not translate (of_address_count()); AMBA devices: exactly `reg[0]`.
   */
  readonly regions: readonly DtResource[];
  /**
   * Interrupts. Platform devices: indexes 0.. up to the first that does not resolve
   * (platform_irq_count()); AMBA devices: those of indexes 0..8 that resolve (`adev->irq[]`).
   */
  readonly irqs: readonly DtIrq[];
  /** `iommus` entries (IOMMU node and its `#iommu-cells` arguments: stream IDs, masks). */
  readonly iommus: readonly DtLink[];
  /** The first `msi-parent` entry (`#msi-cells` arguments, 0 cells when the target has none). */
  readonly msiParent: DtLink | undefined;
  /** of_dma_is_coherent(): `dma-coherent` on the node or its nearest DMA ancestor. */
  readonly dmaCoherent: boolean;
  /** `dmas` entries with `dma-names`. */
  readonly dmas: readonly DtLink[];
  /** `resets` entries with `reset-names`. */
  readonly resets: readonly DtLink[];
  /** `clocks` entries with `clock-names`. */
  readonly clocks: readonly DtLink[];
  /** `power-domains` entries with `power-domain-names`. */
  readonly powerDomains: readonly DtLink[];
  /** AMBA only: `arm,primecell-periphid` when present (else the kernel reads it from the hardware). */
  readonly periphid: number | undefined;
  /**
   * Malformed references met while resolving this device (bad phandles, cell counts, cycles).
   * The kernel creates the device anyway and only loses the affected resources, so they are
   * reported here rather than thrown.
   */
  readonly issues: readonly FdtError[];
}

/** Why a node that of_platform_populate() tried did not become a device. */
export type DtSkipReason =
  /** AMBA: of_address_to_resource(node, 0) failed ("amba: of_address_to_resource() failed"). */
  | 'no-resource'
  /** AMBA: request_resource() found the region taken by an earlier AMBA device (-EBUSY). */
  | 'resource-conflict'
  /** device_add() failed: a device with the same name already exists on the bus (-EEXIST). */
  | 'duplicate-name';

/** A node the kernel tried to create a device for and failed. */
export interface DtSkippedNode {
  readonly path: string;
  readonly bus: DtDeviceBus;
  readonly name: string;
  readonly reason: DtSkipReason;
}

/** The full outcome of {@link populate}. */
export interface PopulateResult {
  /** Devices in creation order. */
  readonly devices: readonly DtDevice[];
  /** Nodes whose device creation failed. */
  readonly skipped: readonly DtSkippedNode[];
}

/** Kernel release and configuration that change what gets populated. Unknown keys are refused (`EINVAL`). */
export interface PopulateOptions {
  /**
   * Compatibles of bus nodes whose children are populated too
   * (of_default_bus_match_table: `simple-bus`, `simple-mfd`, `isa`, and `arm,amba-bus` with
   * CONFIG_ARM_AMBA).
   */
  readonly busCompatibles?: readonly string[];
  /** CONFIG_ARM_AMBA (default true, as on arm64): `arm,primecell` nodes become AMBA devices. */
  readonly amba?: boolean;
  /**
   * Nodes initialised before population, which the kernel marks OF_POPULATED so that no
   * platform device is created for them: interrupt controllers that of_irq_init() sets up
   * (IRQCHIP_DECLARE; only available nodes with `interrupt-controller`, reached from a root
   * controller through their interrupt parents) and clock providers matched by of_clk_init()
   * (CLK_OF_DECLARE). Defaults: every IRQCHIP_DECLARE of drivers/irqchip in v6.12 whose node
   * keeps the flag (`DEFAULT_EARLY_IRQCHIPS`: the GICs, `apple,aic2`,
   * `allwinner,sun6i-a31-r-intc`, …) and `fixed-clock`, `fixed-factor-clock`. Which drivers a
   * kernel has depends on its configuration, so pass the lists of the build being modelled.
   * Unknown keys are refused (`EINVAL`).
   */
  readonly earlyInit?: { readonly irqchips?: readonly string[]; readonly clocks?: readonly string[] };
  /**
   * The kernel release whose `drivers/of` to model, `[major, minor]` inside v6.12–v6.18
   * (`EINVAL` outside); default v6.18. What changes: from v6.13 a bus node without its own
   * `#address-cells` matches no address translator, so its children get no `reg` resources and
   * are named without an address (`matchBus`).
   */
  readonly kernel?: KernelVersion;
}
