import { IOMMU_READ, type PhysAddr, physAddr } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { DriverCore } from '@vfiokit/platform-bus';
import { primecellIdRegisters } from '@vfiokit/platform-bus/testing';
import { ResetRegistry } from '@vfiokit/reset-modules';
import {
  SimpleIrqChip,
  UserProcess,
  Vfio,
  VfioContainerHandle,
  VfioGroupHandle,
  vfioMetaDriverData,
} from '@vfiokit/vfio';
import { RegisterFile } from '@vfiokit/vfio/testing';
import {
  VFIO_DEVICE_FLAGS_AMBA,
  VFIO_DEVICE_FLAGS_PLATFORM,
  VFIO_NOIOMMU_IOMMU,
  VFIO_TYPE1v2_IOMMU,
} from '@vfiokit/vfio/uapi';
import { describe, expect, it } from 'vitest';
import { VFIO_PL011, vfioPl011Driver } from '../drivers/pl011.js';
import { VFIO_PL031, vfioPl031Driver } from '../drivers/pl031.js';
import { VFIO_PL061, vfioPl061Driver } from '../drivers/pl061.js';
import { defineEmulatedDriver } from './define.js';
import { emulatedDriverData, emulatedPlatformDriver } from './emulated-driver.js';
import type { EmulatedDriverEnvironment, EmulatedDriverSpec } from './types.js';

interface AmbaDeviceOptions {
  readonly name: string;
  readonly compatible: readonly string[];
  readonly periphid: number;
  readonly regions?: ReadonlyArray<{ readonly start: PhysAddr; readonly size: number }>;
  readonly irqs?: readonly number[];
}

function rig() {
  const core = new DriverCore();
  const vfio = new Vfio();
  const log: string[] = [];
  const models = new Map<string, RegisterFile>();
  const env: EmulatedDriverEnvironment = {
    vfio,
    resets: new ResetRegistry(),
    irqChip: new SimpleIrqChip({ 33: 'level-high', 34: 'level-high', 35: 'level-high' }),
    mmio: (device) => models.get(device.name),
    log: (line) => log.push(line),
  };
  const drivers = [vfioPl011Driver(env), vfioPl031Driver(env), vfioPl061Driver(env)];
  for (const driver of drivers) core.amba.registerDriver(driver);
  const add = (o: AmbaDeviceOptions) => {
    const regs = new RegisterFile(0x1000, o.name);
    models.set(o.name, regs);
    const device = core.amba.addDevice({
      name: o.name,
      bus: 'amba',
      compatible: [...o.compatible],
      regions: [...(o.regions ?? [{ start: physAddr(0x900_0000), size: 0x1000 }])],
      irqs: [...(o.irqs ?? [33])],
      periphid: o.periphid,
      primecell: primecellIdRegisters(o.periphid),
    });
    return { device, regs };
  };
  const assign = (name: string, driver: string) => {
    core.amba.setDriverOverride(name, driver);
    core.amba.driversProbe(name);
  };
  return { core, vfio, env, log, add, assign };
}

