import { KernelError, type MmioDevice } from '@vfiokit/core';
import type { BusName, DeviceDescription, MmioResource } from './description.js';
import {
  PLATFORM_DEVID_AUTO,
  PLATFORM_DEVID_NONE,
  type PlatformNaming,
  platformDeviceName,
} from './device-name.js';
import { DeviceState } from './device-state.js';
import type { AmbaId, MatchInfo, ProbeFailure, ProbeResult, ProbeType, RemoveResult } from './match-info.js';

const NONE: readonly never[] = Object.freeze([]);

/**
 * Reads a device's private `#state`; set by Device's static block, so the core's modules
 * reach the bookkeeping (not exported by the package) without a WeakMap: a WeakMap entry
 * per device cost a hash lookup on every one of the ~10 reads per attach and an ephemeron
 * for the GC to trace.
 */
let readState: (device: Device) => DeviceState<DriverSpec> | undefined;

/**
 * The driver-core bookkeeping of `device`, changed only through its transition methods.
 * @internal
 */
export function stateOf(device: Device): DeviceState<DriverSpec> {
  const state = readState(device);
  if (state === undefined) throw new KernelError('EINVAL', 'not a Device');
  return state;
}

/**
 * A device on a bus (`struct platform_device` / `struct amba_device`). Drivers read its
 * description in probe; the driver core owns its binding state.
 */
export class Device {
  /** The device name on its bus (`dev_name(dev)`): `serial8250.0`, `12ce0000.i2c`. */
  readonly name: string;
  /**
   * `pdev->name` (platform devices): what platform_match() compares with id-table entries
   * and driver names, and what the `platform:` modalias carries. Equal to {@link name} for
   * device-tree devices (but for a `/`, which becomes `!` only in the device name).
   */
  readonly platformName: string;
  /** `pdev->id`: −1 (PLATFORM_DEVID_NONE) unless the description gave one; the allocated id for AUTO. */
  readonly id: number;
  /** The parent device (`dev->parent`), or `undefined` for the `platform` bus device. */
  readonly parent: Device | undefined;
  /** The device's directory: `/sys/devices/platform/<parents…>/<name>`. */
  readonly sysfsPath: string;
  /** The bus it sits on; `amba` devices are PrimeCells. */
  readonly bus: BusName;
  /** What the creator described. */
  readonly description: DeviceDescription;
  /**
   * IOMMU group number (`/sys/bus/<bus>/devices/<dev>/iommu_group`), set by whoever creates
   * the device or later by the IOMMU driver's probe_device; `undefined` = no IOMMU.
   */
  iommuGroup: number | undefined;
  /** The 2013 proposal's per-device flag (`sysfs_bind_only` attribute): never auto-probed. */
  explicitBindOnly: boolean;
  /** Driver-private data (`dev_get_drvdata`); cleared when the driver unbinds. */
  drvdata: unknown;
  /** Why the last probe attempt failed, if it did; cleared on a successful bind. */
  lastProbeError: ProbeFailure | undefined;
  readonly #state: DeviceState<DriverSpec>;

  static {
    readState = (device) =>
      typeof device === 'object' && device !== null && #state in device ? device.#state : undefined;
  }

