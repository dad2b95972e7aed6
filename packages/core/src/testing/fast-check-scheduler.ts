import type fc from 'fast-check';
import type { Scheduler } from '../scheduler.js';

/**
 * A core {@link Scheduler} driven by `fc.scheduler()`: every scheduled task becomes a
 * promise that fast-check releases in an order it picks, shrinks and replays with the seed.
 * Await `s.waitAll()` (or `waitOne`) to let tasks run.
 */
export function fastCheckScheduler(s: fc.Scheduler): Scheduler {
  return {
    schedule(label: string, task: () => void): void {
      void s.schedule(Promise.resolve(label), label).then(task);
    },
  };
}
