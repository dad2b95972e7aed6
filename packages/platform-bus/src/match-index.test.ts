import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUS_TYPES } from './bus-types.js';
import type { DriverSpec } from './device.js';
import { Device } from './device.js';
import { DriverCore } from './driver-core.js';
import { DriverIndex, type RegisteredDriver } from './match-index.js';

const words = ['a', 'b', 'c', 'd', 'e'];
const noop = (): void => undefined;

const driverArb = (name: string): fc.Arbitrary<DriverSpec> =>
  fc
    .record(
      {
        ofMatchTable: fc.subarray(words.map((w) => `v,${w}`)),
        acpiMatchTable: fc.subarray(['ACPI0', 'ACPI1']),
        idTable: fc.subarray(['d0', 'd1', 'd2']),
        ambaIdTable: fc.array(
          fc.record({
            id: fc.constantFrom(0x41330, 0x41080, 0x11, 0),
            mask: fc.constantFrom(0xfffff, 0xff, 0xffffff, 0),
          }),
          { maxLength: 3 },
        ),
        matchAnyDevice: fc.boolean(),
      },
      { requiredKeys: [] },
    )
    .map((spec) => ({ ...spec, name, probe: noop }));

const deviceArb = fc.record({
  name: fc.constantFrom('d0', 'd1', 'd2', 'drv0', 'drv3'),
  bus: fc.constantFrom<'platform' | 'amba'>('platform', 'amba'),
  compatible: fc.subarray(words.map((w) => `v,${w}`)),
  acpiIds: fc.subarray(['ACPI0', 'ACPI1']),
  periphid: fc.constantFrom(0x241330, 0x41080, 0x11, 0x999),
  driverOverride: fc.option(fc.constantFrom('drv0', 'drv1', 'drv5', 'nope'), { nil: undefined }),
});

/** The index's candidates, filtered by the exact match, are the drivers a full scan matches, in order. */
const indexAgreesWithScan = (makeIndex: () => DriverIndex) =>
  fc.property(
    fc
      .array(fc.nat(), { maxLength: 8 })
      .chain((sizes) =>
        fc.tuple(
          fc.tuple(...sizes.map((_, i) => driverArb(`drv${i}`))),
          fc.array(fc.nat({ max: 7 }), { maxLength: 4 }),
          fc.array(deviceArb, { minLength: 1, maxLength: 6 }),
        ),
      ),
    ([drivers, removals, devices]) => {
      const index = makeIndex();
      const all: RegisteredDriver[] = drivers.map((spec, seq) => ({ spec, seq }));
      for (const entry of all) index.add(entry);
      // Unregister and re-register some: they move to the end of the order.
      let seq = all.length;
      for (const r of removals) {
        const entry = index.all[r % Math.max(1, index.all.length)];
        if (entry === undefined) continue;
        index.remove(entry);
        index.add({ spec: entry.spec, seq: seq++ });
      }
      for (const description of devices) {
        const device = new Device({ ...description, driverOverride: description.driverOverride ?? '' });
        const naive = index.all
          .filter((e) => BUS_TYPES[device.bus].match(device, e.spec) !== null)
          .map((e) => e.spec.name);
        const indexed = index
          .candidates(device)
          .filter((e) => BUS_TYPES[device.bus].match(device, e.spec) !== null)
          .map((e) => e.spec.name);
        expect(indexed).toEqual(naive);
      }
    },
  );

/** A DriverIndex with a planted bug in `candidates`. */
class PlantedIndex extends DriverIndex {
  constructor(private readonly bug: (found: RegisteredDriver[], device: Device) => RegisteredDriver[]) {
    super();
  }
  override candidates(device: Device): RegisteredDriver[] {
    return this.bug(super.candidates(device), device);
  }
}

describe('DriverIndex', () => {
  it('gives the same matching drivers, in the same order, as scanning every driver', () => {
    fc.assert(
      indexAgreesWithScan(() => new DriverIndex()),
      { numRuns: 300 },
    );
  });

  it('the property fails on planted index bugs: order lost, wildcard drivers or ACPI candidates dropped', () => {
    const fails = (bug: (found: RegisteredDriver[], device: Device) => RegisteredDriver[]): boolean =>
      fc.check(
        indexAgreesWithScan(() => new PlantedIndex(bug)),
        { numRuns: 500 },
      ).failed;
    expect(fails((found) => [...found].reverse())).toBe(true);
    expect(fails((found) => found.filter((e) => e.spec.matchAnyDevice !== true))).toBe(true);
    expect(
      fails((found, device) =>
        found.filter(
          (e) => (device.description.acpiIds ?? []).length === 0 || (e.spec.ofMatchTable ?? []).length > 0,
        ),
      ),
    ).toBe(true);
    // The control: the real candidates through the same subclass pass.
    expect(fails((found) => found)).toBe(false);
  });
});

/** Indexed attach binds as a core that scans every driver; `plant` may break the indexed core. */
const indexedBindsAsScan = (plant: (core: DriverCore) => void) =>
  fc.property(
    fc
      .array(fc.nat(), { maxLength: 8 })
      .chain((sizes) => fc.tuple(...sizes.map((_, i) => driverArb(`drv${i}`)))),
    fc.array(deviceArb, { minLength: 1, maxLength: 8 }),
    fc.boolean(),
    (drivers, devices, driversFirst) => {
      const bindings = (indexedMatching: boolean): (string | null)[] => {
        const core = new DriverCore({ indexedMatching });
        if (indexedMatching) plant(core);
        const seen = new Set<string>();
        const add = (): void => {
          for (const { driverOverride, ...d } of devices) {
            if (seen.has(d.name)) continue;
            seen.add(d.name);
            core.bus(d.bus).addDevice({ ...d, ...(driverOverride === undefined ? {} : { driverOverride }) });
          }
        };
        if (!driversFirst) add();
        for (const spec of drivers) {
          core.platform.registerDriver(spec);
          core.amba.registerDriver({ ...spec });
        }
        add();
        return [...core.platform.devices, ...core.amba.devices].map((d) => d.driverName);
      };
      expect(bindings(true)).toEqual(bindings(false));
    },
  );

describe('indexed attach', () => {
  it('binds exactly as a core that scans every driver, whatever the registration order', () => {
    fc.assert(
      indexedBindsAsScan(() => undefined),
      { numRuns: 200 },
    );
  });

  it('the property fails when the indexed core has a planted index bug (newest driver first, wildcards lost)', () => {
    const fails = (bug: (found: RegisteredDriver[]) => RegisteredDriver[]): boolean =>
      fc.check(
        indexedBindsAsScan((core) => {
          for (const bus of [core.platform, core.amba]) {
            const candidates = bus.index.candidates.bind(bus.index);
            bus.index.candidates = (device) => bug(candidates(device));
          }
        }),
        { numRuns: 300 },
      ).failed;
    expect(fails((found) => [...found].reverse())).toBe(true);
    expect(fails((found) => found.filter((e) => e.spec.matchAnyDevice !== true))).toBe(true);
    expect(fails((found) => found)).toBe(false);
  });
});
