// Options objects reject unknown keys with EINVAL (issue #9, item 27): a typo is an error.
import { describe, expect, it } from 'vitest';
import { DriverCore } from './driver-core.js';
import { errnoOf } from './test-helpers.js';
import {
  arndaleRaceSetup,
  bindRaceCommands,
  handOverRaceProperty,
  recordingDriver,
} from './testing/index.js';

describe('options objects reject unknown keys', () => {
  it('DriverCore: a misspelt option is EINVAL, the spelt ones work', () => {
    expect(errnoOf(() => new DriverCore({ legacyBindstore: true } as never))).toBe('EINVAL');
    expect(
      () =>
        new DriverCore({
          legacyBindStore: true,
          ambaStubDriver: false,
          indexedMatching: false,
          sysfsBindOnlyAttribute: true,
        }),
    ).not.toThrow();
  });

  it('a device description with a misspelt field is EINVAL', () => {
    const core = new DriverCore();
    expect(
      errnoOf(() => core.platform.addDevice({ name: 'd0', bus: 'platform', compatibles: ['x'] } as never)),
    ).toBe('EINVAL');
    expect(core.platform.device('d0')).toBeUndefined();
  });

  it('the testing helpers: recordingDriver, bindRaceCommands, RaceSetup, handOverRaceProperty', () => {
    expect(errnoOf(() => recordingDriver('d', { ofMatchTabel: ['x'] } as never))).toBe('EINVAL');
    expect(errnoOf(() => bindRaceCommands(arndaleRaceSetup(), { maxCommand: 3 } as never))).toBe('EINVAL');
    expect(errnoOf(() => bindRaceCommands({ ...arndaleRaceSetup(), initialDevice: [0] } as never))).toBe(
      'EINVAL',
    );
    expect(errnoOf(() => handOverRaceProperty('driver_override', { devices: 'x' } as never))).toBe('EINVAL');
    expect(() => recordingDriver('d', { ofMatchTable: ['x'], verdict: () => undefined })).not.toThrow();
  });

  it('an AMBA id-table entry with a misspelt field is EINVAL, and the driver is not registered', () => {
    const core = new DriverCore();
    expect(
      errnoOf(() =>
        core.amba.registerDriver({
          name: 'pl',
          ambaIdTable: [{ id: 0x41031, mask: 0xfffff, maks: 1 }],
          probe: () => {},
        } as never),
      ),
    ).toBe('EINVAL');
    expect(core.amba.driver('pl')).toBeUndefined();
  });

  it('a device region with a misspelt field is EINVAL', () => {
    const core = new DriverCore();
    expect(
      errnoOf(() =>
        core.platform.addDevice({
          name: 'd0',
          bus: 'platform',
          regions: [{ start: 0, sise: 0x1000 }],
        } as never),
      ),
    ).toBe('EINVAL');
    expect(core.platform.device('d0')).toBeUndefined();
  });

  it('a driver with a misspelt field is EINVAL; fields of its own (probed, vfio state) are allowed', () => {
    const core = new DriverCore();
    const probe = () => undefined;
    for (const typo of [
      'ofMatchTabel',
      'driverManagedDMA',
      'suppressBindAttr',
      'idtable',
      'matchAnyDevise',
    ]) {
      expect(errnoOf(() => core.platform.registerDriver({ name: typo, [typo]: ['x'], probe } as never))).toBe(
        'EINVAL',
      );
      expect(core.platform.driver(typo)).toBeUndefined();
    }
    expect(() => core.platform.registerDriver(recordingDriver('rec'))).not.toThrow();
    expect(() =>
      core.platform.registerDriver({ name: 'own', probe, vfioState: {}, probed: [] } as never),
    ).not.toThrow();
  });
});
