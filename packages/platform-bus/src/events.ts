import type { ErrnoName } from '@vfiokit/core';
import type { BusName } from './description.js';
import type { MatchInfo, ProbeFailure } from './match-info.js';

/** A device appeared (`KOBJ_ADD`); for AMBA devices, once its periphid is known. */
export interface DeviceAddEvent {
  readonly bus: BusName;
  readonly device: string;
  /** The `MODALIAS=` the uevent carries. */
  readonly modalias: string;
}

/** A device went away (`KOBJ_REMOVE`). */
export interface DeviceRemoveEvent {
  readonly bus: BusName;
  readonly device: string;
}

/** A driver bound (`KOBJ_BIND`, after driver_bound()). */
export interface BindEvent {
  readonly bus: BusName;
  readonly device: string;
  readonly driver: string;
  readonly match: MatchInfo;
  /** What started the probe. */
  readonly via: ProbeTrigger;
}

/** A driver unbound (`KOBJ_UNBIND`). */
export interface UnbindEvent {
  readonly bus: BusName;
  readonly device: string;
  readonly driver: string;
}

/** A probe failed and left the device unbound. */
export interface ProbeFailedEvent extends ProbeFailure {
  readonly bus: BusName;
  readonly device: string;
  readonly via: ProbeTrigger;
}

/** A device was put on the deferred-probe list. */
export interface DeferredEvent {
  readonly bus: BusName;
  readonly device: string;
  /** The driver whose match or probe deferred (`null` for an AMBA periphid read). */
  readonly driver: string | null;
  readonly code: ErrnoName;
  readonly reason: string;
}

/**
 * What started a probe: device add (`device_add`), driver registration (`driver_attach`),
 * sysfs `bind`, `drivers_probe`, a bus rescan, a deferred-probe retry, or an async task.
 */
export type ProbeTrigger =
  | 'device_add'
  | 'driver_register'
  | 'sysfs_bind'
  | 'drivers_probe'
  | 'rescan'
  | 'deferred'
  | 'async_device_add'
  | 'async_driver_register';

/** Events of a {@link DriverCore} (eventemitter3). */
export interface DriverCoreEvents {
  add: [DeviceAddEvent];
  remove: [DeviceRemoveEvent];
  bind: [BindEvent];
  unbind: [UnbindEvent];
  'probe-failed': [ProbeFailedEvent];
  deferred: [DeferredEvent];
}
