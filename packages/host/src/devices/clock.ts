import { KernelError } from '@vfiokit/core';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fire: () => void;
}

/**
 * Model time in nanoseconds (QEMU's virtual clock as the devices see it). Nothing moves
 * it but {@link advance}: a scenario's `sleep`, `poll` and `wait` let time pass, and timers
 * due by then fire in order of their deadline.
 */
export class VirtualClock {
  private now = 0;
  private nextId = 0;
  private readonly timers: Timer[] = [];

  /** The current time in nanoseconds. */
  get nowNs(): number {
    return this.now;
  }

  /** Arms a timer at absolute time `atNs`; returns its id for {@link cancel}. */
  at(atNs: number, fire: () => void): number {
    if (!Number.isFinite(atNs)) throw new KernelError('EINVAL', `timer deadline ${atNs} is not finite`);
    const id = this.nextId++;
    this.timers.push({ id, at: Math.max(atNs, this.now), fire });
    this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
    return id;
  }

  /** Disarms a timer (`timer_del`); no-op when it already fired. */
  cancel(id: number): void {
    const index = this.timers.findIndex((timer) => timer.id === id);
    if (index >= 0) this.timers.splice(index, 1);
  }

  /** Lets `ns` nanoseconds pass, firing every timer due on the way. */
  advance(ns: number): void {
    if (!Number.isFinite(ns) || ns < 0) throw new KernelError('EINVAL', `cannot advance the clock by ${ns}`);
    const end = this.now + ns;
    for (let next = this.timers[0]; next !== undefined && next.at <= end; next = this.timers[0]) {
      this.timers.shift();
      this.now = next.at;
      next.fire();
    }
    this.now = end;
  }
}
