import type { ErrnoName } from '@vfiokit/core';
import type { Device } from './device.js';

/** One `struct amba_id` entry: matches when `(periphid & mask) === id`; a zero mask ends a table. */
export interface AmbaId {
  readonly id: number;
  readonly mask: number;
  /** Opaque per-entry data handed back to probe (`id->data`). */
  readonly data?: unknown;
}

/**
 * `enum probe_type` (include/linux/device/driver.h): `default` probes synchronously unless
 * the core's `asyncProbeDrivers` option names the driver (`driver_async_probe=` on the
 * kernel command line); `prefer-async` probes on the scheduler; `force-sync` never does.
 */
export type ProbeType = 'default' | 'prefer-async' | 'force-sync';

/** Which rule made a driver match a device. */
export type MatchReason =
  | 'driver_override'
  | 'of'
  | 'acpi'
  | 'id_table'
  | 'name'
  | 'amba_id'
  | 'match_any_device';

/** What probe is told about the match (the matched table entry, as `of_device_get_match_data`). */
export interface MatchInfo {
  /** The rule that matched when the probe was decided; `sysfs_bind` when a bind forced it (AMBA deferral). */
  readonly reason: MatchReason | 'sysfs_bind';
  /** The device compatible string that matched the driver's OF table. */
  readonly compatible?: string;
  /** The matched platform id-table name or ACPI id. */
  readonly id?: string;
  /**
   * The AMBA id entry amba_probe() passes as `id`: amba_lookup() over the driver's table,
   * run even when `driver_override` decided the match; absent when no entry fits (vfio-amba).
   */
  readonly ambaId?: AmbaId;
}

/**
 * What a driver's `remove` returns: nothing when it finished, or a promise when it must wait
 * (vfio's remove waits until user space closes the device's fds: drivers/vfio/vfio_main.c
 * vfio_unregister_group_dev). While it waits, the device keeps its driver and its device
 * lock, so every other operation on that device queues behind it, as it would block in the kernel.
 */
export type RemoveResult = void | Promise<void>;

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
   * Binds the driver to `device`. Throw a `KernelError` to fail: `ENODEV`/`ENXIO` reject the
   * match quietly (the next driver tries), `EPROBE_DEFER` queues the device for retry.
   */
  probe(device: Device, match: MatchInfo): void;
  /** Unbinds; may return a promise to wait (see {@link RemoveResult}). */
  remove?(device: Device): RemoveResult;
}

/** Why a probe failed, as reported by `probe-failed` events and {@link Device.lastProbeError}. */
export interface ProbeFailure {
  readonly driver: string;
  readonly code: ErrnoName;
  readonly message: string;
  /** Which step failed: the driver's probe, or the bus's DMA configuration before it. */
  readonly stage: 'probe' | 'dma_configure';
}