describe('emulated drivers (vfiokit kit for the maintainer’s design; not in Linux)', () => {
  it('bind only through driver_override: registered at boot, they take no device', () => {
    const r = rig();
    const { device } = r.add({
      name: '9000000.pl011',
      compatible: ['arm,pl011', 'arm,primecell'],
      periphid: 0x00141011,
    });
    expect(device.driverName).toBeNull();
    r.assign('9000000.pl011', 'vfio-pl011');
    expect(device.driverName).toBe('vfio-pl011');
  });

  it('vfio_register_emulated_iommu_dev: own vfio-noiommu-named group at /dev/vfio/<id>, no taint, no DMA ownership', () => {
    const r = rig();
    r.add({ name: '9000000.pl011', compatible: ['arm,pl011', 'arm,primecell'], periphid: 0x00141011 });
    r.assign('9000000.pl011', 'vfio-pl011');
    const data = emulatedDriverData(r.core.findDevice('9000000.pl011')!);
    expect(data).toMatchObject({ registration: 'emulated', matched: 'arm,pl011', noDma: VFIO_PL011.noDma });
    expect(vfioMetaDriverData(r.core.findDevice('9000000.pl011')!)?.registration).toBe('emulated');
    expect([...r.vfio.groups.keys()]).toEqual(['0']);
    expect(r.vfio.devNodes()).toEqual(['0', 'vfio']);
    expect(r.vfio.fakeIommuGroups.get(0)).toEqual({
      id: 0,
      name: 'vfio-noiommu',
      devices: ['9000000.pl011'],
    });
    expect(r.vfio.groups.get('0')?.kind).toBe('emulated');
    expect(r.vfio.taint).toBe(0);
    expect(r.core.iommuOwnership?.warnings ?? []).toEqual([]);
  });

  it('serves the declared region and IRQ through vfio-platform’s common core (AMBA flags), no pinning', () => {
    const r = rig();
    const { regs } = r.add({
      name: '9000000.pl011',
      compatible: ['arm,pl011', 'arm,primecell'],
      periphid: 0x00141011,
    });
    r.assign('9000000.pl011', 'vfio-pl011');
    const process = new UserProcess({ vfio: r.vfio });
    const container = VfioContainerHandle.open(process);
    const group = VfioGroupHandle.open(process, '0');
    group.setContainer(container);
    // An emulated group is served by type1 only (as mtty's: VFIO_NOIOMMU_IOMMU is refused).
    expect(container.checkExtension(VFIO_NOIOMMU_IOMMU)).toBe(false);
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    const fd = group.getDevice('9000000.pl011');
    expect(fd.info()).toEqual({ flags: VFIO_DEVICE_FLAGS_AMBA, numRegions: 1, numIrqs: 1 });
    const region = fd.regionInfo(0);
    expect(region.size).toBe(0x1000);
    fd.write(region, 0x38, Uint8Array.of(0x20, 0, 0, 0));
    expect(regs.read(0x38, 4)).toBe(0x20);
    expect(fd.irqInfo(0).count).toBe(1);
    // vfio_pin_pages: the device fd has no dma_unmap (it cannot do DMA) → EINVAL.
    container.mapDma({ vaddr: 0x10_0000, iova: 0x4000_0000, size: 0x1000 });
    const dev = vfioMetaDriverData(r.core.findDevice('9000000.pl011')!)!.vfioDevice;
    expect(thrownErrno(() => r.vfio.pinPages(dev, 0x4000_0000, 1, IOMMU_READ))).toBe('EINVAL');
  });

  it('each driver takes only its own device (of_match_table checked at probe: ENODEV)', () => {
    const r = rig();
    const rtc = r.add({
      name: '9010000.pl031',
      compatible: ['arm,pl031', 'arm,primecell'],
      periphid: 0x00141031,
    });
    const gpio = r.add({
      name: '9030000.pl061',
      compatible: ['arm,pl061', 'arm,primecell'],
      periphid: 0x00141061,
    });
    r.assign('9010000.pl031', 'vfio-pl011');
    expect(rtc.device.driverName).toBeNull();
    expect(rtc.device.lastProbeError?.code).toBe('ENODEV');
    r.assign('9010000.pl031', 'vfio-pl031');
    r.assign('9030000.pl061', 'vfio-pl061');
    expect(rtc.device.driverName).toBe('vfio-pl031');
    expect(gpio.device.driverName).toBe('vfio-pl061');
    expect(emulatedDriverData(gpio.device)?.noDma).toEqual(VFIO_PL061.noDma);
    expect(emulatedDriverData(rtc.device)?.noDma).toEqual(VFIO_PL031.noDma);
  });

  it('refuses a device without the declared resources: ENXIO (missing region or IRQ), EINVAL (region too small)', () => {
    const r = rig();
    const noIrq = r.add({ name: 'a.pl011', compatible: ['arm,pl011'], periphid: 0x00141011, irqs: [] });
    const small = r.add({
      name: 'b.pl011',
      compatible: ['arm,pl011'],
      periphid: 0x00141011,
      regions: [{ start: physAddr(0x900_0000), size: 0x800 }],
    });
    r.assign('a.pl011', 'vfio-pl011');
    r.assign('b.pl011', 'vfio-pl011');
    expect(noIrq.device.lastProbeError?.code).toBe('ENXIO');
    expect(small.device.lastProbeError?.code).toBe('EINVAL');
    expect(r.vfio.groups.size).toBe(0);
  });

  it('unbind waits for the device fd, then frees the group (vfio_unregister_group_dev)', async () => {
    const r = rig();
    r.add({ name: '9000000.pl011', compatible: ['arm,pl011', 'arm,primecell'], periphid: 0x00141011 });
    r.assign('9000000.pl011', 'vfio-pl011');
    const process = new UserProcess({ vfio: r.vfio });
    const container = VfioContainerHandle.open(process);
    const group = VfioGroupHandle.open(process, '0');
    group.setContainer(container);
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    const fd = group.getDevice('9000000.pl011');
    const done = r.core.amba.unbind('vfio-pl011', '9000000.pl011');
    expect(r.core.findDevice('9000000.pl011')?.driverName).toBe('vfio-pl011');
    fd.close();
    await done;
    expect(r.core.findDevice('9000000.pl011')?.driverName).toBeNull();
    expect(r.vfio.groups.size).toBe(0);
  });

  it('a platform-bus driver from the kit gets PLATFORM flags and no of_match_table on the bus (override only)', () => {
    const core = new DriverCore();
    const vfio = new Vfio();
    const spec: EmulatedDriverSpec = {
      name: 'vfio-i2c-s3c',
      bus: 'platform',
      ofMatchTable: ['samsung,s3c2440-i2c'],
      regions: [{ name: 'IIC registers', size: 0x100 }],
      irqs: [],
      noDma: { reason: 'Samsung I2C: byte-wide IICDS, no DMA', source: 'Exynos5250 UM (IIC)' },
    };
    const driver = emulatedPlatformDriver(spec, {
      vfio,
      resets: new ResetRegistry(),
      irqChip: new SimpleIrqChip({}),
    });
    expect('ofMatchTable' in driver).toBe(false);
    core.platform.registerDriver(driver);
    const device = core.platform.addDevice({
      name: '12c60000.i2c',
      bus: 'platform',
      compatible: ['samsung,s3c2440-i2c'],
      regions: [{ start: physAddr(0x12c6_0000), size: 0x100 }],
    });
    expect(device.driverName).toBeNull();
    core.platform.setDriverOverride(device.name, 'vfio-i2c-s3c');
    core.platform.driversProbe(device.name);
    const process = new UserProcess({ vfio });
    const container = VfioContainerHandle.open(process);
    const group = VfioGroupHandle.open(process, '0');
    group.setContainer(container);
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    expect(group.getDevice('12c60000.i2c').info()).toEqual({
      flags: VFIO_DEVICE_FLAGS_PLATFORM,
      numRegions: 1,
      numIrqs: 0,
    });
  });
});

