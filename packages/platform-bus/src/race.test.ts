import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arndaleRaceSetup,
  BindInvariantError,
  bindRaceProperty,
  type RaceSetup,
  seedRaceProperty,
} from './testing/index.js';

// 600 + 300 model runs plus 2 × 100 protected seed-race runs (the unprotected one stops at
// its first counterexample): 1,100 race runs in CI, each replayable with FC_SEED.
describe('model-based bind races (fc.commands × fc.scheduler)', () => {
  it('keeps every invariant on the Arndale setup', async () => {
    await fc.assert(bindRaceProperty(arndaleRaceSetup()), { numRuns: 600 });
  });

  it('keeps every invariant when every driver probes asynchronously (driver_async_probe=*)', async () => {
    const setup: RaceSetup = { ...arndaleRaceSetup(), asyncProbeDrivers: '*' };
    await fc.assert(bindRaceProperty(setup), { numRuns: 300 });
  });
});

describe("the seed's race and its cures", () => {
  it('happens without protection: a host event between unbind and bind re-binds s3c-i2c', async () => {
    const result = await fc.check(seedRaceProperty('none'), { numRuns: 200 });
    expect(result.failed).toBe(true);
    // It fails because of the race itself, not because of some other error in the run.
    expect(result.errorInstance).toBeInstanceOf(BindInvariantError);
    const { details } = result.errorInstance as BindInvariantError;
    expect(details).toContainEqual(expect.stringMatching(/^s3c-i2c re-bound 12ce0000\.i2c via /));
  });

  it('never happens with driver_override (the upstream answer)', async () => {
    await fc.assert(seedRaceProperty('driver_override'), { numRuns: 100 });
  });

  it("never happens with the seed's explicit-bind-only device flag", async () => {
    await fc.assert(seedRaceProperty('explicit_bind_only'), { numRuns: 100 });
  });
});
