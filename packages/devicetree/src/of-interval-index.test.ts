import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FirstIntervalIndex, type IndexedInterval } from './of-interval-index.js';

describe('FirstIntervalIndex (the ranges scan of drivers/of/address.c: of_translate_one, indexed)', () => {
  it('answers like a first-match linear scan, overlaps and empty intervals included', () => {
    const interval = fc.tuple(fc.bigInt({ min: 0n, max: 64n }), fc.bigInt({ min: 0n, max: 24n }));
    fc.assert(
      fc.property(
        fc.array(interval, { maxLength: 12 }),
        fc.array(fc.bigInt({ min: 0n, max: 100n }), { maxLength: 20 }),
        (list, points) => {
          const intervals: IndexedInterval[] = list.map(([lo, size], index) => ({
            index,
            lo,
            hi: lo + size,
          }));
          const index = new FirstIntervalIndex(intervals);
          for (const point of points) {
            const linear = intervals.findIndex((iv) => iv.lo <= point && point < iv.hi);
            expect(index.find(point)).toBe(linear);
          }
        },
      ),
    );
  });

  it('an empty list finds nothing', () => {
    expect(new FirstIntervalIndex([]).find(0n)).toBe(-1);
  });
});
