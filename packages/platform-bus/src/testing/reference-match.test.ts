import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AmbaId, ambaMatch, Device, type DriverSpec, platformMatch } from '../index.js';
import { referenceMatch } from './reference-match.js';

const names = fc.constantFrom('a', 'b', 'serial8250', 'x');
const compatibles = fc.uniqueArray(fc.constantFrom('v,one', 'v,two', 'v,three'), { maxLength: 3 });
const ambaIds = fc.array(
  fc.record({
    id: fc.constantFrom(0x41330, 0x41031, 0, 0x1330),
    mask: fc.constantFrom(0xfffff, 0xfff, 0, 0xffffffff),
  }),
  { maxLength: 3 },
);

const driverArb: fc.Arbitrary<DriverSpec> = fc
  .record(
    {
      name: names,
      ofMatchTable: compatibles,
      acpiMatchTable: fc.constantFrom(['ACPI0001'], ['ACPI0002']),
      idTable: fc.uniqueArray(names, { maxLength: 2 }),
      ambaIdTable: ambaIds as fc.Arbitrary<AmbaId[]>,
      matchAnyDevice: fc.boolean(),
    },
    { requiredKeys: ['name'] },
  )
  .map((spec) => ({ ...spec, probe: () => undefined }));

const deviceArb = fc
  .record(
    {
      bus: fc.constantFrom<'platform' | 'amba'>('platform', 'amba'),
      name: names,
      compatible: compatibles,
      acpiIds: fc.constantFrom(['ACPI0001'], ['ACPI0003']),
      periphid: fc.constantFrom(0x00241330, 0x00041031, 0x80041330),
      driverOverride: names,
    },
    { requiredKeys: ['bus', 'name', 'periphid'] },
  )
  .map(
    ({ bus, periphid, ...rest }) =>
      new Device(bus === 'amba' ? { ...rest, bus, periphid } : { ...rest, bus }),
  );

describe('the reference matcher (kernel match rules as tables)', () => {
  it('agrees with platformMatch / ambaMatch on the deciding rule and the OF entry', () => {
    fc.assert(
      fc.property(deviceArb, driverArb, (device, driver) => {
        const model = device.bus === 'amba' ? ambaMatch(device, driver) : platformMatch(device, driver);
        const reference = referenceMatch(device, driver);
        expect(reference?.reason ?? null).toBe(model?.reason ?? null);
        expect(reference?.compatible).toBe(model?.compatible);
      }),
      { numRuns: 2000 },
    );
  });

  it('tells OF order, id-table finality and the AMBA terminator apart (planted matcher bugs it catches)', () => {
    const dev = new Device({ name: 'serial8250', id: 0, bus: 'platform', compatible: ['v,two', 'v,one'] });
    const probe = () => undefined;
    // OF: the earliest device compatible wins, not the driver table's order.
    expect(referenceMatch(dev, { name: 'd', ofMatchTable: ['v,one', 'v,two'], probe })).toEqual({
      reason: 'of',
      compatible: 'v,two',
    });
    // An id table is final: a miss does not fall back to the driver name.
    expect(referenceMatch(dev, { name: 'serial8250', idTable: ['other'], probe })).toBeNull();
    // The name compares pdev->name, not dev_name() (serial8250.0).
    expect(referenceMatch(dev, { name: 'serial8250', probe })).toEqual({ reason: 'name' });
    const cell = new Device({ name: 'c', bus: 'amba', periphid: 0x80041330 });
    // amba_lookup stops at the zero mask; the top bit of the periphid is not a sign.
    expect(
      referenceMatch(cell, {
        name: 'p',
        ambaIdTable: [
          { id: 0, mask: 0 },
          { id: 0x41330, mask: 0xfffff },
        ],
        probe,
      }),
    ).toBeNull();
    expect(
      referenceMatch(cell, { name: 'p', ambaIdTable: [{ id: 0x80041330, mask: 0xffffffff }], probe }),
    ).toEqual({
      reason: 'amba_id',
    });
  });
});
