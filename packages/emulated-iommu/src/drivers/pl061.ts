import { defineEmulatedDriver } from '../driver-kit/define.js';
import { emulatedPlatformDriver } from '../driver-kit/emulated-driver.js';
import type { EmulatedDriver, EmulatedDriverEnvironment, EmulatedDriverSpec } from '../driver-kit/types.js';

/**
 * `vfio-pl061`: the ARM PL061 GPIO (PrimeCell part 0x061) as an emulated-IOMMU VFIO device.
 * One 4 KiB register window (the address-masked GPIODATA, direction, interrupt sense/edge/
 * event/mask/status/clear, AFSEL, PrimeCell ID) and the combined interrupt GPIOINTR. An APB
 * slave with no DMA interface at all.
 */
export const VFIO_PL061: EmulatedDriverSpec = defineEmulatedDriver({
  name: 'vfio-pl061',
  bus: 'amba',
  ofMatchTable: ['arm,pl061'],
  regions: [{ name: 'GPIO registers', size: 0x1000 }],
  irqs: [{ name: 'GPIOINTR' }],
  noDma: {
    reason: 'PL061 GPIO: APB slave registers only, no DMA interface',
    source: 'ARM DDI0190 (PL061 TRM) ch. 2 and 3; drivers/gpio/gpio-pl061.c',
  },
});

/** The `vfio-pl061` driver on its environment. */
export function vfioPl061Driver(env: EmulatedDriverEnvironment): EmulatedDriver {
  return emulatedPlatformDriver(VFIO_PL061, env);
}
