import { allDone, type Completion, isPromise } from './completion.js';
import type { BusContext } from './core-context.js';
import { type Device, type DriverSpec, stateOf } from './device.js';
import { whenUnlocked } from './device-lock.js';
import type { ProbeTrigger } from './events.js';
import {
  type AttachResult,
  allowsAsyncProbing,
  attachWalk,
  deferMatch,
  driverMatchDevice,
  driverProbeDevice,
  watch,
} from './probe.js';

/**
 * `__device_attach(dev, allow_async = true)` (drivers/base/dd.c) under the device lock: a
 * synchronous pass over drivers that probe synchronously, then, if the device is still
 * unbound and some matching driver wants async probing, an async pass on the scheduler
 * (`__device_attach_async_helper`, which matches again).
 */
export function deviceInitialProbe(bus: BusContext, device: Device, via: ProbeTrigger): void {
  if (stateOf(device).dead || stateOf(device).driver !== null) return;
  const walked = attachWalk(bus, device, { checkAsync: true, wantAsync: false, automatic: true, via });
  // A walk that finished at once takes no closure (attach is the hot path).
  if (!isPromise(walked)) {
    scheduleAsyncPass(bus, device, walked);
    return;
  }
  watch(
    bus,
    walked.then((result) => scheduleAsyncPass(bus, device, result)),
  );
}

/** The second, async pass of __device_attach(), when the sync pass left a matching async driver. */
function scheduleAsyncPass(bus: BusContext, device: Device, result: AttachResult): void {
  if (result.bound || result.error !== undefined || !result.haveAsync) return;
  bus.core.scheduler.schedule(`async probe ${bus.name}/${device.name}`, () => {
    whenUnlocked(device, () => {
      if (stateOf(device).dead || stateOf(device).driver !== null) return;
      watch(
        bus,
        attachWalk(bus, device, {
          checkAsync: true,
          wantAsync: true,
          automatic: true,
          via: 'async_device_add',
        }),
      );
    });
  });
}

/** `__driver_attach_async_helper()`: probes the queued driver without matching again. */
function asyncAttach(bus: BusContext, device: Device): void {
  const queued = stateOf(device).takeAsync();
  if (queued === null) return;
  watch(bus, driverProbeDevice(bus, queued.driver, device, queued.match, 'async_driver_register'));
}

/**
 * `driver_attach()` → `__driver_attach()` (drivers/base/dd.c) for every device of `bus`:
 * no match → next; match `EPROBE_DEFER` → deferred; an async driver is queued once per
 * device (`dev->p->async_driver`, and the async helper does not re-match); otherwise a
 * synchronous probe whose errors are ignored. A device whose lock is held (a probe or
 * remove that waits) is attached once it is released.
 */
export function driverAttach(bus: BusContext, driver: DriverSpec): Completion {
  const waits: Completion[] = [];
  for (const device of bus.devices) {
    if (device.explicitBindOnly) continue;
    const step = (): Completion => {
      if (stateOf(device).dead || bus.index.byName(driver.name)?.spec !== driver) return;
      const match = driverMatchDevice(bus, driver, device);
      if (match === null) return;
      if (match === 'defer') {
        deferMatch(bus, device, driver);
        return;
      }
      if (allowsAsyncProbing(bus, driver)) {
        if (stateOf(device).driver !== null || stateOf(device).asyncDriver !== null) return;
        stateOf(device).queueAsync(driver, match);
        bus.core.scheduler.schedule(`async attach ${driver.name} ${bus.name}/${device.name}`, () =>
          whenUnlocked(device, () => asyncAttach(bus, device)),
        );
        return;
      }
      const outcome = driverProbeDevice(bus, driver, device, match, 'driver_register');
      return isPromise(outcome) ? outcome.then(() => undefined) : undefined;
    };
    const held = stateOf(device).lock;
    waits.push(held === null ? step() : held.then(step));
  }
  return allDone(waits);
}