describe('defineEmulatedDriver: the declaration is checked (EINVAL)', () => {
  const base: EmulatedDriverSpec = VFIO_PL011;
  it('rejects unknown keys, an empty match table, a region of no size, a missing or multi-line reason', () => {
    const bad = (spec: unknown) => thrownErrno(() => defineEmulatedDriver(spec as EmulatedDriverSpec));
    expect(bad({ ...base, ofMatch: [] })).toBe('EINVAL');
    expect(bad({ ...base, ofMatchTable: [] })).toBe('EINVAL');
    expect(bad({ ...base, regions: [{ name: 'r', size: 0 }] })).toBe('EINVAL');
    expect(bad({ ...base, noDma: undefined })).toBe('EINVAL');
    expect(bad({ ...base, noDma: { reason: 'two\nlines', source: 'x' } })).toBe('EINVAL');
    expect(bad({ ...base, noDma: { reason: 'x'.repeat(101), source: 'x' } })).toBe('EINVAL');
    expect(bad({ ...base, noDma: { reason: 'ok', source: '' } })).toBe('EINVAL');
    expect(bad({ ...base, bus: 'pci' })).toBe('EINVAL');
    expect(bad({ ...base, name: 'vfio pl011' })).toBe('EINVAL');
  });

  it('freezes what it returns; the three drivers are declared through it', () => {
    expect(Object.isFrozen(VFIO_PL011)).toBe(true);
    expect(Object.isFrozen(VFIO_PL031.regions)).toBe(true);
    expect([VFIO_PL011, VFIO_PL031, VFIO_PL061].map((d) => d.name)).toEqual([
      'vfio-pl011',
      'vfio-pl031',
      'vfio-pl061',
    ]);
  });

  it('environment keys are checked too', () => {
    const env = { vfio: new Vfio(), resets: new ResetRegistry(), irqChip: new SimpleIrqChip({}) };
    expect(
      thrownErrno(() =>
        emulatedPlatformDriver(VFIO_PL011, { ...env, iommuGroupOf: () => undefined } as never),
      ),
    ).toBe('EINVAL');
    expect(thrownErrno(() => emulatedPlatformDriver(VFIO_PL011, { vfio: env.vfio } as never))).toBe('EINVAL');
  });
});
