import { KernelError } from './kernel-error.js';

/**
 * Where asynchronous kernel work runs: async probe, deferred-probe retries, interrupt
 * delivery. Code that would run "later" in the kernel calls `schedule`; the scheduler
 * decides when. Injecting it is what lets a test explore every interleaving and replay one.
 */
export interface Scheduler {
  /** Queues `task`; `label` names it in traces and failure reports. */
  schedule(label: string, task: () => void): void;
}

/**
 * Runs each task before `schedule` returns, in FIFO order; a task scheduled while another
 * runs waits until that one finishes (so there is no unbounded recursion).
 */
export class ImmediateScheduler implements Scheduler {
  private readonly queue: Array<() => void> = [];
  private running = false;

  schedule(_label: string, task: () => void): void {
    this.queue.push(task);
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) next();
    } finally {
      this.running = false;
    }
  }
}

/** A task waiting in a {@link ManualScheduler}. */
export interface PendingTask {
  readonly id: number;
  readonly label: string;
}

/**
 * Runs nothing until told: tests pick which pending task runs next (`run(index)`), run them
 * in order (`runNext`, `runAll`), and read the trace of what ran. Deterministic by design.
 */
export class ManualScheduler implements Scheduler {
  private readonly tasks: Array<PendingTask & { readonly task: () => void }> = [];
  private readonly ran: string[] = [];
  private nextId = 0;

  schedule(label: string, task: () => void): void {
    this.tasks.push({ id: this.nextId++, label, task });
  }

  /** Tasks waiting, oldest first. */
  get pending(): readonly PendingTask[] {
    return this.tasks.map(({ id, label }) => ({ id, label }));
  }

  /** Labels of the tasks that ran, in order. */
  get trace(): readonly string[] {
    return this.ran;
  }

  /** Runs the pending task at `index` (`index % pending` when out of range); `ENOENT` if none waits. */
  run(index: number): string {
    if (this.tasks.length === 0) throw new KernelError('ENOENT', 'no task is pending');
    const at = ((index % this.tasks.length) + this.tasks.length) % this.tasks.length;
    const [entry] = this.tasks.splice(at, 1);
    if (entry === undefined) throw new KernelError('ENOENT', 'no task is pending');
    this.ran.push(entry.label);
    entry.task();
    return entry.label;
  }

  /** Runs the oldest pending task; returns false when none waits. */
  runNext(): boolean {
    if (this.tasks.length === 0) return false;
    this.run(0);
    return true;
  }

  /** Runs tasks oldest first until none waits; `ETIMEDOUT` after `limit` tasks (a livelock). */
  runAll(limit = 100_000): number {
    let count = 0;
    while (this.runNext()) {
      if (++count >= limit && this.tasks.length > 0) {
        throw new KernelError('ETIMEDOUT', `still ${this.tasks.length} tasks pending after ${limit}`);
      }
    }
    return count;
  }
}
