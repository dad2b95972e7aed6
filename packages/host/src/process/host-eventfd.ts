import { EventFd } from '@vfiokit/core';
import type { HostScheduler } from '../irq/host-scheduler.js';

/**
 * An eventfd a `HostProcess` created: its `write(2)` is a kernel entry of the host, so what
 * the wakeup schedules (an UNMASK virqfd's `enable_irq` resend, drivers/vfio/virqfd.c) runs
 * after the write returns, outside `current->in_eventfd` (fs/eventfd.c), as on Linux.
 */
export class HostEventFd extends EventFd {
  private readonly entry: HostScheduler;

  constructor(entry: HostScheduler) {
    super();
    this.entry = entry;
  }

  override write(value: bigint | number): void {
    this.entry.enter(() => super.write(value));
  }
}
