import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HostScheduler } from './host-scheduler.js';

describe('HostScheduler', () => {
  it('runs a task scheduled outside any kernel entry at once', () => {
    const scheduler = new HostScheduler();
    const ran: string[] = [];
    scheduler.schedule('a', () => ran.push('a'));
    expect(ran).toEqual(['a']);
  });

  it('defers a task scheduled inside an entry until the outermost entry returns (check_irq_resend after the wakeup)', () => {
    const scheduler = new HostScheduler();
    const ran: string[] = [];
    scheduler.enter(() => {
      scheduler.enter(() => scheduler.schedule('inner', () => ran.push('inner')));
      expect(ran).toEqual([]);
      expect(scheduler.pending).toBe(1);
      ran.push('body');
    });
    expect(ran).toEqual(['body', 'inner']);
    expect(scheduler.pending).toBe(0);
  });

  it('still runs what was scheduled when the entry fails, and rethrows', () => {
    const scheduler = new HostScheduler();
    const ran: string[] = [];
    expect(() =>
      scheduler.enter(() => {
        scheduler.schedule('t', () => ran.push('t'));
        throw new RangeError('boom');
      }),
    ).toThrow(RangeError);
    expect(ran).toEqual(['t']);
  });

  it('property: every task runs exactly once, oldest first, and none runs while an entry is open', () => {
    // A program: nested entries and schedules; a task may itself schedule or enter.
    type Step =
      | { readonly kind: 'schedule'; readonly spawn: boolean }
      | { readonly kind: 'enter'; readonly body: Step[] };
    const step: fc.Arbitrary<Step> = fc.letrec<{ step: Step }>((tie) => ({
      step: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.record({ kind: fc.constant('schedule' as const), spawn: fc.boolean() }),
        fc.record({ kind: fc.constant('enter' as const), body: fc.array(tie('step'), { maxLength: 4 }) }),
      ),
    })).step;
    fc.assert(
      fc.property(fc.array(step, { maxLength: 8 }), (program) => {
        const scheduler = new HostScheduler();
        const scheduled: number[] = [];
        const ran: number[] = [];
        let depth = 0;
        let next = 0;
        const add = (spawn: boolean): void => {
          const id = next++;
          scheduled.push(id);
          scheduler.schedule(`t${id}`, () => {
            expect(depth).toBe(0);
            ran.push(id);
            if (spawn) scheduler.enter(() => add(false));
          });
        };
        const run = (steps: readonly Step[]): void => {
          for (const s of steps) {
            if (s.kind === 'schedule') add(s.spawn);
            else
              scheduler.enter(() => {
                depth++;
                try {
                  run(s.body);
                } finally {
                  depth--;
                }
              });
          }
        };
        run(program);
        expect(scheduler.pending).toBe(0);
        expect(ran).toEqual(scheduled);
      }),
    );
  });
});
