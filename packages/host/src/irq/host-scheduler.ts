import type { Scheduler } from '@vfiokit/core';

/**
 * When the host's deferred interrupt work runs: after the kernel entry that scheduled it
 * returns. A resend `enable_irq` finds due (kernel/irq/manage.c `__enable_irq` →
 * kernel/irq/resend.c `check_irq_resend`) is taken by the CPU only once interrupts are on
 * again; when `enable_irq` runs inside an eventfd wakeup (drivers/vfio/virqfd.c
 * `virqfd_wakeup` runs the UNMASK handler under the eventfd's lock), that is after the wakeup
 * and the `write(2)` that caused it have returned, outside `current->in_eventfd`
 * (fs/eventfd.c), so the handler's `eventfd_signal` of TRIGGER is not dropped.
 *
 * A task scheduled inside {@link enter} (a system call of a `HostProcess`, a `write(2)` to
 * one of its eventfds) waits until the outermost entry returns; a task scheduled outside any
 * entry (a device model raising a line as model time passes, a test driving the chip) runs
 * at once. Tasks run oldest first; one scheduled while another runs waits its turn.
 */
export class HostScheduler implements Scheduler {
  private readonly queue: Array<() => void> = [];
  private depth = 0;
  private draining = false;

  schedule(_label: string, task: () => void): void {
    this.queue.push(task);
    if (this.depth === 0) this.drain();
  }

  /** Runs `body` as a kernel entry: what it schedules runs when the outermost entry returns. */
  enter<T>(body: () => T): T {
    this.depth++;
    try {
      return body();
    } finally {
      this.depth--;
      if (this.depth === 0) this.drain();
    }
  }

  /** Tasks waiting for the current entry to return. */
  get pending(): number {
    return this.queue.length;
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) next();
    } finally {
      this.draining = false;
    }
  }
}
