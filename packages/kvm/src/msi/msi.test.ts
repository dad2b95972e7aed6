import { describe, expect, it } from 'vitest';
import { errno } from '../testing/errno.js';
import { Gicv2mFrame, V2M_MSI_SETSPI_NS, V2M_MSI_TYPER } from './gicv2m.js';
import {
  checkMsiFrameViability,
  MsiTopology,
  msiFrameViability,
  msiIsolated,
  msiIsolation,
} from './isolation.js';
import { decodeItsCommand, encodeItsCommand, GITS_TRANSLATER, GicIts } from './its.js';

// Juno r2: four GICv2m frames (arm,gic-v2m-frame at 0x2c1c0000…) with SPIs from MSI_TYPER.
const junoFrame = (): Gicv2mFrame =>
  new Gicv2mFrame({ name: 'v2m0', base: 0x2c1c_0000, typer: (224 << 16) | 32 });

describe('GICv2m frame (drivers/irqchip/irq-gic-v2m.c)', () => {
  it('SPI range from MSI_TYPER, or from arm,msi-base-spi + arm,msi-num-spis when both are given', () => {
    const f = junoFrame();
    expect([f.spiStart, f.nrSpis, f.doorbell]).toEqual([224, 32, 0x2c1c_0040]);
    expect(f.read(V2M_MSI_TYPER)).toBe((224 << 16) | 32);
    const dt = new Gicv2mFrame({
      name: 'v',
      base: 0x1000,
      typer: (224 << 16) | 32,
      baseSpi: 64,
      numSpis: 16,
    });
    expect([dt.spiStart, dt.nrSpis]).toEqual([64, 16]);
    const half = new Gicv2mFrame({ name: 'v', base: 0x1000, typer: (224 << 16) | 32, baseSpi: 64 });
    expect(half.spiStart).toBe(224);
  });

  it('is_msi_spi_valid: base < 32, count 0 or base + count > 1019 → EINVAL', () => {
    expect(errno(() => new Gicv2mFrame({ name: 'v', base: 0, typer: (16 << 16) | 8 }))).toBe('EINVAL');
    expect(errno(() => new Gicv2mFrame({ name: 'v', base: 0, typer: 224 << 16 }))).toBe('EINVAL');
    expect(errno(() => new Gicv2mFrame({ name: 'v', base: 0, baseSpi: 1000, numSpis: 20 }))).toBe('EINVAL');
    expect(errno(() => new Gicv2mFrame({ name: 'v', base: 0x10, typer: (64 << 16) | 8 }))).toBe('EINVAL');
  });

  it('no isolation: any master raises any SPI of the frame through MSI_SETSPI_NS', () => {
    const f = junoFrame();
    const raised: number[] = [];
    f.onSpi((s) => raised.push(s));
    f.write(V2M_MSI_SETSPI_NS, 230, 'dma@7ff00000');
    f.write(V2M_MSI_SETSPI_NS, 230, 'evil-device');
    f.write(V2M_MSI_SETSPI_NS, 300, 'evil-device');
    f.write(0x44, 231, 'x');
    expect(raised).toEqual([230, 230]);
    expect(f.ignored).toEqual([{ spi: 300, requester: 'evil-device' }]);
  });
});

describe('GICv3 ITS', () => {
  function its(): GicIts {
    const i = new GicIts({ name: 'its', base: 0x0808_0000 });
    i.enqueue(
      { op: 'MAPC', icid: 0, target: 0, valid: true },
      { op: 'MAPD', deviceId: 0x10, ittBits: 5, valid: true },
      { op: 'MAPTI', deviceId: 0x10, eventId: 0, intid: 8192, icid: 0 },
      { op: 'MAPD', deviceId: 0x20, ittBits: 14, valid: true },
      { op: 'MAPI', deviceId: 0x20, eventId: 8200, icid: 0 },
      { op: 'SYNC', target: 0 },
    );
    return i;
  }

  it('commands round-trip through their 32-byte encoding', () => {
    for (const c of [
      { op: 'MAPD', deviceId: 0xabcd, ittBits: 8, valid: true },
      { op: 'MAPC', icid: 3, target: 0x12345, valid: false },
      { op: 'MAPTI', deviceId: 7, eventId: 9, intid: 8300, icid: 2 },
      { op: 'MAPI', deviceId: 7, eventId: 9, icid: 2 },
      { op: 'INT', deviceId: 1, eventId: 2 },
      { op: 'DISCARD', deviceId: 1, eventId: 2 },
      { op: 'SYNC', target: 5 },
    ] as const)
      expect(decodeItsCommand(encodeItsCommand(c))).toEqual(c);
    expect(encodeItsCommand({ op: 'INT', deviceId: 1, eventId: 2 })[0]).toBe(0x03);
  });

  it('the command queue runs on process(); GITS_TRANSLATER translates DeviceID/EventID to the LPI', () => {
    const i = its();
    expect(i.translate(0x10, 0)).toBeUndefined();
    expect(i.process()).toBe(6);
    expect([i.readIndex, i.writeIndex]).toEqual([6, 6]);
    expect(i.write(0x0808_0000 + GITS_TRANSLATER, 0, 0x10)).toMatchObject({ intid: 8192, target: 0 });
    expect(i.translate(0x20, 8200)?.intid).toBe(8200);
  });

  it('isolation by DeviceID: another device writing the same EventID does not reach the LPI', () => {
    const i = its();
    i.process();
    expect(i.write(i.doorbell, 0, 0x20)).toBeUndefined(); // 0x20 has no event 0
    expect(i.write(i.doorbell, 0, 0x30)).toBeUndefined(); // unmapped DeviceID
    expect(i.errors.map((e) => e.what)).toEqual(['unmapped EventID', 'unmapped DeviceID']);
    expect(i.delivered).toEqual([]);
  });

  it('INT raises an event from the queue; DISCARD removes the mapping; bad commands are dropped', () => {
    const i = its();
    i.enqueue({ op: 'INT', deviceId: 0x10, eventId: 0 }, { op: 'DISCARD', deviceId: 0x10, eventId: 0 });
    i.enqueue({ op: 'MAPTI', deviceId: 0x10, eventId: 1, intid: 100, icid: 0 });
    i.process();
    expect(i.delivered.map((d) => d.intid)).toEqual([8192]);
    expect(i.translate(0x10, 0)).toBeUndefined();
    expect(i.errors[0]?.what).toBe('MAPTI: pINTID is not an LPI');
  });
});

