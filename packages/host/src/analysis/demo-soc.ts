import { type DeviceTree, DeviceTreeBuilder, ref } from '@vfiokit/devicetree';

/** The `source` the analysis reports for the built-in SoC. */
export const DEMO_SOC_SOURCE = 'demo-soc (built in)';

// GIC specifier cells: <type number flags>; SPI = 0, level-high = 4.
const spi = (n: number): number[] => [0, n, 4];

/**
 * The built-in demo SoC `vfiokit analyze` runs on without a file: a small Arm SoC made in code
 * so that every kind of answer shows — a PL011 UART (non-master, but bound to the built-in
 * console driver, which has no unbind file), a PL031 RTC (non-master: the emulated path
 * through vfio-pl031, assignable), a PL330 behind an SMMU with no MSI parent (needs allow_unsafe_interrupts), a
 * Calxeda xgmac behind the SMMU whose MSIs go to a GICv3 ITS (assignable; its reset module is
 * deprecated in 6.18), an accelerator pair sharing a stream ID whose MSIs go to a GICv2m frame
 * (one group, not isolated), an Exynos I2C controller at 12ce0000 with pins and clocks from
 * the host (non-master, no device-specific driver), a sensor with clocks and resets from the
 * host's clock controller whose DMA capability nothing proves (unknown), a SATA controller
 * without an IOMMU (DMA master: only no-IOMMU mode), the host's clock, pin and GPIO
 * controllers (which stay with the host) and a disabled second UART.
 */
