import { KernelError } from '@vfiokit/core';
import type { Bus } from './bus.js';
import type { Device } from './device.js';
import type { DriverSpec } from './driver.js';
import { ambaMatchInfo } from './match.js';
import { driverMatchDevice, probeOnce } from './probe.js';

/**
 * The body of drivers/base/bus.c bind_store(), run under the device lock: find a match,
 * then device_driver_attach(). Which errors reach the shell depends on the kernel: see
 * `DriverCoreOptions.legacyBindStore`.
 */
export function bindStore(bus: Bus, driver: DriverSpec, device: Device): void {
  if (bus.core.legacyBindStore) {
    legacyBindStore(bus, driver, device);
    return;
  }
  const match = driverMatchDevice(bus, driver, device);
  if (match === null) throw new KernelError('ENODEV', `${driver.name} does not match ${device.name}`);
  const outcome = probeOnce(
    bus,
    driver,
    device,
    match === 'defer' ? ambaMatchInfo('sysfs_bind', device, driver) : match,
    'sysfs_bind',
  );
  if (outcome.kind === 'bound') return;
  if (outcome.error.code === 'EPROBE_DEFER') {
    throw new KernelError('EAGAIN', outcome.error.message, { cause: outcome.error });
  }
  throw outcome.error;
}

// Before v5.13: `if (dev && dev->driver == NULL && driver_match_device(drv, dev))` then
// device_driver_attach() → driver_probe_device(), whose really_probe() turned every probe
// failure into 0 ("driver didn't accept device" → -ENODEV) after queueing a deferral.
function legacyBindStore(bus: Bus, driver: DriverSpec, device: Device): void {
  if (device.core.driver !== null) {
    throw new KernelError('ENODEV', `${device.name} is already bound to ${device.core.driver.name}`);
  }
  const match = driverMatchDevice(bus, driver, device);
  if (match === null) throw new KernelError('ENODEV', `${driver.name} does not match ${device.name}`);
  const triggerCount = bus.core.deferredTriggerCount;
  const outcome = probeOnce(
    bus,
    driver,
    device,
    match === 'defer' ? ambaMatchInfo('sysfs_bind', device, driver) : match,
    'sysfs_bind',
  );
  if (outcome.kind === 'bound') return;
  if (outcome.error.code === 'EPROBE_DEFER') {
    bus.core.deferredAdd(device, driver.name, outcome.error.message);
    if (triggerCount !== bus.core.deferredTriggerCount) bus.core.triggerDeferredProbe();
  }
  throw new KernelError('ENODEV', `${driver.name} did not accept ${device.name}`, { cause: outcome.error });
}
