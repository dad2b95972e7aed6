import { type ErrnoName, isKernelError } from '@vfiokit/core';
import type { FastCheckScheduler } from '@vfiokit/core/testing';
import type fc from 'fast-check';
import type { Bus } from '../bus.js';
import type { Completion } from '../completion.js';
import type { DriverSpec } from '../device.js';
import type { DriverCore } from '../driver-core.js';
import type { BindMonitor } from './bind-monitor.js';
import { BindInvariantError } from './race-errors.js';
import type { RaceSetup } from './race-setup.js';
import { referenceMatches } from './reference-match.js';

/** The simplified model: which devices are plugged in and which drivers are registered. */
export interface RaceModel {
  readonly present: Set<number>;
  readonly registered: Set<number>;
}

/** The system under test with its monitor. */
export interface RaceReal {
  readonly core: DriverCore;
  /** Where the core's async work runs; it keeps what those tasks threw. */
  readonly scheduler: FastCheckScheduler;
  readonly monitor: BindMonitor;
  readonly setup: RaceSetup;
  /** The run's driver objects, aligned with `setup.drivers`. */
  readonly drivers: readonly DriverSpec[];
}

/** One race-suite command. */
export type RaceCommand = fc.AsyncCommand<RaceModel, RaceReal, boolean>;

/** Runs `work`; a `KernelError` is returned as its errno, anything else is rethrown. */
async function errnoOf(work: () => Completion): Promise<ErrnoName | undefined> {
  try {
    await work();
    return undefined;
  } catch (error) {
    if (isKernelError(error)) return error.code;
    throw error;
  }
}

function assertThat(condition: boolean, message: string): void {
  if (!condition) throw new BindInvariantError([message]);
}

function settle(real: RaceReal): void {
  if (real.monitor.violations.length > 0) throw new BindInvariantError(real.monitor.violations);
}

abstract class Base implements RaceCommand {
  check(_model: Readonly<RaceModel>): boolean {
    return true;
  }
  abstract run(model: RaceModel, real: RaceReal): Promise<void>;
  abstract toString(): string;
}

function deviceAt(real: RaceReal, index: number) {
  const description = real.setup.devices[index % real.setup.devices.length]!;
  const bus = real.core.bus(description.bus);
  return { description, bus, device: bus.device(description.name) };
}

function driverAt(real: RaceReal, index: number): { readonly driver: DriverSpec; readonly bus: Bus } {
  const at = index % real.drivers.length;
  return { driver: real.drivers[at]!, bus: real.core.bus(real.setup.drivers[at]!.bus) };
}

/** Hotplug: `device_add`. */
export class AddDevice extends Base {
  constructor(readonly index: number) {
    super();
  }
  override check(model: Readonly<RaceModel>): boolean {
    return !model.present.has(this.index);
  }
  async run(model: RaceModel, real: RaceReal): Promise<void> {
    const { description, bus } = deviceAt(real, this.index);
    bus.addDevice(description);
    model.present.add(this.index);
    settle(real);
  }
  toString(): string {
    return `add(#${this.index})`;
  }
}

/** Hotplug: `device_del`. */
export class RemoveDevice extends Base {
  constructor(readonly index: number) {
    super();
  }
  override check(model: Readonly<RaceModel>): boolean {
    return model.present.has(this.index);
  }
  async run(model: RaceModel, real: RaceReal): Promise<void> {
    const { description, bus } = deviceAt(real, this.index);
    real.monitor.noteRemoved(description.bus, description.name);
    await bus.removeDevice(description.name);
    model.present.delete(this.index);
    assertThat(bus.device(description.name) === undefined, `${description.name} still present after removal`);
    settle(real);
  }
  toString(): string {
    return `remove(#${this.index})`;
  }
}

/** `driver_register` (a module load). */
export class RegisterDriver extends Base {
  constructor(readonly index: number) {
    super();
  }
  override check(model: Readonly<RaceModel>): boolean {
    return !model.registered.has(this.index);
  }
  async run(model: RaceModel, real: RaceReal): Promise<void> {
    const { driver, bus } = driverAt(real, this.index);
    const done = bus.registerDriver(driver);
    real.monitor.noteRegistered(bus.name, driver.name);
    await done;
    model.registered.add(this.index);
    settle(real);
  }
  toString(): string {
    return `register(driver #${this.index})`;
  }
}

