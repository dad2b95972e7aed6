import type { ErrnoName } from '@vfiokit/core';

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
 * What a driver's `probe` returns: nothing when it bound, or a promise for a probe that
 * awaits something. The driver core holds the device lock until the promise settles (the
 * kernel's probe runs under device_lock), and a rejection is a failed probe exactly as a
 * throw is: `ENODEV`/`ENXIO` let the next driver try, `EPROBE_DEFER` defers.
 */
export type ProbeResult = void | Promise<void>;

/** Why a probe failed, as reported by `probe-failed` events and {@link Device.lastProbeError}. */
export interface ProbeFailure {
  readonly driver: string;
  readonly code: ErrnoName;
  readonly message: string;
  /** Which step failed: the driver's probe, or the bus's DMA configuration before it. */
  readonly stage: 'probe' | 'dma_configure';
}
