// MSI controllers (drivers/irqchip/irq-gic-v2m.c: gicv2m_of_init(), irq-gic-v3-its.c:
// its_of_probe()) on the real fixtures: expected paths and frames are read off the .dts
// oracles and MANIFEST.md, not from this code.
import { describe, expect, it } from 'vitest';
import { DeviceTreeBuilder, ref } from './builder.js';
import { parseFdt } from './fdt-parse.js';
import { GITS_TRANSLATER, msiControllers, V2M_MSI_SETSPI_NS } from './of-msi.js';
import { populate } from './populate.js';
import { fixture } from './test-support/fixtures.js';

const load = (file: string) => parseFdt(fixture(file).blob);

describe('msiControllers', () => {
  it('Juno r2: the four arm,gic-v2m-frame frames behind the GIC-400 ranges, not isolated', () => {
    const tree = load('juno-r2.dtb');
    const msi = msiControllers(tree);
    // juno-r2.dts: GIC ranges = <0x00 0x00 0x2c1c0000 0x40000>, frames reg = <0xN0000 0x10000>.
    expect(msi.map((m) => [m.path, m.kind, m.frame?.address, m.frame?.size])).toEqual(
      [0, 1, 2, 3].map((i) => [
        `/interrupt-controller@2c010000/v2m@${i === 0 ? '0' : `${i}0000`}`,
        'gic-v2m',
        0x2c1c0000n + BigInt(i) * 0x10000n,
        0x10000n,
      ]),
    );
    expect(msi.map((m) => m.doorbell)).toEqual([0, 1, 2, 3].map((i) => 0x2c1c0040n + BigInt(i) * 0x10000n));
    expect(msi.every((m) => !m.isolated && m.probed && m.msiCells === 0 && m.spis === undefined)).toBe(true);
    // v2m_0 carries phandle 0x37 (juno-r2.dts); the others have none.
    expect(msi.map((m) => m.phandle)).toEqual([0x37, undefined, undefined, undefined]);
  });

  it("Juno r2: the PCIe host's msi-parent resolves to the first v2m frame", () => {
    const tree = load('juno-r2.dtb');
    const paths = new Set(msiControllers(tree).map((m) => m.path));
    const pcie = populate(tree).devices.find((d) => d.path === '/pcie@40000000');
    expect(pcie?.msiParent).toMatchObject({ target: '/interrupt-controller@2c010000/v2m@0', args: [] });
    expect(paths.has(pcie?.msiParent?.target ?? '')).toBe(true);
  });

  it('QEMU virt gicv2: one v2m frame at 0x8020000', () => {
    const msi = msiControllers(load('qemu-virt-gicv2.dtb'));
    expect(msi).toHaveLength(1);
    expect(msi[0]).toMatchObject({
      path: '/intc@8000000/v2m@8020000',
      kind: 'gic-v2m',
      phandle: 0x8003,
      frame: { address: 0x8020000n, size: 0x1000n },
      doorbell: 0x8020000n + BigInt(V2M_MSI_SETSPI_NS),
      isolated: false,
    });
  });

  it('QEMU virt gicv3 (ITS, SMMUv3): one ITS, isolating, #msi-cells 1', () => {
    const msi = msiControllers(load('qemu-virt-gicv3-its-smmuv3.dtb'));
    expect(msi).toHaveLength(1);
    expect(msi[0]).toMatchObject({
      path: '/intc@8000000/its@8080000',
      kind: 'gic-v3-its',
      phandle: 0x8006,
      msiCells: 1,
      frame: { address: 0x8080000n, size: 0x20000n },
      doorbell: 0x8080000n + BigInt(GITS_TRANSLATER),
      isolated: true,
      probed: true,
    });
  });

  it('Foundation v8 gicv3: the ITS through the GIC ranges (0x2f000000 + 0x20000)', () => {
    const msi = msiControllers(load('foundation-v8-gicv3.dtb'));
    expect(msi.map((m) => [m.path, m.kind, m.frame?.address])).toEqual([
      ['/interrupt-controller@2f000000/msi-controller@2f020000', 'gic-v3-its', 0x2f020000n],
    ]);
  });

  it('trees without msi-controller have none; a frame without msi-controller is ignored', () => {
    expect(msiControllers(load('calxeda-midway.dtb'))).toEqual([]);
    const tree = new DeviceTreeBuilder()
      .root((r) =>
        r
          .cells('#address-cells', 1)
          .cells('#size-cells', 1)
          .node('v2m@1000', (n) => n.string('compatible', 'arm,gic-v2m-frame').cells('reg', 0x1000, 0x1000)),
      )
      .build();
    expect(msiControllers(tree)).toEqual([]);
  });

  it('status: a disabled v2m frame is still probed (no availability check), a disabled ITS is not', () => {
    const tree = new DeviceTreeBuilder()
      .root((r) =>
        r
          .cells('#address-cells', 1)
          .cells('#size-cells', 1)
          .node('v2m@1000', (n) =>
            n
              .string('compatible', 'arm,gic-v2m-frame')
              .flag('msi-controller')
              .cells('reg', 0x1000, 0x1000)
              .cells('arm,msi-base-spi', 64)
              .cells('arm,msi-num-spis', 32)
              .string('status', 'disabled'),
          )
          .node('its@20000', (n) =>
            n
              .string('compatible', 'arm,gic-v3-its')
              .flag('msi-controller')
              .cells('#msi-cells', 1)
              .cells('reg', 0x20000, 0x20000)
              .string('status', 'disabled'),
          )
          .node('msi@9000', (n) => n.string('compatible', 'vendor,msi').flag('msi-controller')),
      )
      .build();
    const msi = msiControllers(tree);
    expect(msi.map((m) => [m.kind, m.probed, m.spis])).toEqual([
      ['gic-v2m', true, { base: 64, count: 32 }],
      ['gic-v3-its', false, undefined],
      ['other', true, undefined],
    ]);
    // No reg: no frame and no doorbell.
    expect(msi[2]).toMatchObject({ frame: undefined, doorbell: undefined, isolated: false });
  });

  it("a platform device's msi-parent with an ITS DeviceID resolves to the ITS", () => {
    const tree = new DeviceTreeBuilder()
      .root((r) =>
        r
          .cells('#address-cells', 1)
          .cells('#size-cells', 1)
          .node('its@20000', (n) =>
            n
              .label('its')
              .string('compatible', 'arm,gic-v3-its')
              .flag('msi-controller')
              .cells('#msi-cells', 1)
              .cells('reg', 0x20000, 0x20000),
          )
          .node('dev@1000', (n) =>
            n
              .string('compatible', 'vendor,dev')
              .cells('reg', 0x1000, 0x100)
              .cells('msi-parent', ref('its'), 0x42),
          ),
      )
      .build();
    const [its] = msiControllers(tree);
    const dev = populate(tree).devices.find((d) => d.name === '1000.dev');
    expect(dev?.msiParent).toMatchObject({ target: its?.path, args: [0x42] });
  });
});
