import { defineEmulatedDriver } from '../driver-kit/define.js';
import { emulatedPlatformDriver } from '../driver-kit/emulated-driver.js';
import type { EmulatedDriver, EmulatedDriverEnvironment, EmulatedDriverSpec } from '../driver-kit/types.js';

/**
 * `vfio-pl011`: the ARM PL011 UART (PrimeCell part 0x011) as an emulated-IOMMU VFIO device.
 * One 4 KiB register window (data, flags, baud, line/control, interrupt mask/status, DMA
 * control, PrimeCell ID) and the combined interrupt UARTINTR. The PL011 has no bus-master
 * port: UARTDMACR only enables the request handshake (UARTTXDMASREQ…) to an external DMA
 * engine, which stays with the host.
 */
export const VFIO_PL011: EmulatedDriverSpec = defineEmulatedDriver({
  name: 'vfio-pl011',
  bus: 'amba',
  ofMatchTable: ['arm,pl011'],
  regions: [{ name: 'UART registers', size: 0x1000 }],
  irqs: [{ name: 'UARTINTR' }],
  noDma: {
    reason: 'PL011 UART: APB slave; UARTDMACR only raises request lines to an external DMA engine',
    source: 'ARM DDI0183 (PL011 TRM) §2.4.5 DMA interface; drivers/tty/serial/amba-pl011.c',
  },
});

/** The `vfio-pl011` driver on its environment. */
export function vfioPl011Driver(env: EmulatedDriverEnvironment): EmulatedDriver {
  return emulatedPlatformDriver(VFIO_PL011, env);
}
