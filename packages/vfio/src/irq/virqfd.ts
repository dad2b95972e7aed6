import type { EventFd } from '@vfiokit/core';

/**
 * `struct virqfd` (drivers/vfio/virqfd.c): runs `handler` whenever the eventfd is signalled
 * (consuming the count, as `virqfd_wakeup` does with `eventfd_ctx_do_read`), and once at
 * registration if the eventfd was already signalled. It goes away when the eventfd closes
 * (EPOLLHUP) or the driver disables it.
 */
export class Virqfd {
  readonly eventfd: EventFd;
  private readonly handler: () => void;
  private readonly onSignal = (): void => {
    this.eventfd.consume();
    this.handler();
  };
  private readonly onClose = (): void => {
    this.active = false;
  };
  private active = true;

  constructor(eventfd: EventFd, handler: () => void) {
    this.eventfd = eventfd;
    this.handler = handler;
    eventfd.on('signal', this.onSignal);
    eventfd.on('close', this.onClose);
    // vfio_virqfd_enable: "Check if there was an event already pending on the eventfd before
    // we registered and trigger it as if we didn't miss it."
    if (eventfd.readable) handler();
  }

  /** Whether it still listens. */
  get isActive(): boolean {
    return this.active;
  }

  /** `vfio_virqfd_disable`. */
  disable(): void {
    if (!this.active) return;
    this.active = false;
    this.eventfd.off('signal', this.onSignal);
    this.eventfd.off('close', this.onClose);
  }
}
