import type { Bus } from './bus.js';
import { allDone, type Completion } from './completion.js';
import type { Device } from './device.js';
import type { DriverSpec } from './driver.js';
import type { ProbeTrigger } from './events.js';
import { allowsAsyncProbing, attachWalk, deferMatch, driverMatchDevice, driverProbeDevice } from './probe.js';

/**
 * Runs `work` now if the device lock is free, else after it (`device_lock(dev)` in the
 * kernel would block); errors of automatic probing are the kernel's to ignore.
 */
export function whenUnlocked(device: Device, work: () => void): void {
  const held = device.core.lock;
  if (held === null) work();
  else void held.then(() => whenUnlocked(device, work));
}

/**
 * `__device_attach(dev, allow_async = true)` (drivers/base/dd.c) under the device lock: a
 * synchronous pass over drivers that probe synchronously, then, if the device is still
 * unbound and some matching driver wants async probing, an async pass on the scheduler
 * (`__device_attach_async_helper`, which matches again).
 */
export function deviceInitialProbe(bus: Bus, device: Device, via: ProbeTrigger): void {
  if (device.core.dead || device.core.driver !== null) return;
  const result = attachWalk(bus, device, { checkAsync: true, wantAsync: false, automatic: true, via });
  if (result.bound || result.error !== undefined || !result.haveAsync) return;
  bus.core.scheduler.schedule(`async probe ${bus.name}/${device.name}`, () => {
    whenUnlocked(device, () => {
      if (device.core.dead || device.core.driver !== null) return;
      attachWalk(bus, device, {
        checkAsync: true,
        wantAsync: true,
        automatic: true,
        via: 'async_device_add',
      });
    });
  });
}

/** `__driver_attach_async_helper()`: probes the queued driver without matching again. */
function asyncAttach(bus: Bus, device: Device): void {
  const driver = device.core.asyncDriver;
  const match = device.core.asyncMatch;
  device.core.asyncDriver = null;
  device.core.asyncMatch = null;
  if (driver === null || match === null) return;
  driverProbeDevice(bus, driver, device, match, 'async_driver_register');
}

/**
 * `driver_attach()` → `__driver_attach()` (drivers/base/dd.c) for every device of `bus`:
 * no match → next; match `EPROBE_DEFER` → deferred; an async driver is queued once per
 * device (`dev->p->async_driver`, and the async helper does not re-match); otherwise a
 * synchronous probe whose errors are ignored. A device whose lock is held (a remove that
 * waits) is attached once it is released.
 */
export function driverAttach(bus: Bus, driver: DriverSpec): Completion {
  const waits: Completion[] = [];
  for (const device of bus.devices) {
    if (device.explicitBindOnly) continue;
    const step = (): void => {
      if (device.core.dead || bus.index.byName(driver.name)?.spec !== driver) return;
      const match = driverMatchDevice(bus, driver, device);
      if (match === null) return;
      if (match === 'defer') {
        deferMatch(bus, device, driver);
        return;
      }
      if (allowsAsyncProbing(bus, driver)) {
        if (device.core.driver !== null || device.core.asyncDriver !== null) return;
        device.core.asyncDriver = driver;
        device.core.asyncMatch = match;
        bus.core.scheduler.schedule(`async attach ${driver.name} ${bus.name}/${device.name}`, () =>
          whenUnlocked(device, () => asyncAttach(bus, device)),
        );
        return;
      }
      driverProbeDevice(bus, driver, device, match, 'driver_register');
    };
    const held = device.core.lock;
    if (held === null) step();
    else waits.push(held.then(step));
  }
  return allDone(waits);
}
