import type { MmioDevice } from '@vfiokit/core';
import type { MatchInfo } from './match-info.js';

/** What the state needs of a driver: its name (the type parameter carries the rest). */
interface Named {
  readonly name: string;
}

/**
 * A device's driver-core bookkeeping (`struct device_private` and the fields of
 * `struct device` the core owns), changed only through transition methods named after the
 * kernel steps that make them, so every write has one place and one reason.
 * @internal
 */
export class DeviceState<Driver extends Named> {
  #driver: Driver | null = null;
  #match: MatchInfo | null = null;
  #override: string | null;
  #dead = false;
  #asyncDriver: Driver | null = null;
  #asyncMatch: MatchInfo | null = null;
  #canMatch = false;
  #lock: Promise<void> | null = null;
  #removing = false;
  #periphid: number;
  #primecell: MmioDevice | undefined;
  #ueventSuppressed = false;

  constructor(initial: { override: string | null; periphid: number; primecell: MmioDevice | undefined }) {
    this.#override = initial.override;
    this.#periphid = initial.periphid;
    this.#primecell = initial.primecell;
  }

  /** `dev->driver`. */
  get driver(): Driver | null {
    return this.#driver;
  }
  /** How `driver` matched when its probe was decided. */
  get match(): MatchInfo | null {
    return this.#match;
  }
  /** `driver_override` (NULL = unset). */
  get driverOverride(): string | null {
    return this.#override;
  }
  /** `dev->p->dead`: set once device_del() starts. */
  get dead(): boolean {
    return this.#dead;
  }
  /** `dev->p->async_driver`: a driver whose async attach is queued. */
  get asyncDriver(): Driver | null {
    return this.#asyncDriver;
  }
  /** `dev->can_match`. */
  get canMatch(): boolean {
    return this.#canMatch;
  }
  /** The device lock while a probe or remove waits; later operations queue behind it. */
  get lock(): Promise<void> | null {
    return this.#lock;
  }
  /** `true` while a remove runs (the driver is still bound but going). */
  get removing(): boolean {
    return this.#removing;
  }
  /** AMBA `periphid` (0 = not read yet). */
  get periphid(): number {
    return this.#periphid;
  }
  /** AMBA register model, when available. */
  get primecell(): MmioDevice | undefined {
    return this.#primecell;
  }
  /** Whether uevents are held back (an AMBA device whose IDs could not be read yet). */
  get ueventSuppressed(): boolean {
    return this.#ueventSuppressed;
  }

  /** really_probe(): `dev->driver = drv` before the bus's dma_configure and the probe. */
  probing(driver: Driver, match: MatchInfo): void {
    this.#driver = driver;
    this.#match = match;
  }

  /** device_unbind_cleanup(): the device forgets its driver (failed probe, finished remove). */
  unbound(): void {
    this.#driver = null;
    this.#match = null;
    this.#removing = false;
  }

  /** __device_release_driver() has started: the driver is still bound but going. */
  removeStarted(): void {
    this.#removing = true;
  }

  /** __driver_probe_device(): `dev->can_match = true`. */
  matched(): void {
    this.#canMatch = true;
  }

  /** driver_set_override(). */
  setOverride(name: string | null): void {
    this.#override = name;
  }

  /** device_del(): the device is dead and no queued async attach of it may run. */
  died(): void {
    this.#dead = true;
    this.dropAsync();
  }

  /** __driver_attach(): an async attach of `driver` is queued, with the match decided now. */
  queueAsync(driver: Driver, match: MatchInfo): void {
    this.#asyncDriver = driver;
    this.#asyncMatch = match;
  }

  /** __driver_attach_async_helper(): takes the queued attach (once). */
  takeAsync(): { readonly driver: Driver; readonly match: MatchInfo } | null {
    const driver = this.#asyncDriver;
    const match = this.#asyncMatch;
    this.dropAsync();
    return driver === null || match === null ? null : { driver, match };
  }

  /** Forgets a queued async attach (of `driver` only, when given). */
  dropAsync(driver?: Driver): void {
    if (driver !== undefined && this.#asyncDriver !== driver) return;
    this.#asyncDriver = null;
    this.#asyncMatch = null;
  }

  /**
   * Holds the device lock until `settled` (which must never reject) settles; the lock is
   * then released unless a later holder took it.
   */
  hold(settled: Promise<void>): void {
    this.#lock = settled;
    void settled.then(() => {
      if (this.#lock === settled) this.#lock = null;
    });
  }

  /** amba_device_add(): the IDs could not be read, so uevents wait. */
  suppressUevents(): void {
    this.#ueventSuppressed = true;
  }

  /**
   * amba_read_periphid() succeeded: the periphid is known. Returns whether uevents were held
   * back (the caller then sends the `add` uevent, as amba_match() does).
   */
  identified(periphid: number): boolean {
    this.#periphid = periphid;
    const held = this.#ueventSuppressed;
    this.#ueventSuppressed = false;
    return held;
  }

  /** The ID registers became readable (clock or power domain arrived). */
  providePrimecell(model: MmioDevice): void {
    this.#primecell = model;
  }
}