/** `driver_unregister` (a module unload). */
export class UnregisterDriver extends Base {
  constructor(readonly index: number) {
    super();
  }
  override check(model: Readonly<RaceModel>): boolean {
    return model.registered.has(this.index);
  }
  async run(model: RaceModel, real: RaceReal): Promise<void> {
    const { driver, bus } = driverAt(real, this.index);
    await bus.unregisterDriver(driver.name);
    model.registered.delete(this.index);
    for (const device of bus.devices) {
      assertThat(
        device.driverName !== driver.name,
        `${device.name} still bound to unregistered ${driver.name}`,
      );
    }
    settle(real);
  }
  toString(): string {
    return `unregister(driver #${this.index})`;
  }
}

/** sysfs `bind`, checking the errno against the state before and after. */
export class Bind extends Base {
  constructor(
    readonly driverIndex: number,
    readonly deviceIndex: number,
  ) {
    super();
  }
  async run(_model: RaceModel, real: RaceReal): Promise<void> {
    const { driver, bus } = driverAt(real, this.driverIndex);
    const { description } = deviceAt(real, this.deviceIndex);
    const device = bus.device(description.name);
    const before = device?.driverName ?? null;
    const code = await errnoOf(() => bus.bind(driver.name, description.name));
    const registered = bus.driver(driver.name) === driver;
    if (code === undefined) {
      assertThat(
        device?.driverName === driver.name,
        `bind ${driver.name} ${description.name} succeeded unbound`,
      );
    } else if (code === 'ENOENT') {
      assertThat(!registered || driver.suppressBindAttrs === true, `bind gave ENOENT with a bind file`);
    } else if (code === 'ENODEV') {
      const matches = device !== undefined && referenceMatches(device, driver);
      const probeSaid = device?.lastProbeError?.code === 'ENODEV' && device.lastProbeError.stage === 'probe';
      assertThat(
        !matches || probeSaid,
        `bind ${driver.name} ${description.name} gave ENODEV though it matches`,
      );
    } else if (code === 'EBUSY') {
      const dma = device?.lastProbeError?.stage === 'dma_configure';
      assertThat(
        before !== null || dma,
        `bind ${driver.name} ${description.name} gave EBUSY on an unbound device`,
      );
    }
    settle(real);
  }
  toString(): string {
    return `bind(driver #${this.driverIndex}, #${this.deviceIndex})`;
  }
}

/** sysfs `unbind` from the device's driver (or from another when unbound: `ENODEV`). */
export class Unbind extends Base {
  constructor(
    readonly deviceIndex: number,
    readonly driverIndex: number,
  ) {
    super();
  }
  async run(_model: RaceModel, real: RaceReal): Promise<void> {
    const { description, bus, device } = deviceAt(real, this.deviceIndex);
    const name = device?.driverName ?? driverAt(real, this.driverIndex).driver.name;
    const bound = device?.driverName === name;
    const code = await errnoOf(() => bus.unbind(name, description.name));
    if (code === 'ENODEV') assertThat(!bound, `unbind ${name} ${description.name} gave ENODEV while bound`);
    if (code === undefined)
      assertThat(device?.driverName === null, `${description.name} still bound after unbind`);
    settle(real);
  }
  toString(): string {
    return `unbind(#${this.deviceIndex})`;
  }
}

/** What a `driver_override` write names: a driver by index, nothing (clear), or a driver that does not exist. */
export type OverrideTarget = number | 'clear' | 'unknown';

/** `driver_override` write. */
export class WriteOverride extends Base {
  constructor(
    readonly deviceIndex: number,
    readonly target: OverrideTarget,
  ) {
    super();
  }
  async run(_model: RaceModel, real: RaceReal): Promise<void> {
    const { description, bus, device } = deviceAt(real, this.deviceIndex);
    if (device === undefined) return;
    const value =
      this.target === 'clear'
        ? ''
        : this.target === 'unknown'
          ? 'no-such-driver'
          : driverAt(real, this.target).driver.name;
    // The write takes the device lock (driver_set_override): it may wait for a remove.
    await real.core.sysfs.write(
      `/sys/bus/${bus.name}/devices/${description.name}/driver_override`,
      `${value}\n`,
    );
    assertThat(
      device.driverOverride === (value === '' ? null : value),
      `override of ${description.name} not stored`,
    );
    real.monitor.noteOverride(bus.name, description.name, device.driverOverride);
    settle(real);
  }
  toString(): string {
    return `override(#${this.deviceIndex}, ${this.target === 'clear' || this.target === 'unknown' ? this.target : `driver #${this.target}`})`;
  }
}

