import fc from 'fast-check';
import type { QuiescenceAction, QuiescenceWorld } from './quiescence.js';

/** A named 32-bit register of one region, for {@link registerWrites}. */
export interface RegisterSpec {
  readonly region: number;
  readonly offset: number;
  readonly name: string;
}

/**
 * Random 32-bit writes: to the named registers (biased towards all-ones and single bits, which
 * set enables and start bits) and, less often, to any word offset of any region.
 */
export function registerWrites<W extends QuiescenceWorld>(
  registers: readonly RegisterSpec[],
  regionSizes: readonly number[],
): fc.Arbitrary<QuiescenceAction<W>> {
  const value = fc.oneof(
    fc.constant(0xffff_ffff),
    fc.integer({ min: 0, max: 31 }).map((bit) => (1 << bit) >>> 0),
    fc.nat({ max: 0xffff_ffff }),
    fc.constant(0),
  );
  const named = fc.tuple(fc.constantFrom(...registers), value).map(([reg, v]) => ({
    run: (world: W) => world.model.regions[reg.region]?.write(reg.offset, 4, v),
    toString: () => `write ${reg.name} = 0x${v.toString(16)}`,
  }));
  const anywhere = fc
    .tuple(fc.integer({ min: 0, max: regionSizes.length - 1 }), fc.nat(), value)
    .map(([region, word, v]) => {
      const offset = (word % ((regionSizes[region] ?? 4) / 4)) * 4;
      return {
        run: (world: W) => world.model.regions[region]?.write(offset, 4, v),
        toString: () => `write region ${region} +0x${offset.toString(16)} = 0x${v.toString(16)}`,
      };
    });
  return fc.oneof({ weight: 4, arbitrary: named }, { weight: 1, arbitrary: anywhere });
}

/** Model time passing. */
export function tickAction<W extends QuiescenceWorld>(): fc.Arbitrary<QuiescenceAction<W>> {
  return fc.integer({ min: 1, max: 50 }).map((us) => ({
    run: (world: W) => world.model.tick(us),
    toString: () => `tick ${us} µs`,
  }));
}
