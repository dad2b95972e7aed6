import { KernelError, type ResetTarget, rejectUnknownOptions } from '@vfiokit/core';
import type { DeviceModel } from '../models/device-model.js';
import type { ResetDeviceInfo } from '../registry/providers.js';

/** A {@link ResetTarget} over a device model, with the model time its delays consumed. */
export interface ModelTarget extends ResetTarget {
  /** Microseconds of `delay` so far. */
  readonly elapsedMicroseconds: number;
}

/**
 * The reset target a vfio driver would hand a module for `model`: its regions in `reg` order,
 * and a `delay` that advances the model's time (so polling loops see the device progress).
 */
export function modelTarget(
  model: DeviceModel,
  device: { readonly name: string; readonly compatible: readonly string[] },
): ModelTarget {
  // The device may be the ResetDeviceInfo given to getReset (acpi, resets are ignored here); any
  // other key is a typo (`compatibles`) that would leave the target without its compatibles.
  rejectUnknownOptions(device as ResetDeviceInfo, ['name', 'compatible', 'acpi', 'resets'], 'modelTarget');
  let elapsed = 0;
  return {
    name: device.name,
    compatible: device.compatible,
    regions: model.regions,
    get elapsedMicroseconds(): number {
      return elapsed;
    },
    delay(microseconds: number): void {
      if (!Number.isFinite(microseconds) || microseconds < 0) {
        throw new KernelError('EINVAL', `delay of ${String(microseconds)} µs`);
      }
      elapsed += microseconds;
      model.tick(Math.ceil(microseconds));
    },
  };
}
