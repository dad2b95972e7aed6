import { type Completion, isPromise } from './completion.js';
import { type Device, stateOf } from './device.js';

/**
 * Runs `work` under the device lock (`device_lock(dev)`): at once when the lock is free,
 * otherwise after the probe or remove that holds it. In the kernel the caller would block
 * in `device_lock`; here it gets a promise.
 */
export function withDeviceLock<T>(device: Device, work: () => Completion<T>): Completion<T> {
  const held = stateOf(device).lock;
  if (held === null) return work();
  return held.then(() => withDeviceLock(device, work));
}

/**
 * Runs `work` now if the device lock is free, else after it; automatic probing has no
 * caller to report to, so a waiting result is only watched for driver bugs by `work` itself.
 */
export function whenUnlocked(device: Device, work: () => void): void {
  const held = stateOf(device).lock;
  if (held === null) work();
  else void held.then(() => whenUnlocked(device, work));
}

/**
 * Keeps the device lock held until `completion` settles, when it waits: a probe that waits
 * holds it for the rest of its attach walk and its deferral bookkeeping, as the kernel
 * holds device_lock across __device_attach().
 */
export function holding<T>(device: Device, completion: Completion<T>): Completion<T> {
  if (isPromise(completion)) {
    stateOf(device).hold(
      completion.then(
        () => undefined,
        () => undefined,
      ),
    );
  }
  return completion;
}
