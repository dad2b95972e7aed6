import type { DriverCore } from '../driver-core.js';
import type { BindEvent } from '../events.js';
import { referenceMatch, referenceMatches } from './reference-match.js';

/**
 * Watches a {@link DriverCore}'s events and records every violation of the binding
 * invariants the race suite states:
 * - a device has at most one driver (no bind while bound, no unbind of another driver);
 * - a bound driver matched the device when its probe was decided (now, or for an async
 *   attach queued at driver registration, then: __driver_attach_async_helper does not re-match),
 *   by the rule the kernel's match tables name (and, for OF, the earliest device compatible);
 * - an `explicitBindOnly` device is never bound automatically;
 * - once `driver_override` names another driver, no other driver binds the device
 *   automatically — except through an async attach queued before the override was
 *   written, a real kernel window that is counted in `asyncWindowBinds`;
 * - a `sysfsBindOnly` driver binds only through sysfs `bind`;
 * - at quiescence, no device waits on the deferred list across a later successful bind
 *   (every bind retries the deferred devices), and the model agrees with the devices.
 */
export class BindMonitor {
  /** Human-readable invariant violations, in order. */
  readonly violations: string[] = [];
  /** Binds through the async-attach window (allowed; see the class comment). */
  asyncWindowBinds = 0;
  private clock = 0;
  private lastBindAt = -1;
  private readonly boundTo = new Map<string, string>();
  private readonly registeredAt = new Map<string, number>();
  private readonly matchedAtRegistration = new Map<string, Set<string>>();
  private readonly overrideAt = new Map<string, { readonly value: string; readonly at: number }>();
  private readonly explicitAt = new Map<string, number>();
  private readonly deferredAt = new Map<string, number>();
  private readonly core: DriverCore;

  constructor(core: DriverCore) {
    this.core = core;
    core.on('bind', (event) => this.onBind(event));
    core.on('unbind', ({ bus, device, driver }) => {
      this.clock++;
      const key = `${bus}/${device}`;
      if (this.boundTo.get(key) !== driver) {
        this.violations.push(
          `unbind of ${driver} from ${key}, which was bound to ${this.boundTo.get(key) ?? 'nothing'}`,
        );
      }
      this.boundTo.delete(key);
    });
    core.on('deferred', ({ bus, device }) => {
      this.deferredAt.set(`${bus}/${device}`, this.clock++);
    });
  }

  /** Call after registering `driver` on `bus`: records which devices it matched then. */
  noteRegistered(bus: 'platform' | 'amba', driver: string): void {
    const spec = this.core.bus(bus).driver(driver);
    if (spec === undefined) return;
    this.registeredAt.set(`${bus}/${driver}`, this.clock++);
    const matched = new Set<string>();
    for (const device of this.core.bus(bus).devices) {
      if (referenceMatches(device, spec)) matched.add(device.name);
    }
    this.matchedAtRegistration.set(`${bus}/${driver}`, matched);
  }

  /** Call after writing `driver_override` (`null` when cleared). */
  noteOverride(bus: 'platform' | 'amba', device: string, value: string | null): void {
    const key = `${bus}/${device}`;
    const previous = this.overrideAt.get(key);
    if (value === null) this.overrideAt.delete(key);
    else if (previous?.value !== value) this.overrideAt.set(key, { value, at: this.clock++ });
  }

  /** Call after setting or clearing a device's `explicitBindOnly`. */
  noteExplicitBindOnly(bus: 'platform' | 'amba', device: string, on: boolean): void {
    const key = `${bus}/${device}`;
    if (!on) this.explicitAt.delete(key);
    else if (!this.explicitAt.has(key)) this.explicitAt.set(key, this.clock++);
  }

  /** Call when a device is removed (its name may come back as a new device). */
  noteRemoved(bus: 'platform' | 'amba', device: string): void {
    const key = `${bus}/${device}`;
    this.overrideAt.delete(key);
    this.explicitAt.delete(key);
    this.deferredAt.delete(key);
  }

  private onBind(event: BindEvent): void {
    const at = this.clock++;
    const key = `${event.bus}/${event.device}`;
    const already = this.boundTo.get(key);
    if (already !== undefined) this.violations.push(`${event.driver} bound ${key} while ${already} held it`);
    this.boundTo.set(key, event.driver);
    this.lastBindAt = at;
    const bus = this.core.bus(event.bus);
    const device = bus.device(event.device);
    const driver = bus.driver(event.driver);
    if (device === undefined || driver === undefined) {
      this.violations.push(`bind event for unknown ${key} / ${event.driver}`);
      return;
    }
    const driverKey = `${event.bus}/${event.driver}`;
    const registeredAt = this.registeredAt.get(driverKey) ?? -1;
    const queuedAtRegistration = event.via === 'async_driver_register';
    if (queuedAtRegistration) {
      if (this.matchedAtRegistration.get(driverKey)?.has(event.device) !== true) {
        this.violations.push(`${event.driver} async-attached ${key} that it did not match at registration`);
      }
    } else {
      const reference = referenceMatch(device, driver);
      const ambaForced =
        event.via === 'sysfs_bind' && event.match.reason === 'sysfs_bind' && device.periphid === 0;
      if (reference === null) {
        if (!ambaForced)
          this.violations.push(`${event.driver} bound ${key} (${event.via}) without matching it`);
      } else if (
        !ambaForced &&
        (reference.reason !== event.match.reason || reference.compatible !== event.match.compatible)
      ) {
        const said = `${event.match.reason}${event.match.compatible === undefined ? '' : ` ${event.match.compatible}`}`;
        const rule = `${reference.reason}${reference.compatible === undefined ? '' : ` ${reference.compatible}`}`;
        this.violations.push(
          `${event.driver} bound ${key} by ${said}, but the kernel's rules match by ${rule}`,
        );
      }
    }
    if (driver.sysfsBindOnly === true && event.via !== 'sysfs_bind') {
      this.violations.push(`sysfsBindOnly ${event.driver} bound ${key} through ${event.via}`);
    }
    if (event.via === 'sysfs_bind') return;
    if (this.explicitAt.has(key)) {
      this.violations.push(`${event.driver} bound explicit-bind-only ${key} through ${event.via}`);
    }
    const override = this.overrideAt.get(key);
    if (override !== undefined && override.value !== event.driver) {
      if (queuedAtRegistration && registeredAt < override.at) this.asyncWindowBinds++;
      else
        this.violations.push(
          `${event.driver} bound ${key} (override ${override.value}) through ${event.via}`,
        );
    }
  }

  /**
   * Checks what must hold once no work is pending: the model's bindings equal the devices',
   * and no device sits on the deferred list across a later successful bind.
   */
  checkQuiescent(): void {
    for (const bus of [this.core.platform, this.core.amba]) {
      for (const device of bus.devices) {
        const key = `${bus.name}/${device.name}`;
        const expected = this.boundTo.get(key) ?? null;
        if (device.driverName !== expected) {
          this.violations.push(
            `${key} is bound to ${device.driverName ?? 'nothing'}, events say ${expected ?? 'nothing'}`,
          );
        }
      }
    }
    for (const { bus, device } of this.core.deferredDevices) {
      const key = `${bus}/${device}`;
      const at = this.deferredAt.get(key) ?? -1;
      if (at < this.lastBindAt)
        this.violations.push(`${key} deferred before the last bind and was never retried`);
    }
  }
}
