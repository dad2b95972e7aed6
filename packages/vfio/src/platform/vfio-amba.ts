import type { DriverSpec } from '@vfiokit/platform-bus';
import { kernelAtLeast } from '../profile.js';
import { VFIO_DEVICE_FLAGS_AMBA } from '../uapi/flags.js';
import type { VfioPlatformBinder } from './binder.js';
import { type VfioMetaDriverOptions, vfioMetaDriver } from './meta-driver.js';

/** `AMBA_NR_IRQS`. */
export const AMBA_NR_IRQS = 9;

/**
 * `vfio-amba` (drivers/vfio/platform/vfio_amba.c): one region (`adev->res`) at index 0, IRQs
 * `adev->irq[i]` while non-zero (−ENXIO after), name `vfio-amba-%08x` of the periphid, flags
 * AMBA, and never `reset_required`. v6.18 marks it deprecated and says so once at probe.
 */
export function vfioAmbaDriver(options: VfioMetaDriverOptions): DriverSpec {
  let warned = false;
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
  );
  return {
    ...driver,
    probe(device, match): void {
      if (!warned && kernelAtLeast(options.vfio.profile, 6, 18)) {
        warned = true;
        options.log?.('DEPRECATION: The vfio-amba driver will be removed in a future kernel release');
      }
      driver.probe(device, match);
    },
  };
}
