import type fc from 'fast-check';
import type { Scheduler } from '../scheduler.js';

/** A {@link Scheduler} driven by fast-check, which keeps what its tasks threw. */
export interface FastCheckScheduler extends Scheduler {
  /** What tasks threw, in the order they ran; a task failure never escapes as an unhandled rejection. */
  readonly failures: readonly unknown[];
  /** Throws the first task failure, if any: call it after `s.waitAll()`. */
  throwIfFailed(): void;
}

/**
 * A core {@link Scheduler} driven by `fc.scheduler()`: every scheduled task becomes a
 * promise that fast-check releases in an order it picks, shrinks and replays with the seed.
 * Await `s.waitAll()` (or `waitOne`) to let tasks run, then `throwIfFailed()`: a task that
 * throws (a driver bug in an async probe, say) is recorded rather than left as an
 * unhandled rejection that outlives the property.
 */
export function fastCheckScheduler(s: fc.Scheduler): FastCheckScheduler {
  const failures: unknown[] = [];
  return {
    failures,
    schedule(label: string, task: () => void): void {
      void s
        .schedule(Promise.resolve(label), label)
        .then(task)
        .catch((error: unknown) => {
          failures.push(error);
        });
    },
    throwIfFailed(): void {
      if (failures.length > 0) throw failures[0];
    },
  };
}