  /**
   * @param autoId the id allocated for `PLATFORM_DEVID_AUTO` (the bus allocates it).
   * @param parent the parent device, when the description names one.
   * @param naming `pdev->name` and `pdev->id` when the bus read them from a device name
   *   (`serial8250.0`) rather than from the description.
   */
  constructor(description: DeviceDescription, autoId?: number, parent?: Device, naming?: PlatformNaming) {
    const id = naming?.id ?? description.id ?? PLATFORM_DEVID_NONE;
    const auto = naming?.auto ?? id === PLATFORM_DEVID_AUTO;
    this.id = auto && naming === undefined ? (autoId ?? 0) : id;
    this.platformName = naming?.platformName ?? description.name;
    // AMBA devices never have an id (the bus refuses one), so this is the kobject name.
    this.name = platformDeviceName(this.platformName, this.id, auto);
    this.parent = parent;
    this.sysfsPath = `${parent?.sysfsPath ?? '/sys/devices/platform'}/${this.name}`;
    this.bus = description.bus;
    this.description = description;
    this.iommuGroup = description.iommuGroup;
    this.explicitBindOnly = description.explicitBindOnly ?? false;
    this.drvdata = undefined;
    this.lastProbeError = undefined;
    const override = description.driverOverride;
    this.#state = new DeviceState({
      override: override === undefined || override === '' ? null : override,
      periphid: description.periphid ?? 0,
      primecell: description.primecell,
    });
  }

  /** The bound driver's name, or `null`. */
  get driverName(): string | null {
    return this.#state.driver?.name ?? null;
  }

  /** `driver_override`, or `null` when unset. */
  get driverOverride(): string | null {
    return this.#state.driverOverride;
  }

  /** The `compatible` list (empty for devices without a DT node). */
  get compatible(): readonly string[] {
    return this.description.compatible ?? NONE;
  }

  /** MMIO resources in `reg` order. */
  get regions(): readonly MmioResource[] {
    return this.description.regions ?? NONE;
  }

  /** IRQ numbers in `interrupts` order. */
  get irqs(): readonly number[] {
    return this.description.irqs ?? NONE;
  }

  /** The AMBA peripheral id, 0 until known (always 0 on the platform bus). */
  get periphid(): number {
    return this.#state.periphid;
  }

  /** Whether this device is an AMBA PrimeCell (vfio-amba vs vfio-platform). */
  get isAmba(): boolean {
    return this.bus === 'amba';
  }

  /** How the bound driver matched (the table entry), or `null` when unbound. */
  get match(): MatchInfo | null {
    return this.#state.match;
  }

  /** Whether device_del() has begun: the device is gone from its bus. */
  get dead(): boolean {
    return this.#state.dead;
  }

  /**
   * Makes the PrimeCell ID registers readable (the clock or power domain arrived). As in the
   * kernel this does not itself reprobe: the next deferred-probe trigger (any successful bind,
   * or `DriverCore.triggerDeferredProbe`) retries the device.
   */
  providePrimecellRegisters(model: MmioDevice): void {
    this.#state.providePrimecell(model);
  }
}

/**
 * A driver, as a `struct platform_driver` / `struct amba_driver` describes it. Drivers are
 * plain objects; the bus never mutates them.
 */
export interface DriverSpec {
  /** `drv->name`: the directory under `/sys/bus/<bus>/drivers/` and what `driver_override` names. */
  readonly name: string;
  /** `of_match_table`: compatible strings. */
  readonly ofMatchTable?: readonly string[];
  /** `acpi_match_table`: ACPI ids. */
  readonly acpiMatchTable?: readonly string[];
  /** Platform `id_table` names; when present it is final (no name fallback). */
  readonly idTable?: readonly string[];
  /** AMBA `id_table`. */
  readonly ambaIdTable?: readonly AmbaId[];
  /** `probe_type`; default `default`. */
  readonly probeType?: ProbeType;
  /** `suppress_bind_attrs`: no `bind`/`unbind` files, so no manual bind or unbind. */
  readonly suppressBindAttrs?: boolean;
  /**
   * `driver_managed_dma`: the core does not take the IOMMU default domain at probe (vfio
   * drivers set it; drivers/base/platform.c platform_dma_configure).
   */
  readonly driverManagedDma?: boolean;
  /** `prevent_deferred_probe`: an `EPROBE_DEFER` from probe becomes `ENXIO` (platform.c). */
  readonly preventDeferredProbe?: boolean;
  /** 2013 proposal (`match_any_dev`): matches every device that has no `driver_override`. */
  readonly matchAnyDevice?: boolean;
  /** 2013 proposal (`sysfs_bind_only`): never auto-bound; only its sysfs `bind` file binds it. */
  readonly sysfsBindOnly?: boolean;
  /**
   * Binds the driver to `device`. Throw a `KernelError` (or return a promise that rejects
   * with one) to fail: `ENODEV`/`ENXIO` reject the match quietly (the next driver tries),
   * `EPROBE_DEFER` queues the device for retry. A returned promise holds the device lock
   * until it settles (see {@link ProbeResult}).
   */
  probe(device: Device, match: MatchInfo): ProbeResult;
  /** Unbinds; may return a promise to wait (see {@link RemoveResult}). */
  remove?(device: Device): RemoveResult;
}