describe('msiIsolated (kernel/irq/msi.c, v6.3 "Remove IOMMU_CAP_INTR_REMAP")', () => {
  const topo = (): MsiTopology =>
    new MsiTopology({
      controllers: [
        junoFrame(),
        new GicIts({ name: 'its', base: 0x0808_0000 }),
        new GicIts({ name: 'pre-its', base: 0x0900_0000, preIts: true }),
      ],
      devices: {
        pcie: { msiParent: 'its', deviceId: 0x10 },
        dma: { msiParent: 'v2m0' },
        nic: { msiParent: 'pre-its', deviceId: 1 },
        uart: {},
      },
    });

  it('v6.3+: per device — ITS yes, GICv2m no, pre-ITS no, no msi-parent no', () => {
    const t = topo();
    expect(['pcie', 'dma', 'nic', 'uart'].map((d) => msiIsolated(t, d))).toEqual([true, false, false, false]);
    expect(['pcie', 'dma'].map((d) => t.msiIsolated(d))).toEqual([true, false]);
    expect(t.msiIsolated('dma', { kernel: [6, 2] })).toBe(true);
  });

  it('before v6.3: system-wide irq_domain_check_msi_remap — an ITS anywhere makes every device "isolated"', () => {
    const t = topo();
    expect(['pcie', 'dma', 'uart'].map((d) => msiIsolated(t, d, { kernel: [6, 2] }))).toEqual([
      true,
      true,
      true,
    ]);
    const v2mOnly = new MsiTopology({ controllers: [junoFrame()], devices: { dma: { msiParent: 'v2m0' } } });
    expect(msiIsolated(v2mOnly, 'dma', { kernel: [5, 15] })).toBe(false);
  });

  it('the MsiIsolation answers for vfio; bad inputs → typed errors', () => {
    const a = msiIsolation(topo());
    expect([a.deviceHasIsolatedMsi('pcie'), a.deviceHasIsolatedMsi('dma'), a.systemHasIsolatedMsi()]).toEqual(
      [true, false, true],
    );
    expect(errno(() => msiIsolated(topo(), 'nope'))).toBe('ENODEV');
    expect(errno(() => msiIsolated(topo(), 'dma', { kernel: [6] as never }))).toBe('EINVAL');
    expect(errno(() => new MsiTopology({ controllers: [], devices: { a: { msiParent: 'x' } } }))).toBe(
      'ENODEV',
    );
    expect(
      errno(
        () =>
          new MsiTopology({ controllers: [junoFrame()], devices: { a: { msiParent: 'v2m0', deviceId: 1 } } }),
      ),
    ).toBe('EINVAL');
  });
});

describe('NOT IN LINUX (opt-in): seed-004 extended viability for a shared GICv2m frame', () => {
  const t = new MsiTopology({
    controllers: [junoFrame(), new GicIts({ name: 'its', base: 0x0808_0000 })],
    devices: {
      a: { msiParent: 'v2m0' },
      b: { msiParent: 'v2m0' },
      c: { msiParent: 'v2m0' },
      d: { msiParent: 'its', deviceId: 1 },
      e: { msiParent: 'its', deviceId: 2 },
    },
  });

  it('viable when the others are unbound, VFIO-bound in no container, or in the same container', () => {
    expect(msiFrameViability(t, 'a', 'ct1', { b: {}, c: { driver: 'vfio-platform' } }).viable).toBe(true);
    expect(
      msiFrameViability(t, 'a', 'ct1', { b: { driver: 'vfio-platform', container: 'ct1' } }).viable,
    ).toBe(true);
  });

  it('not viable when a frame sharer works for the host or for another container (EPERM)', () => {
    const v = msiFrameViability(t, 'a', 'ct1', {
      b: { driver: 'pl330' },
      c: { driver: 'vfio-platform', container: 'ct2' },
    });
    expect(v.offenders.map((o) => o.device)).toEqual(['b', 'c']);
    expect(errno(() => checkMsiFrameViability(t, 'a', 'ct1', { b: { driver: 'pl330' } }))).toBe('EPERM');
  });

  it('devices behind an ITS are always viable (isolation by DeviceID)', () => {
    expect(msiFrameViability(t, 'd', 'ct1', { e: { driver: 'host-driver' } }).viable).toBe(true);
  });
});
