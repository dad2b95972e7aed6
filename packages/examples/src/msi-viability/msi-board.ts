/**
 * A board built in code for the MSI scenario (not in the repository, so no fixture can cover
 * it): a GICv3 with one ITS and one GICv2m frame (with its DT SPI range), and on a simple-bus
 * a NIC behind the ITS (DeviceID 0x10), a DMA engine and an Ethernet MAC sharing the GICv2m
 * frame, and a UART without `msi-parent`.
 */

import { DeviceTreeBuilder, type DtNodeBuilder, ref } from '@vfiokit/devicetree';
import { createHost, type Host, type HostOptions } from '@vfiokit/host';

export const MSI_BOARD_DEVICES = {
  nic: '10000000.nic',
  dma: '10010000.dma',
  eth: '10020000.eth',
  uart: '10030000.uart',
} as const;

function device(
  soc: DtNodeBuilder,
  name: string,
  reg: number,
  msiParent?: readonly (number | ReturnType<typeof ref>)[],
) {
  soc.node(`${name}@${reg.toString(16)}`, (n) => {
    n.string('compatible', `example,${name}`).cells('reg', reg, 0x1000);
    if (msiParent !== undefined) n.cells('msi-parent', ...msiParent);
  });
}

/** The board's host (vfio-platform may take its IOMMU-less devices: no-IOMMU mode, no reset). */
export function msiBoardHost(options: HostOptions = {}): Host {
  const tree = new DeviceTreeBuilder()
    .root((root) => {
      root
        .string('compatible', 'example,msi-board')
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
          .cells('reg', 0x2f000000, 0x10000, 0x2f100000, 0x200000);
        gic.node('msi-controller@2f020000', (its) => {
          its
            .label('its')
            .string('compatible', 'arm,gic-v3-its')
            .flag('msi-controller')
            .cells('#msi-cells', 1)
            .cells('reg', 0x2f020000, 0x20000);
        });
        gic.node('v2m@2f300000', (v2m) => {
          v2m
            .label('v2m')
            .string('compatible', 'arm,gic-v2m-frame')
            .flag('msi-controller')
            .cells('arm,msi-base-spi', 160)
            .cells('arm,msi-num-spis', 32)
            .cells('reg', 0x2f300000, 0x1000);
        });
      });
      root.node('soc', (soc) => {
        soc
          .string('compatible', 'simple-bus')
          .cells('#address-cells', 1)
          .cells('#size-cells', 1)
          .flag('ranges');
        device(soc, 'nic', 0x1000_0000, [ref('its'), 0x10]);
        device(soc, 'dma', 0x1001_0000, [ref('v2m')]);
        device(soc, 'eth', 0x1002_0000, [ref('v2m')]);
        device(soc, 'uart', 0x1003_0000);
      });
    })
    .build();
  return createHost(tree, { reset_required: false, enable_unsafe_noiommu_mode: true, ...options });
}
