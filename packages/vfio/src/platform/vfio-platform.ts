import { rejectUnknownOptions } from '@vfiokit/core';
import type { DriverSpec } from '@vfiokit/platform-bus';
import { VFIO_DEVICE_FLAGS_PLATFORM } from '../uapi/flags.js';
import type { VfioPlatformBinder } from './binder.js';
import { type VfioMetaDriverOptions, vfioMetaDriver } from './meta-driver.js';

/** Options of the vfio-platform driver: the module parameter on top of the shared ones. */
export interface VfioPlatformDriverOptions extends VfioMetaDriverOptions {
  /** Module parameter `reset_required` (0444, default true). */
  readonly resetRequired?: boolean;
}

/**
 * `vfio-platform` (drivers/vfio/platform/vfio_platform.c): resources are
 * `platform_get_mem_or_io(i)`, IRQs `platform_get_irq_optional(i)` (−ENXIO past the last),
 * flags PLATFORM, `reset_required` from the module parameter.
 */
export function vfioPlatformDriver(options: VfioPlatformDriverOptions): DriverSpec {
  rejectUnknownOptions(
    options,
    ['vfio', 'resets', 'irqChip', 'iommuGroupOf', 'mmio', 'dmaPolicy', 'delay', 'log', 'resetRequired'],
    'vfioPlatformDriver',
  );
  const resetRequired = options.resetRequired ?? true;
  return vfioMetaDriver(
    'vfio-platform',
    (device): VfioPlatformBinder => ({
      devName: device.name,
      name: device.name,
      flags: VFIO_DEVICE_FLAGS_PLATFORM,
      compatible: device.compatible,
      resetRequired,
      getResource: (i) => {
        const res = device.regions[i];
        if (res === undefined) return undefined;
        const model = options.mmio?.(device, res, i);
        return { type: 'mem', start: res.start, size: res.size, ...(model === undefined ? {} : { model }) };
      },
      getIrq: (i) => device.irqs[i] ?? -6, // -ENXIO
    }),
    options,
  );
}
