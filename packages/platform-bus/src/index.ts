/**
 * @vfiokit/platform-bus: the Linux driver core for the platform and AMBA buses — matching,
 * `driver_override`, the 2013 proposals (match-any, sysfs-bind-only, explicit-bind-only),
 * bind/unbind, hotplug, deferred and async probe, DMA ownership at probe, and a sysfs facade.
 */
export {
  AMBA_CID,
  ambaConfig,
  ambaManf,
  ambaPart,
  ambaRev,
  CORESIGHT_CID,
  readPeriphid,
} from './amba-periphid.js';
export { ambaProxyDriver } from './amba-proxy.js';
export { Bus } from './bus.js';
export type { BusType } from './bus-type.js';
export { BUS_TYPES, modalias } from './bus-types.js';
export type { Completion } from './completion.js';
export type { BusName, DeviceDescription, MmioResource } from './description.js';
export { Device, type DriverSpec } from './device.js';
export { PLATFORM_DEVID_AUTO, PLATFORM_DEVID_NONE } from './device-name.js';
export { type DmaConfigureHook, platformDmaConfigure } from './dma-configure.js';
export { type DeferredDevice, DriverCore, type DriverCoreOptions } from './driver-core.js';
export type {
  BindEvent,
  DeferredEvent,
  DeviceAddEvent,
  DeviceRemoveEvent,
  DriverCoreEvents,
  ProbeFailedEvent,
  ProbeTrigger,
  UnbindEvent,
} from './events.js';
export { ambaLookup, ambaMatch, platformMatch } from './match.js';
export { DriverIndex, type RegisteredDriver } from './match-index.js';
export type {
  AmbaId,
  MatchInfo,
  MatchReason,
  ProbeFailure,
  ProbeResult,
  ProbeType,
  RemoveResult,
} from './match-info.js';
export { Sysfs, type SysfsSource } from './sysfs.js';
