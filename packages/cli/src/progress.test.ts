import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startProgress } from './progress.js';

describe('startProgress', () => {
  it('property: at most one line, and only when the time spent plus the estimate passes the limit', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 5000 }),
        fc.array(fc.tuple(fc.nat({ max: 2000 }), fc.nat({ max: 2000 })), { maxLength: 6 }),
        (afterMs, steps) => {
          let clock = 0;
          const written: string[] = [];
          const progress = startProgress({ write: (line) => written.push(line), afterMs, now: () => clock });
          let due = false;
          for (const [spent, estimate] of steps) {
            clock += spent;
            progress.before('step', estimate);
            if (clock + estimate > afterMs) due = true;
          }
          progress.done();
          expect(written.length).toBe(due ? 1 : 0);
        },
      ),
    );
  });

  it('done() stops the timer: no line after the work', async () => {
    const written: string[] = [];
    const progress = startProgress({ write: (line) => written.push(line), afterMs: 5, now: () => 0 });
    progress.done();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(written).toEqual([]);
  });
});
