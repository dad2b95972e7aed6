import { defineEmulatedDriver } from '../driver-kit/define.js';
import { emulatedPlatformDriver } from '../driver-kit/emulated-driver.js';
import type { EmulatedDriver, EmulatedDriverEnvironment, EmulatedDriverSpec } from '../driver-kit/types.js';

/**
 * `vfio-pl031`: the ARM PL031 RTC (PrimeCell part 0x031) as an emulated-IOMMU VFIO device.
 * One 4 KiB register window (RTCDR, RTCMR, RTCLR, RTCCR, interrupt mask/status/clear,
 * PrimeCell ID) and the alarm interrupt RTCINTR. An APB slave with no DMA interface at all.
 */
export const VFIO_PL031: EmulatedDriverSpec = defineEmulatedDriver({
  name: 'vfio-pl031',
  bus: 'amba',
  ofMatchTable: ['arm,pl031'],
  regions: [{ name: 'RTC registers', size: 0x1000 }],
  irqs: [{ name: 'RTCINTR' }],
  noDma: {
    reason: 'PL031 RTC: APB slave registers only, no DMA interface',
    source: 'ARM DDI0224 (PL031 TRM) ch. 2 and 3; drivers/rtc/rtc-pl031.c',
  },
});

/** The `vfio-pl031` driver on its environment. */
export function vfioPl031Driver(env: EmulatedDriverEnvironment): EmulatedDriver {
  return emulatedPlatformDriver(VFIO_PL031, env);
}
