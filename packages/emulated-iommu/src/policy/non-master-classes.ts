import type { DmaClassEntry } from './class-entry.js';

/**
 * Simple peripheral classes with no bus-master interface: register slaves on APB (or an
 * SRAM-like bus) whose data moves only through their registers. Some have DMA *request*
 * lines (PL011, PL022, PL180): they ask an external DMA engine to move data, which masters
 * the bus on their behalf and stays with the host. Only the node's MOST SPECIFIC compatible
 * is matched: a fallback compatible promises the register interface, not the absence of a
 * vendor's additions. Sources name the TRM and the Linux driver, whose data path is PIO or
 * through dmaengine (never the device's own DMA).
 */
export const NON_MASTER_CLASSES: readonly DmaClassEntry[] = [
  {
    id: 'arm,pl011',
    compatibles: ['arm,pl011'],
    label: 'PL011 UART',
    reason: 'APB slave; DMA only via request lines',
    source: 'ARM DDI0183 (PL011 TRM, DMA interface); drivers/tty/serial/amba-pl011.c',
    primecellPart: 0x011,
  },
  {
    id: 'arm,sbsa-uart',
    compatibles: ['arm,sbsa-uart'],
    label: 'SBSA generic UART',
    reason: 'PL011 subset without DMA',
    source: 'Arm SBSA (Generic UART); drivers/tty/serial/amba-pl011.c (sbsa_uart)',
  },
  {
    id: 'arm,pl031',
    compatibles: ['arm,pl031'],
    label: 'PL031 RTC',
    reason: 'APB slave registers only',
    source: 'ARM DDI0224 (PL031 TRM); drivers/rtc/rtc-pl031.c',
    primecellPart: 0x031,
  },
  {
    id: 'arm,pl061',
    compatibles: ['arm,pl061'],
    label: 'PL061 GPIO',
    reason: 'APB slave registers only',
    source: 'ARM DDI0190 (PL061 TRM); drivers/gpio/gpio-pl061.c',
    primecellPart: 0x061,
  },
  {
    id: 'arm,sp805',
    compatibles: ['arm,sp805'],
    label: 'SP805 watchdog',
    reason: 'APB slave registers only',
    source: 'ARM DDI0270 (SP805 TRM); drivers/watchdog/sp805_wdt.c',
    primecellPart: 0x805,
  },
  {
    id: 'arm,sp804',
    compatibles: ['arm,sp804'],
    label: 'SP804 dual timer',
    reason: 'APB slave registers only',
    source: 'ARM DDI0271 (SP804 TRM); drivers/clocksource/timer-sp804.c',
    primecellPart: 0x804,
  },
  {
    id: 'arm,pl050',
    compatibles: ['arm,pl050'],
    label: 'PL050 KMI',
    reason: 'APB slave registers only',
    source: 'ARM DDI0143 (PL050 TRM); drivers/input/serio/ambakmi.c',
    primecellPart: 0x050,
  },
  {
    id: 'arm,pl022',
    compatibles: ['arm,pl022'],
    label: 'PL022 SPI',
    reason: 'APB slave; DMA only via request lines',
    source: 'ARM DDI0194 (PL022 TRM); drivers/spi/spi-pl022.c (dmaengine)',
    primecellPart: 0x022,
  },
  {
    id: 'arm,pl180',
    compatibles: ['arm,pl180'],
    label: 'PL180 MMCI',
    reason: 'APB slave; DMA only via request lines',
    source: 'ARM DDI0172 (PL180 TRM); drivers/mmc/host/mmci.c (dmaengine, variant_arm)',
    primecellPart: 0x180,
  },
  {
    id: 'arm,sbsa-gwdt',
    compatibles: ['arm,sbsa-gwdt'],
    label: 'SBSA generic watchdog',
    reason: 'register frames only',
    source: 'Arm SBSA (Generic Watchdog); drivers/watchdog/sbsa_gwdt.c',
  },
  {
    id: 'samsung,s3c2440-i2c',
    compatibles: ['samsung,s3c2440-i2c', 'samsung,s3c2410-i2c'],
    label: 'Samsung I2C',
    reason: 'byte-wide data register, no DMA',
    source: 'Exynos5250 UM (IIC); drivers/i2c/busses/i2c-s3c2410.c (IICDS PIO)',
  },
  {
    id: 'snps,designware-i2c',
    compatibles: ['snps,designware-i2c'],
    label: 'DesignWare I2C',
    reason: 'APB slave; DMA only via handshake lines',
    source: 'DW_apb_i2c databook; drivers/i2c/busses/i2c-designware-master.c (PIO)',
  },
  {
    id: 'snps,dw-apb-uart',
    compatibles: ['snps,dw-apb-uart'],
    label: 'DesignWare UART',
    reason: 'APB slave; DMA only via handshake lines',
    source: 'DW_apb_uart databook; drivers/tty/serial/8250/8250_dw.c',
  },
  {
    id: 'ns16550a',
    compatibles: ['ns16550a', 'ns16550', 'ns16450', 'ns8250'],
    label: '8250/16550 UART',
    reason: 'register slave; DMA mode only signals TXRDY/RXRDY',
    source: 'NS PC16550D datasheet; drivers/tty/serial/8250/8250_of.c',
  },
  {
    id: 'snps,dw-apb-gpio',
    compatibles: ['snps,dw-apb-gpio'],
    label: 'DesignWare GPIO',
    reason: 'APB slave registers only',
    source: 'DW_apb_gpio databook; drivers/gpio/gpio-dwapb.c',
  },
  {
    id: 'snps,dw-wdt',
    compatibles: ['snps,dw-wdt'],
    label: 'DesignWare watchdog',
    reason: 'APB slave registers only',
    source: 'DW_apb_wdt databook; drivers/watchdog/dw_wdt.c',
  },
  {
    id: 'smsc,lan9115',
    compatibles: ['smsc,lan9115', 'smsc,lan9118'],
    label: 'SMSC LAN911x Ethernet',
    reason: 'SRAM-like slave bus, frames copied by the CPU',
    source: 'SMSC LAN9118 datasheet; drivers/net/ethernet/smsc/smsc911x.c (PIO FIFOs)',
  },
  {
    id: 'smsc,lan91c111',
    compatibles: ['smsc,lan91c111', 'smsc,lan91c94'],
    label: 'SMSC LAN91C111 Ethernet',
    reason: 'local-bus slave, frames copied by the CPU',
    source: 'SMSC LAN91C111 datasheet; drivers/net/ethernet/smsc/smc91x.c (PIO)',
  },
];
