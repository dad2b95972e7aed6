import type { MmioDevice } from '@vfiokit/core';
import type { BusName, DeviceDescription, MmioResource } from './description.js';
import { kobjectName, PLATFORM_DEVID_AUTO, PLATFORM_DEVID_NONE, platformDeviceName } from './device-name.js';
import type { DriverSpec, MatchInfo, ProbeFailure } from './driver.js';

const NONE: readonly never[] = Object.freeze([]);

/**
 * Driver-core bookkeeping of a device (`struct device_private` and the fields of
 * `struct device` the core owns). Exposed read-only for tests and the sysfs facade; only
 * the driver core writes it.
 * @internal
 */
export interface DeviceCoreState {
  /** `dev->driver`. */
  driver: DriverSpec | null;
  /** How `driver` matched when its probe was decided. */
  match: MatchInfo | null;
  /** `driver_override` (NULL = unset). */
  driverOverride: string | null;
  /** `dev->p->dead`: set once device_del() starts. */
  dead: boolean;
  /** `dev->p->async_driver`: a driver whose async attach is queued. */
  asyncDriver: DriverSpec | null;
  /** How `asyncDriver` matched when its attach was queued (the async helper does not re-match). */
  asyncMatch: MatchInfo | null;
  /** `dev->can_match`. */
  canMatch: boolean;
  /** The device lock while a driver's remove waits; later operations queue behind it. */
  lock: Promise<void> | null;
  /** `true` while a remove runs (the driver is still bound but going). */
  removing: boolean;
  /** AMBA `periphid` (0 = not read yet). */
  periphid: number;
  /** AMBA register model, when available. */
  primecell: MmioDevice | undefined;
  /** AMBA: the `add` uevent waits until the periphid is known (amba_match in drivers/amba/bus.c). */
  ueventSuppressed: boolean;
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
  /** @internal driver-core bookkeeping; read-only outside the core. */
  readonly core: DeviceCoreState;

  /**
   * @param autoId the id allocated for `PLATFORM_DEVID_AUTO` (the bus allocates it).
   * @param parent the parent device, when the description names one.
   */
  constructor(description: DeviceDescription, autoId?: number, parent?: Device) {
    const id = description.id ?? PLATFORM_DEVID_NONE;
    const auto = id === PLATFORM_DEVID_AUTO;
    this.id = auto ? (autoId ?? 0) : id;
    this.platformName = description.name;
    this.name =
      description.bus === 'platform'
        ? platformDeviceName(description.name, this.id, auto)
        : kobjectName(description.name);
    this.parent = parent;
    this.sysfsPath = `${parent?.sysfsPath ?? '/sys/devices/platform'}/${this.name}`;
    this.bus = description.bus;
    this.description = description;
    this.iommuGroup = description.iommuGroup;
    this.explicitBindOnly = description.explicitBindOnly ?? false;
    this.drvdata = undefined;
    this.lastProbeError = undefined;
    const periphid = description.periphid ?? 0;
    this.core = {
      driver: null,
      match: null,
      driverOverride:
        description.driverOverride === undefined || description.driverOverride === ''
          ? null
          : description.driverOverride,
      dead: false,
      asyncDriver: null,
      asyncMatch: null,
      canMatch: false,
      lock: null,
      removing: false,
      periphid,
      primecell: description.primecell,
      ueventSuppressed: description.bus === 'amba' && periphid === 0,
    };
  }

  /** The bound driver's name, or `null`. */
  get driverName(): string | null {
    return this.core.driver?.name ?? null;
  }

  /** `driver_override`, or `null` when unset. */
  get driverOverride(): string | null {
    return this.core.driverOverride;
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
    return this.core.periphid;
  }

  /** Whether this device is an AMBA PrimeCell (vfio-amba vs vfio-platform). */
  get isAmba(): boolean {
    return this.bus === 'amba';
  }

  /** How the bound driver matched (the table entry), or `null` when unbound. */
  get match(): MatchInfo | null {
    return this.core.match;
  }

  /** Whether device_del() has begun: the device is gone from its bus. */
  get dead(): boolean {
    return this.core.dead;
  }

  /**
   * Makes the PrimeCell ID registers readable (the clock or power domain arrived). As in the
   * kernel this does not itself reprobe: the next deferred-probe trigger (any successful bind,
   * or `DriverCore.triggerDeferredProbe`) retries the device.
   */
  providePrimecellRegisters(model: MmioDevice): void {
    this.core.primecell = model;
  }
}
