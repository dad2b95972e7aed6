import { isKernelError } from '@vfiokit/core';
import { parseFdt, populate, serializeFdt, toDts } from '@vfiokit/devicetree';
import { describe, expect, it } from 'vitest';
import { GuestAddressMap } from '../address-map/guest-address-map.js';
import { fixtureTree, hostDevice, xgbeHostTree } from '../test-support/fixtures.js';
import { placeDevice } from './assigned-device.js';
import { findNode, getProp, readCells } from './dt-edit.js';
import { qemuPlatformBusNode, qemuPlatformBusTree, sysfsToDtName } from './qemu-sysbus-fdt.js';

const roundTrip = (t: Parameters<typeof serializeFdt>[0]) => parseFdt(serializeFdt(t, { padding: 'none' }));

describe('QEMU sysbus-fdt guest nodes', () => {
  it("the empty bus node is byte for byte the QEMU 7.2 virt fixture's platform-bus@c000000", () => {
    const base = fixtureTree('qemu-virt-gicv2');
    const fixture = findNode(base.root, '/platform-bus@c000000');
    const intc = readCells(getProp(base.root, 'interrupt-parent') as Uint8Array)[0] as number;
    expect(qemuPlatformBusNode(GuestAddressMap.qemuVirt(), intc)).toEqual(fixture);
  });

  it('Calxeda xgmac from the midway host tree: reg per region, level-high SPIs, dma-coherent (add_calxeda_midway_xgmac_fdt_node)', () => {
    const host = hostDevice(fixtureTree('calxeda-midway'), 'fff51000.ethernet');
    const map = GuestAddressMap.qemuVirt();
    map.allocateMmio('other', 0x1000n); // a device placed first, so offsets are not all 0
    const dev = placeDevice(map, host);
    const guest = roundTrip(qemuPlatformBusTree(fixtureTree('qemu-virt-gicv2'), map, [dev]));
    const dts = toDts(guest);
    expect(dts).toContain(
      [
        '\tplatform-bus@c000000 {',
        '\t\tinterrupt-parent = <0x8002>;',
        '\t\tranges = <0x00 0x00 0xc000000 0x2000000>;',
        '\t\t#address-cells = <0x01>;',
        '\t\t#size-cells = <0x01>;',
        '\t\tcompatible = "qemu,platform\\0simple-bus";',
        '',
        '\t\tfff51000.ethernet@1000 {',
        '\t\t\tinterrupts = <0x00 0x70 0x04 0x00 0x71 0x04 0x00 0x72 0x04>;',
        '\t\t\treg = <0x1000 0x1000>;',
        '\t\t\tdma-coherent;',
        '\t\t\tcompatible = "calxeda,hb-xgmac";',
        '\t\t};',
      ].join('\n'),
    );
    // The guest kernel sees the same device shape as the host: region sizes, IRQ count and types.
    const guestDev = populate(guest).devices.find((d) => d.compatible[0] === 'calxeda,hb-xgmac');
    expect(guestDev?.regions.map((r) => r.size)).toEqual(host.regions.map((r) => r.size));
    expect(guestDev?.regions[0]?.address).toBe(0x0c00_1000n);
    expect(guestDev?.irqs.map((i) => [i.gicType, i.trigger])).toEqual(
      host.irqs.map((i) => [i.gicType, i.trigger]),
    );
    expect(guestDev?.dmaCoherent).toBe(true);
  });

  it('AMD XGBE: 5 regions, copied host properties, two fixed clocks, level iff automasked (add_amd_xgbe_fdt_node)', () => {
    const hostTree = xgbeHostTree();
    const host = hostDevice(hostTree, 'e0700000.xgmac');
    const map = GuestAddressMap.qemuVirt();
    const dev = placeDevice(map, host);
    const base = fixtureTree('qemu-virt-gicv2');
    const guest = roundTrip(qemuPlatformBusTree(base, map, [dev], { hostTree }));
    const dts = toDts(guest);
    expect(dts).toContain(
      '\tptpclk {\n\t\tphandle = <0x8006>;\n\t\tclock-output-names = "xgbe_ptp_clk";\n\t\tclock-frequency = <0xee6b280>;\n\t\t#clock-cells = <0x00>;\n\t\tcompatible = "fixed-clock";\n\t};\n\n\tdmaclk {\n\t\tphandle = <0x8005>;',
    );
    const node = findNode(guest.root, '/platform-bus@c000000/e0700000.xgmac@0');
    expect(node?.properties.map((p) => p.name)).toEqual([
      'interrupts',
      'reg',
      'clocks',
      'clock-names',
      'amd,speed-set',
      'phy-mode',
      'amd,per-channel-interrupt',
      'dma-coherent',
      'compatible',
    ]);
    const guestDev = populate(guest).devices.find((d) => d.compatible[0] === 'amd,xgbe-seattle-v1a');
    expect(guestDev?.regions.map((r) => r.size)).toEqual(host.regions.map((r) => r.size));
    // Host: 325 level, 4 per-channel edge, 323 level → guest keeps level/edge per line.
    expect(guestDev?.irqs.map((i) => i.trigger)).toEqual([
      'level-high',
      'edge-rising',
      'edge-rising',
      'edge-rising',
      'edge-rising',
      'level-high',
    ]);
    expect(guestDev?.clocks.map((c) => c.target)).toEqual(['/dmaclk', '/ptpclk']);
  });

  it('refuses what QEMU exits on: 4 regions, a non-fixed clock, an unknown device', () => {
    const hostTree = xgbeHostTree();
    const host = hostDevice(hostTree, 'e0700000.xgmac');
    const dev = placeDevice(GuestAddressMap.qemuVirt(), host);
    const base = fixtureTree('qemu-virt-gicv2');
    const four = { ...dev, regions: dev.regions.slice(0, 4) };
    expect(() => qemuPlatformBusTree(base, GuestAddressMap.qemuVirt(), [four], { hostTree })).toThrow(
      /Does the host dt node combine XGBE\/PHY\?/,
    );
    const pl330 = placeDevice(
      GuestAddressMap.qemuVirt(),
      hostDevice(fixtureTree('calxeda-midway'), 'fff3d000.dma'),
    );
    let err: unknown;
    try {
      qemuPlatformBusTree(base, GuestAddressMap.qemuVirt(), [pl330]);
    } catch (e) {
      err = e;
    }
    expect(isKernelError(err, 'ENODEV')).toBe(true);
    expect(String(err)).toMatch(/Device fff3d000.dma can not be dynamically instantiated/);
    expect(sysfsToDtName('e0900000.xgmac')).toBe('xgmac@e0900000');
  });
});