/** The 2013 proposal's per-device `sysfs_bind_only` flag. */
export class SetExplicitBindOnly extends Base {
  constructor(
    readonly deviceIndex: number,
    readonly on: boolean,
  ) {
    super();
  }
  async run(_model: RaceModel, real: RaceReal): Promise<void> {
    const { description, bus, device } = deviceAt(real, this.deviceIndex);
    if (device === undefined) return;
    real.core.sysfs.write(
      `/sys/bus/${bus.name}/devices/${description.name}/sysfs_bind_only`,
      this.on ? '1\n' : '0\n',
    );
    real.monitor.noteExplicitBindOnly(bus.name, description.name, this.on);
    settle(real);
  }
  toString(): string {
    return `sysfs_bind_only(#${this.deviceIndex}, ${this.on ? 1 : 0})`;
  }
}

/** `/sys/bus/<bus>/drivers_probe`. */
export class DriversProbe extends Base {
  constructor(readonly deviceIndex: number) {
    super();
  }
  async run(_model: RaceModel, real: RaceReal): Promise<void> {
    const { description, bus } = deviceAt(real, this.deviceIndex);
    const code = await errnoOf(() => bus.driversProbe(description.name));
    if (code !== undefined) {
      // drivers_probe_store(): ENODEV for no device, EINVAL for any negative device_attach().
      const allowed: readonly ErrnoName[] = ['ENODEV', 'EINVAL'];
      assertThat(allowed.includes(code), `drivers_probe gave ${code}`);
    }
    settle(real);
  }
  toString(): string {
    return `drivers_probe(#${this.deviceIndex})`;
  }
}

/** `bus_rescan_devices` (what a hotplug event or udev trigger does). */
export class Rescan extends Base {
  constructor(readonly bus: 'platform' | 'amba') {
    super();
  }
  async run(_model: RaceModel, real: RaceReal): Promise<void> {
    const code = await errnoOf(() => real.core.bus(this.bus).rescan());
    if (code !== undefined) assertThat(code === 'EPROBE_DEFER' || code === 'EBUSY', `rescan gave ${code}`);
    settle(real);
  }
  toString(): string {
    return `rescan(${this.bus})`;
  }
}

/** `drivers_autoprobe` write. */
export class Autoprobe extends Base {
  constructor(
    readonly bus: 'platform' | 'amba',
    readonly on: boolean,
  ) {
    super();
  }
  async run(_model: RaceModel, real: RaceReal): Promise<void> {
    real.core.sysfs.write(`/sys/bus/${this.bus}/drivers_autoprobe`, this.on ? '1\n' : '0\n');
    settle(real);
  }
  toString(): string {
    return `autoprobe(${this.bus}, ${this.on ? 1 : 0})`;
  }
}

/** The clock/power of an AMBA device arrives: its PrimeCell ID registers become readable. */
export class ProvidePrimecell extends Base {
  constructor(readonly deviceIndex: number) {
    super();
  }
  async run(_model: RaceModel, real: RaceReal): Promise<void> {
    const { description, device } = deviceAt(real, this.deviceIndex);
    const registers = real.setup.latePrimecell?.[description.name];
    if (device !== undefined && registers !== undefined) device.providePrimecellRegisters(registers);
  }
  toString(): string {
    return `provide_primecell(#${this.deviceIndex})`;
  }
}

/** `driver_deferred_probe_trigger()` from outside a bind (late initcall, resume). */
export class TriggerDeferred extends Base {
  async run(_model: RaceModel, real: RaceReal): Promise<void> {
    real.core.triggerDeferredProbe();
    settle(real);
  }
  toString(): string {
    return 'trigger_deferred()';
  }
}
