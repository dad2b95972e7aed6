import { rejectUnknownOptions } from '@vfiokit/core';
import { fastCheckScheduler } from '@vfiokit/core/testing';
import fc from 'fast-check';
import { DriverCore } from '../driver-core.js';
import { optionKeys } from '../options.js';
import { BindMonitor } from './bind-monitor.js';
import {
  AddDevice,
  Autoprobe,
  Bind,
  DriversProbe,
  type OverrideTarget,
  ProvidePrimecell,
  type RaceCommand,
  type RaceModel,
  type RaceReal,
  RegisterDriver,
  RemoveDevice,
  Rescan,
  SetExplicitBindOnly,
  TriggerDeferred,
  Unbind,
  UnregisterDriver,
  WriteOverride,
} from './race-commands.js';
import { BindInvariantError } from './race-errors.js';
import { checkRaceSetup, type RaceSetup } from './race-setup.js';

/** Options of {@link bindRaceProperty}. */
export interface BindRaceOptions {
  /** Most commands per run (default 40). */
  readonly maxCommands?: number;
  /** fast-check size of the command lists (default `large`). */
  readonly size?: fc.SizeForArbitrary;
}

/**
 * The command arbitrary over `setup`: hotplug add/remove, driver (un)registration, sysfs
 * bind/unbind, `driver_override` writes (a driver name or clear), `sysfs_bind_only`,
 * `drivers_probe`, rescans, `drivers_autoprobe`, late PrimeCell registers and deferred triggers.
 */
export function bindRaceCommands(
  setup: RaceSetup,
  options: BindRaceOptions = {},
): fc.Arbitrary<Iterable<RaceCommand>> {
  rejectUnknownOptions(
    options,
    optionKeys<BindRaceOptions>({ maxCommands: true, size: true }),
    'bindRaceCommands',
  );
  checkRaceSetup(setup);
  const device = fc.nat({ max: Math.max(0, setup.devices.length - 1) });
  const driver = fc.nat({ max: Math.max(0, setup.drivers.length - 1) });
  const bus = fc.constantFrom<'platform' | 'amba'>('platform', 'amba');
  const overrideTarget = fc.oneof(
    { weight: 3, arbitrary: driver as fc.Arbitrary<OverrideTarget> },
    { weight: 2, arbitrary: fc.constant<OverrideTarget>('clear') },
    { weight: 1, arbitrary: fc.constant<OverrideTarget>('unknown') },
  );
  const commands: fc.Arbitrary<RaceCommand>[] = [
    device.map((i) => new AddDevice(i)),
    device.map((i) => new RemoveDevice(i)),
    driver.map((j) => new RegisterDriver(j)),
    driver.map((j) => new UnregisterDriver(j)),
    fc.tuple(driver, device).map(([j, i]) => new Bind(j, i)),
    fc.tuple(driver, device).map(([j, i]) => new Bind(j, i)),
    fc.tuple(device, driver).map(([i, j]) => new Unbind(i, j)),
    fc.tuple(device, driver).map(([i, j]) => new Unbind(i, j)),
    fc.tuple(device, overrideTarget).map(([i, target]) => new WriteOverride(i, target)),
    fc.tuple(device, fc.boolean()).map(([i, on]) => new SetExplicitBindOnly(i, on)),
    device.map((i) => new DriversProbe(i)),
    bus.map((b) => new Rescan(b)),
    fc.tuple(bus, fc.boolean()).map(([b, on]) => new Autoprobe(b, on)),
    device.map((i) => new ProvidePrimecell(i)),
    fc.constant(new TriggerDeferred()),
  ];
  return fc.commands(commands, { maxCommands: options.maxCommands ?? 40, size: options.size ?? 'large' });
}

/**
 * Builds the system for one run: a {@link DriverCore} whose async probes and deferred work
 * run on `scheduler`, the initial drivers (registered first) and devices, and a
 * {@link BindMonitor}.
 */
export function createRaceSystem(
  setup: RaceSetup,
  scheduler: fc.Scheduler,
): { model: RaceModel; real: RaceReal } {
  checkRaceSetup(setup);
  const tasks = fastCheckScheduler(scheduler);
  const core = new DriverCore({
    scheduler: tasks,
    // The suite writes the 2013 proposal's flag through its sysfs file.
    sysfsBindOnlyAttribute: true,
    ...(setup.asyncProbeDrivers === undefined ? {} : { asyncProbeDrivers: setup.asyncProbeDrivers }),
  });
  const monitor = new BindMonitor(core);
  const drivers = setup.drivers.map((entry) => entry.create(core));
  const model: RaceModel = { present: new Set(), registered: new Set() };
  for (const j of setup.initialDrivers ?? setup.drivers.map((_, i) => i)) {
    const bus = core.bus(setup.drivers[j]!.bus);
    void bus.registerDriver(drivers[j]!);
    monitor.noteRegistered(bus.name, drivers[j]!.name);
    model.registered.add(j);
  }
  for (const i of setup.initialDevices ?? setup.devices.map((_, k) => k)) {
    const description = setup.devices[i]!;
    core.bus(description.bus).addDevice(description);
    model.present.add(i);
  }
  return { model, real: { core, scheduler: tasks, monitor, setup, drivers } };
}

/**
 * Runs `commands` against a fresh system with `scheduler` interleaving them with the
 * queued async probes and deferred-probe work, drains the scheduler, and throws a
 * {@link BindInvariantError} listing every violated invariant.
 */
export async function runBindRace(
  setup: RaceSetup,
  scheduler: fc.Scheduler,
  commands: Iterable<RaceCommand>,
): Promise<BindMonitor> {
  let real: RaceReal | undefined;
  await fc.scheduledModelRun(
    scheduler,
    () => {
      const system = createRaceSystem(setup, scheduler);
      real = system.real;
      return system;
    },
    commands,
  );
  if (real === undefined) throw new BindInvariantError(['the race system was never set up']);
  // A driver that threw from an async probe is a bug in the driver under test: report it.
  real.scheduler.throwIfFailed();
  const monitor = real.monitor;
  monitor.checkQuiescent();
  if (monitor.violations.length > 0) throw new BindInvariantError(monitor.violations);
  return monitor;
}

/**
 * The model-based race property over `setup`: `fc.assert(bindRaceProperty(setup))` runs
 * random command sequences with `fc.scheduler` interleavings and checks the invariants of
 * {@link BindMonitor}. The seed is printed on failure and replays with FC_SEED.
 */
export function bindRaceProperty(
  setup: RaceSetup,
  options: BindRaceOptions = {},
): fc.IAsyncPropertyWithHooks<[fc.Scheduler, Iterable<RaceCommand>]> {
  return fc.asyncProperty(fc.scheduler(), bindRaceCommands(setup, options), async (scheduler, commands) => {
    await runBindRace(setup, scheduler, commands);
  });
}
