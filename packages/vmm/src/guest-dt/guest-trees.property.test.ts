// The three guest trees describe the host device the guest will drive: for random host
// devices, the guest node decompiled (through the FDT writer and populate()) has the host's
// region sizes and interrupt count, and interrupt types as each VMM writes them (crosvm and
// Xen keep the host's; QEMU's xgmac binding makes every line level-high).
import { DeviceTreeBuilder, parseFdt, populate, ref, serializeFdt } from '@vfiokit/devicetree';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GuestAddressMap } from '../address-map/guest-address-map.js';
import { xenGuestMap } from '../assign/guest-vm.js';
import { placeDevice } from './assigned-device.js';
import { findNode, getProp, readCells } from './dt-edit.js';
import { qemuPlatformBusTree } from './qemu-sysbus-fdt.js';
import { crosvmGuestTree, vmDtboTemplate } from './vm-dtbo.js';
import { xenPartialDt } from './xen-partial-dt.js';

const hostDev = fc.record({
  pages: fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 4 }),
  irqs: fc.uniqueArray(fc.record({ spi: fc.integer({ min: 0, max: 200 }), level: fc.boolean() }), {
    maxLength: 6,
    selector: (i) => i.spi,
  }),
  sids: fc.uniqueArray(fc.integer({ min: 0, max: 63 }), { maxLength: 3 }),
});

interface HostDev {
  readonly pages: readonly number[];
  readonly irqs: readonly { readonly spi: number; readonly level: boolean }[];
  readonly sids: readonly number[];
}

function hostTree(d: HostDev) {
  const reg: number[] = [];
  let at = 0x1000_0000;
  for (const p of d.pages) {
    reg.push(0, at, 0, p * 0x1000);
    at += 0x10_0000;
  }
  const irqs = d.irqs.flatMap((i) => [0, i.spi, i.level ? 4 : 1]);
  return new DeviceTreeBuilder()
    .root((r) =>
      r
        .string('compatible', 'vfiokit,random')
        .cells('#address-cells', 2)
        .cells('#size-cells', 2)
        .cells('interrupt-parent', ref('gic'))
        .node('interrupt-controller@2c001000', (n) =>
          n
            .label('gic')
            .string('compatible', 'arm,gic-400')
            .cells('#interrupt-cells', 3)
            .flag('interrupt-controller')
            .cells('reg', 0, 0x2c001000, 0, 0x1000),
        )
        .node('iommu@2b400000', (n) =>
          n
            .label('smmu')
            .string('compatible', 'arm,mmu-500')
            .cells('reg', 0, 0x2b40_0000, 0, 0x10000)
            .cells('#iommu-cells', 1),
        )
        .node('ethernet@10000000', (n) => {
          n.string('compatible', 'calxeda,hb-xgmac').cells('reg', ...reg);
          if (irqs.length > 0) n.cells('interrupts', ...irqs);
          if (d.sids.length > 0) n.cells('iommus', ...d.sids.flatMap((s) => [ref('smmu'), s]));
          return n;
        }),
    )
    .build();
}

const baseQemu = () =>
  new DeviceTreeBuilder()
    .root((r) =>
      r
        .cells('#address-cells', 2)
        .cells('#size-cells', 2)
        .cells('interrupt-parent', ref('intc'))
        .node('intc@8000000', (n) =>
          n
            .label('intc')
            .string('compatible', 'arm,gic-v3')
            .cells('#interrupt-cells', 3)
            .flag('interrupt-controller')
            .cells('reg', 0, 0x0800_0000, 0, 0x10000),
        ),
    )
    .build({ symbols: true });

describe('guest trees match the host device (property)', () => {
  it('region sizes, interrupt count and types survive QEMU, crosvm and Xen', () => {
    fc.assert(
      fc.property(hostDev, (d) => {
        const tree = hostTree(d);
        const host = populate(tree).devices.find((x) => x.compatible[0] === 'calxeda,hb-xgmac');
        if (host === undefined) throw new TypeError('no device');
        const sizes = host.regions.map((r) => r.size);
        const types = host.irqs.map((i) => i.trigger);
        // QEMU
        const qmap = GuestAddressMap.qemuVirt();
        const q = parseFdt(serializeFdt(qemuPlatformBusTree(baseQemu(), qmap, [placeDevice(qmap, host)])));
        const qd = populate(q).devices.find((x) => x.compatible[0] === 'calxeda,hb-xgmac');
        expect(qd?.regions.map((r) => r.size)).toEqual(sizes);
        expect(qd?.irqs.map((i) => i.trigger)).toEqual(types.map(() => 'level-high'));
        // crosvm (a pvIOMMU only when the host device has iommus)
        const cmap = GuestAddressMap.crosvm();
        const view = placeDevice(cmap, host);
        const c = parseFdt(
          serializeFdt(
            crosvmGuestTree(baseQemu(), vmDtboTemplate(tree, [{ label: 'dev', device: host }]), [
              { label: 'dev', view, ...(host.iommus.length > 0 ? { pvIommuId: 0 } : {}) },
            ]),
          ),
        );
        const cd = populate(c).devices.find((x) => x.compatible[0] === 'calxeda,hb-xgmac');
        expect(cd?.regions.map((r) => r.size)).toEqual(sizes);
        expect(cd?.irqs.map((i) => i.trigger)).toEqual(types);
        expect(cd?.iommus).toHaveLength(host.iommus.length);
        // Xen: interrupts cell for cell, xen,reg host → guest, force-assign iff no IOMMU
        const x = parseFdt(serializeFdt(xenPartialDt([placeDevice(xenGuestMap(0x4000_0000n), host, 'xen')])));
        const xn = findNode(x.root, '/passthrough')?.children[0];
        const hostNode = findNode(tree.root, '/ethernet@10000000');
        expect(getProp(xn as never, 'interrupts') ?? new Uint8Array()).toEqual(
          getProp(hostNode as never, 'interrupts') ?? new Uint8Array(),
        );
        const xreg = readCells(getProp(xn as never, 'xen,reg') as Uint8Array);
        expect(Array.from({ length: sizes.length }, (_, k) => BigInt(xreg[k * 6 + 3] as number))).toEqual(
          sizes,
        );
        expect(xn?.properties.some((p) => p.name === 'xen,force-assign-without-iommu')).toBe(
          host.iommus.length === 0,
        );
      }),
      { numRuns: 100 },
    );
  });
});
