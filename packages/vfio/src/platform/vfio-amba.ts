import { rejectUnknownOptions } from '@vfiokit/core';
import type { DriverSpec } from '@vfiokit/platform-bus';
import { type KernelProfile, kernelAtLeast } from '../profile.js';
import { VFIO_DEVICE_FLAGS_AMBA } from '../uapi/flags.js';
import type { VfioPlatformBinder } from './binder.js';
import { type VfioMetaDriverOptions, vfioMetaDriver } from './meta-driver.js';

/** `AMBA_NR_IRQS`. */
export const AMBA_NR_IRQS = 9;

/**
 * The notice "vfio/amba: Mark for removal" (Alex Williamson, merged for v6.18) added to
 * `vfio_amba_probe`: `dev_err_once(&adev->dev, "DEPRECATION: ...")`, printed before the device
 * is even allocated, once per boot.
 */
export const VFIO_AMBA_DEPRECATION =
  'DEPRECATION: vfio-amba is deprecated and will be removed in a future kernel release';

/** The vfio-amba deprecation notice under `profile` (v6.18 and later), else null. */
export function vfioAmbaDeprecation(profile: KernelProfile): string | null {
  return kernelAtLeast(profile, 6, 18) ? VFIO_AMBA_DEPRECATION : null;
}

/**
 * `vfio-amba` (drivers/vfio/platform/vfio_amba.c): one region (`adev->res`) at index 0, IRQs
 * `adev->irq[i]` while non-zero (−ENXIO after), name `vfio-amba-%08x` of the periphid, flags
 * AMBA, and never `reset_required`. v6.18 marks it deprecated and says so once at probe.
 */
export function vfioAmbaDriver(options: VfioMetaDriverOptions): DriverSpec {
  rejectUnknownOptions(
    options,
    ['vfio', 'resets', 'irqChip', 'iommuGroupOf', 'mmio', 'dmaPolicy', 'delay', 'log'],
    'vfioAmbaDriver',
  );
  let warned = false;
  const deprecation = vfioAmbaDeprecation(options.vfio.profile);
  const driver = vfioMetaDriver(
    'vfio-amba',
    (device): VfioPlatformBinder => ({
      devName: device.name,
      name: `vfio-amba-${device.periphid.toString(16).padStart(8, '0')}`,
      flags: VFIO_DEVICE_FLAGS_AMBA,
      compatible: device.compatible,
      resetRequired: false,
      getResource: (i) => {
        const res = i === 0 ? device.regions[0] : undefined;
        if (res === undefined) return undefined;
        const model = options.mmio?.(device, res, 0) ?? device.description.primecell;
        return { type: 'mem', start: res.start, size: res.size, ...(model === undefined ? {} : { model }) };
      },
      getIrq: (i) => {
        const irq = i < AMBA_NR_IRQS ? device.irqs[i] : undefined;
        return irq === undefined || irq === 0 ? -6 : irq; // -ENXIO
      },
    }),
    options,
    deprecation,
  );
  return {
    ...driver,
    probe(device, match): void {
      // dev_err_once: the first probe's device names the line ("vfio-amba <dev>: ..."),
      // whether or not that probe then succeeds.
      if (!warned && deprecation !== null) {
        warned = true;
        options.log?.(`vfio-amba ${device.name}: ${deprecation}`);
      }
      driver.probe(device, match);
    },
  };
}
