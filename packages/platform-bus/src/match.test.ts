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
    expect(ambaMatch(device, drv('dma-pl330', { ambaIdTable: [other] }))).toStrictEqual({
      reason: 'driver_override',
    });
  });
});

// Mutation testing (README "Mutation score") found these platform_match()/amba_match() rules
// untested; each case is a branch of drivers/base/platform.c or drivers/amba/bus.c.
describe('platform_match fall-through (drivers/base/platform.c): only a hit returns early', () => {
  it('an OF table miss is not final: ACPI, the id table and the name still get their turn', () => {
    // `if (of_driver_match_device(dev, drv)) return 1;` returns on a hit only.
    const device = dev({ name: 's3c-i2c', compatible: ['vendor,other-i2c'] });
    expect(platformMatch(device, drv('s3c-i2c', { ofMatchTable: ['samsung,s3c2440-i2c'] }))).toEqual({
      reason: 'name',
    });
    expect(platformMatch(device, drv('x', { ofMatchTable: ['samsung,s3c2440-i2c'] }))).toBeNull();
  });

  it('OF is tried before ACPI, and ACPI before the id table, which it does not need to hit', () => {
    const device = dev({ name: 'xgbe', compatible: ['amd,xgbe-seattle-v1a'], acpiIds: ['AMDI8001'] });
    const both = { ofMatchTable: ['amd,xgbe-seattle-v1a'], acpiMatchTable: ['AMDI8001'] };
    expect(platformMatch(device, drv('amd-xgbe', both))).toEqual({
      reason: 'of',
      compatible: 'amd,xgbe-seattle-v1a',
    });
    // acpi_driver_match_device() returns 1 before `if (pdrv->id_table)` is reached.
    expect(
      platformMatch(device, drv('amd-xgbe', { acpiMatchTable: ['AMDI8001'], idTable: ['nope'] })),
    ).toEqual({
      reason: 'acpi',
      id: 'AMDI8001',
    });
  });

  it('an ACPI id not in the table does not match, and a miss falls through to the name', () => {
    const device = dev({ name: 'xgbe', compatible: [], acpiIds: ['AMDI0000', 'AMDI8001'] });
    // The reported id is the device id that hit, not the first of the device's ids.
    expect(platformMatch(device, drv('amd-xgbe', { acpiMatchTable: ['AMDI8001'] }))).toEqual({
      reason: 'acpi',
      id: 'AMDI8001',
    });
    expect(platformMatch(device, drv('amd-xgbe', { acpiMatchTable: ['PRP0001'] }))).toBeNull();
    expect(platformMatch(device, drv('xgbe', { acpiMatchTable: ['PRP0001'] }))).toEqual({ reason: 'name' });
  });

  it('a driver with an ACPI table and a device without ACPI ids (and the reverse) fall to the name', () => {
    const ofOnly = dev({ name: 'xgbe', compatible: [] });
    expect(platformMatch(ofOnly, drv('xgbe', { acpiMatchTable: ['AMDI8001'] }))).toEqual({ reason: 'name' });
    const acpiOnly = dev({ name: 'xgbe', compatible: [], acpiIds: ['AMDI8001'] });
    expect(platformMatch(acpiOnly, drv('xgbe'))).toEqual({ reason: 'name' });
  });

  it('driver_override beats the wildcard too: the driver it names matches by override', () => {
    const device = dev({ driverOverride: 'vfio-platform' });
    expect(platformMatch(device, drv('vfio-platform', { matchAnyDevice: true }))).toEqual({
      reason: 'driver_override',
    });
  });
});

describe('amba_lookup / amba_match (drivers/amba/bus.c)', () => {
  const pl330 = (extra: Partial<DeviceDescription> = {}): Device =>
    new Device({ name: '121a0000.dma-controller', bus: 'amba', periphid: 0x00241330, ...extra });
  const entry = { id: 0x00041330, mask: 0x000fffff };

  it('amba_lookup returns the first entry that fits, and nothing without a table', () => {
    const wide = { id: 0x00001330, mask: 0x0000ffff };
    expect(ambaLookup([entry, wide], 0x00241330)).toBe(entry);
    expect(ambaLookup([wide, entry], 0x00241330)).toBe(wide);
    expect(ambaLookup(undefined, 0x00241330)).toBeUndefined();
    expect(ambaLookup([], 0x00241330)).toBeUndefined();
  });

  it('a driver without an id table matches nothing unless override or wildcard says so', () => {
    expect(ambaMatch(pl330(), drv('dma-pl330'))).toBeNull();
    expect(
      ambaMatch(pl330(), drv('dma-pl330', { ambaIdTable: [{ id: 0x00041080, mask: 0x000fffff }] })),
    ).toBeNull();
  });

  it('the wildcard proposal matches an AMBA device and still hands probe the fitting entry', () => {
    expect(ambaMatch(pl330(), drv('vfio-amba', { matchAnyDevice: true }))).toEqual({
      reason: 'match_any_device',
    });
    expect(ambaMatch(pl330(), drv('dma-pl330', { matchAnyDevice: true, ambaIdTable: [entry] }))).toEqual({
      reason: 'match_any_device',
      ambaId: entry,
    });
    // driver_override decides alone: the wildcard driver it does not name does not match.
    expect(
      ambaMatch(pl330({ driverOverride: 'dma-pl330' }), drv('vfio-amba', { matchAnyDevice: true })),
    ).toBeNull();
  });
});
