import { KernelError } from '@vfiokit/core';
import { andThen, type Completion } from './completion.js';
import type { BusContext } from './core-context.js';
import { type Device, type DriverSpec, stateOf } from './device.js';
import { holding, withDeviceLock } from './device-lock.js';
import type { MatchInfo } from './match-info.js';
import { driverMatchDevice, probeOnce } from './probe.js';

/**
 * drivers/base/bus.c bind_store(): driver_match_device() runs without the device lock (so
 * it sees the `driver_override` of the moment, even while a remove holds the lock), then
 * device_driver_attach() takes the lock and probes. Which errors reach the shell depends on
 * the kernel: see `DriverCoreOptions.legacyBindStore`.
 */
export function bindStore(bus: BusContext, driver: DriverSpec, device: Device): Completion {
  const legacy = bus.core.legacyBindStore;
  // Before v5.13: `if (dev && dev->driver == NULL && driver_match_device(drv, dev))`, also unlocked.
  const bound = stateOf(device).driver;
  if (legacy && bound !== null) {
    throw new KernelError('ENODEV', `${device.name} is already bound to ${bound.name}`);
  }
  const match = driverMatchDevice(bus, driver, device);
  if (match === null) throw new KernelError('ENODEV', `${driver.name} does not match ${device.name}`);
  const info = match === 'defer' ? bus.type.forcedMatch(device, driver) : match;
  return withDeviceLock(device, () =>
    holding(
      device,
      legacy ? legacyAttach(bus, driver, device, info) : deviceDriverAttach(bus, driver, device, info),
    ),
  );
}

/**
 * device_driver_attach() (drivers/base/dd.c, v5.13 and later): __driver_probe_device(), so
 * `EBUSY` for a bound device, the probe's own error otherwise, and `EPROBE_DEFER` as
 * `EAGAIN` without queueing the device for retry.
 */
function deviceDriverAttach(
  bus: BusContext,
  driver: DriverSpec,
  device: Device,
  match: MatchInfo,
): Completion {
  return andThen(probeOnce(bus, driver, device, match, 'sysfs_bind'), (outcome) => {
    if (outcome.kind === 'bound') return;
    if (outcome.error.code === 'EPROBE_DEFER') {
      throw new KernelError('EAGAIN', outcome.error.message, { cause: outcome.error });
    }
    throw outcome.error;
  });
}

// Before v5.13 device_driver_attach() → driver_probe_device(), whose really_probe() turned
// every probe failure into 0 ("driver didn't accept device" → -ENODEV) after queueing a deferral.
function legacyAttach(bus: BusContext, driver: DriverSpec, device: Device, match: MatchInfo): Completion {
  const triggerCount = bus.core.deferredTriggerCount;
  return andThen(probeOnce(bus, driver, device, match, 'sysfs_bind'), (outcome) => {
    if (outcome.kind === 'bound') return;
    if (outcome.error.code === 'EPROBE_DEFER') {
      bus.core.deferredAdd(device, driver.name, outcome.error.message);
      if (triggerCount !== bus.core.deferredTriggerCount) bus.core.triggerDeferredProbe();
    }
    throw new KernelError('ENODEV', `${driver.name} did not accept ${device.name}`, { cause: outcome.error });
  });
}
