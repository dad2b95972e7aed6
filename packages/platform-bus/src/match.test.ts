import { physAddr } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import type { DeviceDescription } from './description.js';
import type { DriverSpec } from './device.js';
import { Device } from './device.js';
import { ambaLookup, ambaMatch, platformMatch } from './match.js';

const noop = (): void => undefined;
const drv = (name: string, extra: Partial<DriverSpec> = {}): DriverSpec => ({ name, probe: noop, ...extra });
const dev = (extra: Partial<DeviceDescription> = {}): Device =>
  new Device({
    name: '12ce0000.i2c',
    bus: 'platform',
    compatible: ['samsung,s3c2440-hdmiphy-i2c', 'samsung,s3c2440-i2c'],
    regions: [{ start: physAddr(0x12ce0000), size: 0x1000 }],
    ...extra,
  });

describe('platform_match order (drivers/base/platform.c)', () => {
  it('driver_override decides alone: it beats an OF match and matches a driver without tables', () => {
    const device = dev({ driverOverride: 'vfio-platform' });
    expect(platformMatch(device, drv('s3c-i2c', { ofMatchTable: ['samsung,s3c2440-i2c'] }))).toBeNull();
    expect(platformMatch(device, drv('vfio-platform'))).toEqual({ reason: 'driver_override' });
    expect(platformMatch(device, drv('any', { matchAnyDevice: true }))).toBeNull();
  });

  it('OF reports the entry of the earliest device compatible', () => {
    const driver = drv('s3c-i2c', { ofMatchTable: ['samsung,s3c2440-i2c', 'samsung,s3c2440-hdmiphy-i2c'] });
    expect(platformMatch(dev(), driver)).toEqual({ reason: 'of', compatible: 'samsung,s3c2440-hdmiphy-i2c' });
  });

  it('ACPI ids match after OF', () => {
    const device = dev({ compatible: [], acpiIds: ['AMDI8001'] });
    expect(platformMatch(device, drv('xgbe', { acpiMatchTable: ['AMDI8001'] }))).toEqual({
      reason: 'acpi',
      id: 'AMDI8001',
    });
  });

  it('an id table is final: a miss does not fall back to the name', () => {
    const device = dev({ name: 's3c-i2c', compatible: [] });
    expect(platformMatch(device, drv('s3c-i2c', { idTable: ['s3c2410-i2c'] }))).toBeNull();
    expect(platformMatch(device, drv('s3c-i2c'))).toEqual({ reason: 'name' });
    const byId = dev({ name: 's3c2440-i2c', compatible: [] });
    expect(platformMatch(byId, drv('s3c-i2c', { idTable: ['s3c2440-i2c'] }))).toEqual({
      reason: 'id_table',
      id: 's3c2440-i2c',
    });
  });

  it('the 2013 wildcard matches any device without an override', () => {
    expect(platformMatch(dev(), drv('vfio-platform', { matchAnyDevice: true }))).toEqual({
      reason: 'match_any_device',
    });
    expect(platformMatch(dev(), drv('vfio-platform'))).toBeNull();
  });
});

describe('amba_match (drivers/amba/bus.c)', () => {
  const pl330 = (extra: Partial<DeviceDescription> = {}): Device =>
    new Device({ name: '121a0000.dma-controller', bus: 'amba', periphid: 0x00241330, ...extra });

  it('matches (periphid & mask) === id; a zero mask ends the table', () => {
    expect(ambaLookup([{ id: 0x00041330, mask: 0x000fffff }], 0x00241330)).toEqual({
      id: 0x00041330,
      mask: 0x000fffff,
    });
    expect(
      ambaLookup(
        [
          { id: 0, mask: 0 },
          { id: 0x00041330, mask: 0x000fffff },
        ],
        0x00241330,
      ),
    ).toBeUndefined();
    expect(ambaLookup([{ id: 0x00041330, mask: 0x00ffffff }], 0x00241330)).toBeUndefined();
  });

  it('driver_override decides alone and hands probe no id entry', () => {
    const table = { ambaIdTable: [{ id: 0x00041330, mask: 0x000fffff }] };
    expect(ambaMatch(pl330(), drv('dma-pl330', table))).toEqual({
      reason: 'amba_id',
      ambaId: { id: 0x00041330, mask: 0x000fffff },
    });
    expect(ambaMatch(pl330({ driverOverride: 'vfio-amba' }), drv('dma-pl330', table))).toBeNull();
    expect(ambaMatch(pl330({ driverOverride: 'vfio-amba' }), drv('vfio-amba'))).toEqual({
      reason: 'driver_override',
    });
  });

  it('still hands probe the table entry that fits when driver_override decided (amba_probe)', () => {
    // amba_probe() calls amba_lookup() itself, whatever made the device match.
    const entry = { id: 0x00041330, mask: 0x000fffff };
    const device = pl330({ driverOverride: 'dma-pl330' });
    expect(ambaMatch(device, drv('dma-pl330', { ambaIdTable: [entry] }))).toEqual({
      reason: 'driver_override',
      ambaId: entry,
    });
    const other = { id: 0x00041080, mask: 0x000fffff };
    expect(ambaMatch(device, drv('dma-pl330', { ambaIdTable: [other] }))).toEqual({
      reason: 'driver_override',
    });
  });
});
