import { isKernelError } from '@vfiokit/core';
import { parseFdt, serializeFdt, toDts } from '@vfiokit/devicetree';
import { describe, expect, it } from 'vitest';
import { GuestAddressMap } from '../address-map/guest-address-map.js';
import { fixtureTree, hostDevice } from '../test-support/fixtures.js';
import { placeDevice } from './assigned-device.js';
import { findNode, getProp, readCells } from './dt-edit.js';
import { XEN_GUEST_PHANDLE_GIC, xenPartialDt } from './xen-partial-dt.js';

/** A domU map: GUEST_RAM0 at 0x40000000 (xen/include/public/arch-arm.h), a hole for passthrough MMIO at 0x10000000. */
const xenMap = () =>
  new GuestAddressMap({
    ram: [{ name: 'GUEST_RAM0', base: 0x4000_0000n, size: 0x4000_0000n }],
    platformBus: { name: 'passthrough hole', base: 0x1000_0000n, size: 0x100_0000n },
    irqBase: 0,
    irqCount: 988,
    alignment: 'page',
  });

describe('Xen dom0less partial device tree (docs/misc/arm/passthrough.txt, passthrough-noiommu.txt)', () => {
  it('the midway xgmac as passthrough.txt writes it, plus xen,reg/xen,path and no-IOMMU force-assign', () => {
    const midway = fixtureTree('calxeda-midway');
    const host = hostDevice(midway, 'fff51000.ethernet');
    const view = placeDevice(xenMap(), host, 'xen');
    const blob = serializeFdt(xenPartialDt([view]));
    expect(toDts(parseFdt(blob))).toBe(
      [
        '/dts-v1/;',
        '',
        '/ {',
        '\t#address-cells = <0x02>;',
        '\t#size-cells = <0x02>;',
        '',
        '\tpassthrough {',
        '\t\tcompatible = "simple-bus";',
        '\t\tranges;',
        '\t\t#address-cells = <0x02>;',
        '\t\t#size-cells = <0x02>;',
        '',
        '\t\tethernet@10000000 {',
        '\t\t\tcompatible = "calxeda,hb-xgmac";',
        '\t\t\treg = <0x00 0x10000000 0x00 0x1000>;',
        '\t\t\tinterrupt-parent = <0xfde8>;',
        '\t\t\tinterrupts = <0x00 0x50 0x04 0x00 0x51 0x04 0x00 0x52 0x04>;',
        '\t\t\txen,reg = <0x00 0xfff51000 0x00 0x1000 0x00 0x10000000>;',
        '\t\t\txen,path = "/soc/ethernet@fff51000";',
        '\t\t\txen,force-assign-without-iommu;',
        '\t\t};',
        '\t};',
        '};',
        '',
      ].join('\n'),
    );
    // Interrupts are the host's, cell for cell (VIRQ == IRQ).
    const node = findNode(parseFdt(blob).root, '/passthrough/ethernet@10000000');
    expect(getProp(node as never, 'interrupts')).toEqual(
      getProp(findNode(midway.root, '/soc/ethernet@fff51000') as never, 'interrupts'),
    );
    expect(XEN_GUEST_PHANDLE_GIC).toBe(65000);
  });

  it('a device behind an SMMU gets no xen,force-assign-without-iommu; region sizes and IRQ types follow the host', () => {
    const juno = fixtureTree('juno-r2');
    const host = hostDevice(juno, '7ff00000.dma-controller');
    const tree = parseFdt(serializeFdt(xenPartialDt([placeDevice(xenMap(), host, 'xen')])));
    const node = findNode(tree.root, '/passthrough/dma-controller@10000000');
    expect(node?.properties.map((p) => p.name)).not.toContain('xen,force-assign-without-iommu');
    const reg = readCells(getProp(node as never, 'reg') as Uint8Array);
    expect(BigInt(reg[3] as number)).toBe(host.regions[0]?.size);
    const irqs = readCells(getProp(node as never, 'interrupts') as Uint8Array);
    expect(irqs.length / 3).toBe(host.irqs.length);
    expect(irqs.filter((_, i) => i % 3 === 2)).toEqual(host.irqs.map(() => 4));
  });

  it('refuses an IRQ that is not 1:1', () => {
    const host = hostDevice(fixtureTree('calxeda-midway'), 'fff51000.ethernet');
    const view = placeDevice(GuestAddressMap.qemuVirt(), host);
    let err: unknown;
    try {
      xenPartialDt([view]);
    } catch (e) {
      err = e;
    }
    expect(isKernelError(err, 'EINVAL')).toBe(true);
    expect(String(err)).toMatch(/VIRQ == IRQ/);
  });
});
