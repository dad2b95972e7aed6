import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastCheckScheduler } from './fast-check-scheduler.js';

describe('fastCheckScheduler', () => {
  it('runs every task once, in an order fast-check chooses and replays', async () => {
    const orders = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        const scheduler = fastCheckScheduler(s);
        const ran: string[] = [];
        for (const label of ['a', 'b', 'c']) scheduler.schedule(label, () => ran.push(label));
        expect(ran).toEqual([]);
        await s.waitAll();
        expect([...ran].sort()).toEqual(['a', 'b', 'c']);
        orders.add(ran.join(''));
        scheduler.throwIfFailed();
      }),
      { numRuns: 60 },
    );
    expect(orders.size).toBeGreaterThan(1);
  });

  it('keeps what a task throws instead of leaking an unhandled rejection', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        const scheduler = fastCheckScheduler(s);
        const bug = new TypeError('driver bug');
        let after = false;
        scheduler.schedule('buggy probe', () => {
          throw bug;
        });
        scheduler.schedule('next', () => {
          after = true;
        });
        await s.waitAll();
        expect(after).toBe(true);
        expect(scheduler.failures).toEqual([bug]);
        expect(() => scheduler.throwIfFailed()).toThrow(bug);
      }),
      { numRuns: 20 },
    );
  });
});
