import { type Completion, isPromise } from './completion.js';
import type { BusContext } from './core-context.js';
import { type Device, stateOf } from './device.js';

/**
 * `__device_release_driver()` (drivers/base/dd.c): driver_sysfs_remove() first (the
 * `driver` link and the driver's link to the device go while `dev->driver` is still set,
 * so sysfs shows no driver during a remove that waits), then the driver's remove,
 * `bus->dma_cleanup`, `dev->driver = NULL`, drvdata cleared, and the unbind uevent. When
 * remove returns a promise (vfio waiting for its fds to close) the device keeps its driver
 * and holds its device lock until the promise settles; the returned promise settles then.
 * Does nothing for an unbound device.
 *
 * Whatever the driver's remove or the cleanup hook does — throw, reject — the device ends
 * unbound and unlocked (the kernel's remove and dma_cleanup return void), and the error is
 * passed on to the caller afterwards: nothing leaves a device `removing` forever.
 */
export function releaseDriver(bus: BusContext, device: Device): Completion {
  const driver = stateOf(device).driver;
  if (driver === null || stateOf(device).removing) return stateOf(device).lock ?? undefined;
  stateOf(device).removeStarted();
  const finish = (): void => {
    try {
      bus.core.dmaConfigure.cleanup(device, driver);
    } finally {
      stateOf(device).unbound();
      device.drvdata = undefined;
      bus.core.emit('unbind', { bus: bus.name, device: device.name, driver: driver.name });
    }
  };
  let result: void | Promise<void>;
  try {
    result = driver.remove?.(device);
  } catch (error) {
    // remove() is void in the kernel: the device is released whatever the driver does, and
    // the driver's exception still reaches the caller (a bug to see, not to swallow).
    finish();
    throw error;
  }
  if (!isPromise(result)) {
    finish();
    return undefined;
  }
  const done = result.then(finish, (error: unknown) => {
    finish();
    throw error;
  });
  // The lock never rejects: operations queued behind it run whatever the remove did.
  stateOf(device).hold(
    done.then(
      () => undefined,
      () => undefined,
    ),
  );
  return done;
}
