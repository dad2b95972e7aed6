import type { Device } from './device.js';

/**
 * The result of an operation that may have to wait for a driver's `remove` (vfio waits for
 * user space to close its fds): `undefined` when it finished, or a promise that settles when
 * it does. Awaiting either form is safe.
 */
export type Completion = void | Promise<void>;

/** Whether `value` is a promise (a thenable). */
export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** One completion for many: `undefined` when all finished, else a promise for the rest. */
export function allDone(results: readonly Completion[]): Completion {
  const pending = results.filter((r): r is Promise<void> => isPromise(r));
  if (pending.length === 0) return undefined;
  return Promise.all(pending).then(() => undefined);
}

/**
 * Runs `work` under the device lock (`device_lock(dev)`): at once when the lock is free,
 * otherwise after the pending remove that holds it. In the kernel the caller would block in
 * `device_lock`; here it gets a promise.
 */
export function withDeviceLock<T>(device: Device, work: () => T): T | Promise<Awaited<T>> {
  const held = device.core.lock;
  if (held === null) return work();
  return held.then(() => withDeviceLock(device, work)) as Promise<Awaited<T>>;
}
