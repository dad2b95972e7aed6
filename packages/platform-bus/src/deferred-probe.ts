import type { Scheduler } from '@vfiokit/core';
import { type Device, stateOf } from './device.js';
import type { DeferredEvent } from './events.js';

/**
 * The deferred-probe lists of drivers/base/dd.c, global across buses: devices whose match or
 * probe returned `EPROBE_DEFER` wait on the pending list; a trigger moves them to the active
 * list and queues the work that probes them again.
 */
export class DeferredProbe {
  readonly #scheduler: Scheduler;
  readonly #announce: (event: DeferredEvent) => void;
  readonly #reprobe: (device: Device) => void;
  readonly #pending = new Set<Device>();
  readonly #active = new Set<Device>();
  #triggerCount = 0;
  #workQueued = false;

  constructor(
    scheduler: Scheduler,
    announce: (event: DeferredEvent) => void,
    reprobe: (device: Device) => void,
  ) {
    this.#scheduler = scheduler;
    this.#announce = announce;
    this.#reprobe = reprobe;
  }

  /** `deferred_trigger_count`. */
  get triggerCount(): number {
    return this.#triggerCount;
  }

  /** Devices waiting, pending then active (debugfs `devices_deferred`). */
  get devices(): readonly Device[] {
    return [...this.#pending, ...this.#active];
  }

  /**
   * `driver_deferred_probe_add()`: only a device that matched a driver (`can_match`) is
   * queued, once; the `deferred` event reports it.
   */
  add(device: Device, driver: string | null, reason: string): void {
    if (!stateOf(device).canMatch || stateOf(device).dead) return;
    if (!this.#pending.has(device) && !this.#active.has(device)) this.#pending.add(device);
    this.#announce({ bus: device.bus, device: device.name, driver, code: 'EPROBE_DEFER', reason });
  }

  /** `driver_deferred_probe_del()`. */
  delete(device: Device): void {
    this.#pending.delete(device);
    this.#active.delete(device);
  }

  /**
   * `driver_deferred_probe_trigger()`: moves every pending device to the active list and
   * queues the deferred-probe work (once: queueing queued work is a no-op).
   */
  trigger(): void {
    this.#triggerCount++;
    if (this.#pending.size > 0) {
      for (const device of this.#pending) this.#active.add(device);
      this.#pending.clear();
    }
    if (this.#workQueued || this.#active.size === 0) return;
    this.#workQueued = true;
    this.#scheduler.schedule('deferred_probe_work', () => this.#work());
  }

  /** `deferred_probe_work_func()`: bus_probe_device() for each active device. */
  #work(): void {
    this.#workQueued = false;
    for (let next = this.#active.values().next(); !next.done; next = this.#active.values().next()) {
      const device = next.value;
      this.#active.delete(device);
      this.#reprobe(device);
    }
  }
}
