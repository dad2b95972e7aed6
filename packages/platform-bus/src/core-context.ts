import type { Scheduler } from '@vfiokit/core';
import type { BusType } from './bus-type.js';
import type { BusName } from './description.js';
import type { Device } from './device.js';
import type { DmaConfigureHook } from './dma-configure.js';
import type { DriverCoreEvents } from './events.js';
import type { DriverIndex } from './match-index.js';

/**
 * What the driver core's steps (probe, attach, release, bind) need of the kernel-global
 * state `DriverCore` keeps: configuration, events, the deferred-probe lists, the device
 * directory. An interface, so those steps depend on it and not on `DriverCore` or `Bus`.
 * @internal
 */
export interface CoreContext {
  readonly scheduler: Scheduler;
  readonly dmaConfigure: DmaConfigureHook;
  readonly asyncProbeDrivers: readonly string[] | '*';
  readonly indexedMatching: boolean;
  readonly legacyBindStore: boolean;
  readonly driverOverrideDeviceLock: boolean;
  /** Live devices by their directory under `/sys/devices`. */
  readonly devicePaths: Map<string, Device>;
  /** `deferred_trigger_count`. */
  readonly deferredTriggerCount: number;
  observed(event: keyof DriverCoreEvents): boolean;
  emit<K extends keyof DriverCoreEvents>(event: K, ...args: DriverCoreEvents[K]): void;
  /** driver_deferred_probe_add(). */
  deferredAdd(device: Device, driver: string | null, reason: string): void;
  /** driver_deferred_probe_del(). */
  deferredDel(device: Device): void;
  /** driver_deferred_probe_trigger(). */
  triggerDeferredProbe(): void;
  /** The live platform device called exactly `name` (a parent). */
  platformDevice(name: string): Device | undefined;
  /** A driver bug (a non-`KernelError` thrown where the kernel has no error path) surfaced on the scheduler. */
  reportBug(error: unknown): void;
}

/**
 * One bus as the driver core's steps see it.
 * @internal
 */
export interface BusContext {
  readonly name: BusName;
  readonly type: BusType;
  readonly index: DriverIndex;
  readonly core: CoreContext;
  /** Live devices in the order they were added. */
  readonly devices: readonly Device[];
}