export function buildDemoSoc(): DeviceTree {
  return new DeviceTreeBuilder()
    .root((root) => {
      root
        .string('compatible', 'vfiokit,demo-soc')
        .string('model', 'vfiokit demo SoC')
        .cells('#address-cells', 1)
        .cells('#size-cells', 1)
        .cells('interrupt-parent', ref('gic'));
      root.node('interrupt-controller@2f000000', (gic) => {
        gic
          .label('gic')
          .string('compatible', 'arm,gic-v3')
          .cells('#interrupt-cells', 3)
          .cells('#address-cells', 1)
          .cells('#size-cells', 1)
          .flag('ranges')
          .flag('interrupt-controller')
          .cells('reg', 0x2f000000, 0x10000, 0x2f100000, 0x200000)
          .cells('interrupts', 1, 9, 4);
        gic.node('msi-controller@2f020000', (its) => {
          its
            .label('its')
            .string('compatible', 'arm,gic-v3-its')
            .flag('msi-controller')
            .cells('#msi-cells', 1)
            .cells('reg', 0x2f020000, 0x20000);
        });
        gic.node('v2m@2f040000', (v2m) => {
          v2m
            .label('v2m')
            .string('compatible', 'arm,gic-v2m-frame')
            .flag('msi-controller')
            .cells('reg', 0x2f040000, 0x1000)
            .cells('arm,msi-base-spi', 224)
            .cells('arm,msi-num-spis', 32);
        });
      });
      root.node('refclk24mhz', (clk) => {
        clk
          .label('refclk')
          .string('compatible', 'fixed-clock')
          .cells('#clock-cells', 0)
          .cells('clock-frequency', 24000000)
          .string('clock-output-names', 'refclk24mhz');
      });
      root.node('soc', (soc) => {
        soc
          .string('compatible', 'simple-bus')
          .cells('#address-cells', 1)
          .cells('#size-cells', 1)
          .flag('ranges');
        soc.node('clock-controller@10010000', (cru) => {
          cru
            .label('cru')
            .string('compatible', 'vfiokit,demo-cru')
            .cells('reg', 0x10010000, 0x1000)
            .cells('#clock-cells', 1)
            .cells('#reset-cells', 1)
            .cells('clocks', ref('refclk'));
        });
        soc.node('pinctrl@11400000', (pinctrl) => {
          pinctrl.string('compatible', 'vfiokit,demo-pinctrl').cells('reg', 0x11400000, 0x1000);
          pinctrl.node('i2c2-bus', (state) => {
            state
              .label('i2c2_bus')
              .string('samsung,pins', 'gpa0-6', 'gpa0-7')
              .cells('samsung,pin-function', 3);
          });
        });
        soc.node('gpio@1c0b0000', (gpio) => {
          gpio
            .label('gpio')
            .string('compatible', 'arm,pl061', 'arm,primecell')
            .cells('arm,primecell-periphid', 0x00041061)
            .cells('reg', 0x1c0b0000, 0x1000)
            .cells('interrupts', ...spi(7))
            .flag('gpio-controller')
            .cells('#gpio-cells', 2)
            .flag('interrupt-controller')
            .cells('#interrupt-cells', 2)
            .cells('clocks', ref('refclk'))
            .string('clock-names', 'apb_pclk');
        });
        soc.node('serial@1c090000', (uart) => {
          uart
            .string('compatible', 'arm,pl011', 'arm,primecell')
            .cells('arm,primecell-periphid', 0x00241011)
            .cells('reg', 0x1c090000, 0x1000)
            .cells('interrupts', ...spi(5))
            .cells('clocks', ref('refclk'), ref('refclk'))
            .string('clock-names', 'uartclk', 'apb_pclk');
        });
        soc.node('rtc@1c170000', (rtc) => {
          rtc
            .string('compatible', 'arm,pl031', 'arm,primecell')
            .cells('arm,primecell-periphid', 0x00041031)
            .cells('reg', 0x1c170000, 0x1000)
            .cells('interrupts', ...spi(4))
            .cells('clocks', ref('refclk'))
            .string('clock-names', 'apb_pclk');
        });
        soc.node('serial@1c0a0000', (uart) => {
          uart
            .string('compatible', 'arm,pl011', 'arm,primecell')
            .cells('arm,primecell-periphid', 0x00241011)
            .cells('reg', 0x1c0a0000, 0x1000)
            .cells('interrupts', ...spi(6))
            .string('status', 'disabled');
        });
        soc.node('iommu@2b400000', (smmu) => {
          smmu
            .label('smmu')
            .string('compatible', 'arm,mmu-500', 'arm,smmu-v2')
            .cells('reg', 0x2b400000, 0x10000)
            .cells('#global-interrupts', 1)
            .cells('interrupts', ...spi(40), ...spi(41))
            .cells('#iommu-cells', 1);
        });
        soc.node('dma-controller@7ff00000', (dma) => {
          dma
            .string('compatible', 'arm,pl330', 'arm,primecell')
            .cells('arm,primecell-periphid', 0x00241330)
            .cells('reg', 0x7ff00000, 0x1000)
            .cells('interrupts', ...spi(88), ...spi(89))
            .cells('#dma-cells', 1)
            .cells('iommus', ref('smmu'), 0)
            .cells('clocks', ref('refclk'))
            .string('clock-names', 'apb_pclk');
        });
        soc.node('ethernet@fff50000', (eth) => {
          eth
            .string('compatible', 'calxeda,hb-xgmac')
            .cells('reg', 0xfff50000, 0x1000)
            .cells('interrupts', ...spi(77), ...spi(78), ...spi(79))
            .flag('dma-coherent')
            .cells('iommus', ref('smmu'), 1)
            .cells('msi-parent', ref('its'), 0x10);
        });
        soc.node('accelerator@40000000', (accel) => {
          accel
            .string('compatible', 'vfiokit,demo-accel')
            .cells('reg', 0x40000000, 0x100000)
            .cells('interrupts', ...spi(100))
            .cells('iommus', ref('smmu'), 3)
            .cells('msi-parent', ref('v2m'));
        });
        soc.node('accelerator-dma@40100000', (accel) => {
          accel
            .string('compatible', 'vfiokit,demo-accel-dma')
            .cells('reg', 0x40100000, 0x10000)
            .cells('interrupts', ...spi(101))
            .cells('iommus', ref('smmu'), 3)
            .cells('msi-parent', ref('v2m'));
        });
        soc.node('i2c@12ce0000', (i2c) => {
          i2c
            .string('compatible', 'samsung,s3c2440-i2c')
            .cells('reg', 0x12ce0000, 0x100)
            .cells('interrupts', ...spi(58))
            .cells('#address-cells', 1)
            .cells('#size-cells', 0)
            .cells('clocks', ref('cru'), 12)
            .string('clock-names', 'i2c')
            .string('pinctrl-names', 'default')
            .cells('pinctrl-0', ref('i2c2_bus'));
        });
        soc.node('sensor@10060000', (sensor) => {
          sensor
            .string('compatible', 'vfiokit,demo-sensor')
            .cells('reg', 0x10060000, 0x100)
            .cells('interrupts-extended', ref('gpio'), 3, 4)
            .cells('clocks', ref('cru'), 3, ref('cru'), 4)
            .string('clock-names', 'core', 'bus')
            .cells('resets', ref('cru'), 7)
            .string('reset-names', 'sensor');
        });
        soc.node('sata@ff200000', (sata) => {
          sata
            .string('compatible', 'generic-ahci')
            .cells('reg', 0xff200000, 0x2000)
            .cells('interrupts', ...spi(60));
        });
      });
    })
    .build({ symbols: true });
}
