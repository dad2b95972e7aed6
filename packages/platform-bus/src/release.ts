import type { Bus } from './bus.js';
import { type Completion, isPromise } from './completion.js';
import type { Device } from './device.js';

/**
 * `__device_release_driver()` (drivers/base/dd.c): the driver's remove, then
 * `bus->dma_cleanup`, `dev->driver = NULL`, drvdata cleared, and the unbind uevent. When
 * remove returns a promise (vfio waiting for its fds to close) the device keeps its driver
 * and holds its device lock until the promise settles; the returned promise settles then.
 * Does nothing for an unbound device.
 */
export function releaseDriver(bus: Bus, device: Device): Completion {
  const driver = device.core.driver;
  if (driver === null || device.core.removing) return device.core.lock ?? undefined;
  device.core.removing = true;
  const finish = (): void => {
    bus.core.dmaConfigure.cleanup(device, driver);
    device.core.driver = null;
    device.core.match = null;
    device.core.removing = false;
    device.drvdata = undefined;
    bus.core.emit('unbind', { bus: bus.name, device: device.name, driver: driver.name });
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
  const lock = result.then(finish, finish).finally(() => {
    device.core.lock = null;
  });
  device.core.lock = lock;
  return lock;
}
