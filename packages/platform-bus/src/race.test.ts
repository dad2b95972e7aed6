import { thrownErrno } from '@vfiokit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as testing from './testing/index.js';
import {
  arndaleRaceSetup,
  BindInvariantError,
  bindRaceProperty,
  type HandOverProtection,
  handOverRaceProperty,
  type RaceSetup,
} from './testing/index.js';

// 1,000 runs take seconds each on the shared 2-core machine: a generous per-test timeout.
const LONG = 60_000;

// 1,000 runs of each model-based suite and of each protected hand-over race (the unprotected one
// stops at its first counterexample), each replayable with FC_SEED.
describe('model-based bind races (fc.commands × fc.scheduler)', () => {
  it("reports a driver bug thrown from an async probe as the run's failure, not an unhandled rejection", async () => {
    const base = arndaleRaceSetup();
    const buggy: RaceSetup = {
      ...base,
      asyncProbeDrivers: '*',
      drivers: base.drivers.map((entry) => ({
        ...entry,
        create: (core) => ({
          ...entry.create(core),
          probe: () => {
            throw new TypeError('driver bug');
          },
        }),
      })),
    };
    const result = await fc.check(bindRaceProperty(buggy), { numRuns: 50 });
    expect(result.failed).toBe(true);
    expect(result.errorInstance).toBeInstanceOf(TypeError);
  });

  it(
    'keeps every invariant on the Arndale setup',
    async () => {
      await fc.assert(bindRaceProperty(arndaleRaceSetup()), { numRuns: 1000 });
    },
    LONG,
  );

  it(
    'keeps every invariant when every driver probes asynchronously (driver_async_probe=*)',
    async () => {
      const setup: RaceSetup = { ...arndaleRaceSetup(), asyncProbeDrivers: '*' };
      await fc.assert(bindRaceProperty(setup), { numRuns: 1000 });
    },
    LONG,
  );
});

describe('the 2013 race and its cures', () => {
  it('happens without protection: a host event between unbind and bind re-binds s3c-i2c', async () => {
    const result = await fc.check(handOverRaceProperty('none'), { numRuns: 200 });
    expect(result.failed).toBe(true);
    // It fails because of the race itself, not because of some other error in the run.
    expect(result.errorInstance).toBeInstanceOf(BindInvariantError);
    const { details } = result.errorInstance as BindInvariantError;
    expect(details).toContainEqual(expect.stringMatching(/^s3c-i2c re-bound 12ce0000\.i2c via /));
  });

  it('is named after what it checks; "seed" means only a fast-check seed (the old name is a deprecated alias)', () => {
    expect(testing.handOverRaceProperty).toBeTypeOf('function');
    expect(testing.seedRaceProperty).toBe(testing.handOverRaceProperty);
  });

  it('refuses a protection it does not know (EINVAL), rather than running unprotected', () => {
    expect(thrownErrno(() => handOverRaceProperty('sysfs_bind_only' as HandOverProtection))).toBe('EINVAL');
  });

  it(
    'never happens with driver_override (the upstream answer)',
    async () => {
      await fc.assert(handOverRaceProperty('driver_override'), { numRuns: 1000 });
    },
    LONG,
  );

  it(
    'never happens with the 2013 explicit-bind-only device flag',
    async () => {
      await fc.assert(handOverRaceProperty('explicit_bind_only'), { numRuns: 1000 });
    },
    LONG,
  );
});
