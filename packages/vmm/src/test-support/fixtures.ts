// Host device trees for the tests: the shared real fixtures (read-only) and small trees built
// in code for devices no fixture has.
import { readFileSync } from 'node:fs';
import {
  type DeviceTree,
  DeviceTreeBuilder,
  type DtDevice,
  parseFdt,
  populate,
  ref,
} from '@vfiokit/devicetree';

const FIXTURES = new URL('../../../../../shared/fixtures/dtb/', import.meta.url);

export function fixtureTree(name: string): DeviceTree {
  return parseFdt(new Uint8Array(readFileSync(new URL(`${name}.dtb`, FIXTURES))));
}

export function hostDevice(tree: DeviceTree, name: string): DtDevice {
  const dev = populate(tree).devices.find((d) => d.name === name);
  if (dev === undefined) throw new TypeError(`fixture has no device ${name}`);
  return dev;
}

/** A Seattle-like host tree with one combined XGBE/PHY node (5 regions, 2 fixed clocks, level + edge IRQs). */
export function xgbeHostTree(): DeviceTree {
  return new DeviceTreeBuilder()
    .root((r) =>
      r
        .string('compatible', 'amd,seattle')
        .cells('#address-cells', 2)
        .cells('#size-cells', 2)
        .cells('interrupt-parent', ref('gic'))
        .node('interrupt-controller@e1101000', (n) =>
          n
            .label('gic')
            .string('compatible', 'arm,gic-400')
            .cells('#interrupt-cells', 3)
            .flag('interrupt-controller')
            .cells('reg', 0, 0xe1101000, 0, 0x1000),
        )
        .node('dmaclk', (n) =>
          n
            .label('dmaclk')
            .string('compatible', 'fixed-clock')
            .cells('#clock-cells', 0)
            .cells('clock-frequency', 250000000)
            .string('clock-output-names', 'xgbe_dma_clk'),
        )
        .node('ptpclk', (n) =>
          n
            .label('ptpclk')
            .string('compatible', 'fixed-clock')
            .cells('#clock-cells', 0)
            .cells('clock-frequency', 250000000)
            .string('clock-output-names', 'xgbe_ptp_clk'),
        )
        .node('xgmac@e0700000', (n) =>
          n
            .string('compatible', 'amd,xgbe-seattle-v1a')
            .cells(
              'reg',
              0,
              0xe0700000,
              0,
              0x80000,
              0,
              0xe0780000,
              0,
              0x80000,
              0,
              0xe1240800,
              0,
              0x400,
              0,
              0xe1250000,
              0,
              0x60,
              0,
              0xe1250080,
              0,
              0x4,
            )
            .cells('interrupts', 0, 325, 4, 0, 346, 1, 0, 347, 1, 0, 348, 1, 0, 349, 1, 0, 323, 4)
            .flag('amd,per-channel-interrupt')
            .string('phy-mode', 'xgmii')
            .cells('amd,speed-set', 0)
            .string('clock-names', 'dma_clk', 'ptp_clk')
            .cells('clocks', ref('dmaclk'), ref('ptpclk'))
            .flag('dma-coherent'),
        ),
    )
    .build();
}
