import { isKernelError, KernelError, rejectUnknownOptions } from '@vfiokit/core';
import { fastCheckScheduler } from '@vfiokit/core/testing';
import fc from 'fast-check';
import type { Completion } from '../completion.js';
import type { DriverSpec } from '../device.js';
import { DriverCore } from '../driver-core.js';
import { optionKeys } from '../options.js';
import { arndaleI2cDevices, recordingMetaDriver, s3cI2cDriver } from './arndale.js';
import { BindInvariantError } from './race-errors.js';

/**
 * How user space hands a device to VFIO:
 * - `none`: the 2013 thread's first commands with its wildcard driver (`matchAnyDevice` +
 *   `sysfsBindOnly`): unbind the host driver, bind vfio-platform;
 * - `driver_override`: the upstream answer: write the override, unbind, `drivers_probe`;
 * - `explicit_bind_only`: the 2013 thread's device flag (`sysfs_bind_only`), then unbind and bind.
 */
export type HandOverProtection = 'none' | 'driver_override' | 'explicit_bind_only';

const HAND_OVER_PROTECTIONS: readonly string[] = ['none', 'driver_override', 'explicit_bind_only'];

/** What can happen on the host while user space runs its recipe. */
export type HostNoise = 'rescan' | 'drivers_probe' | 'reload_host_driver' | 'hotplug_other';

/** Options of {@link handOverRaceProperty}. */
export interface HandOverRaceOptions {
  /** The device handed over (default `12ce0000.i2c`, as in the 2013 thread). */
  readonly device?: string;
  /** Builds the host driver (default: s3c-i2c of drivers/i2c/busses/i2c-s3c2410.c, synchronous probe). */
  readonly hostDriver?: () => DriverSpec;
}

async function tolerate(work: () => Completion, ...codes: string[]): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!isKernelError(error) || !codes.includes(error.code)) throw error;
  }
}

/**
 * The 2013 vfio-platform thread's hand-over race as a property: on the Arndale I2C controllers bound to the host driver,
 * user space runs the `protection`'s recipe while `fc.scheduler` interleaves host events
 * (rescans, a udev `drivers_probe`, a host-driver module reload, an unrelated hotplug) at
 * any point. It holds when the device ends bound to vfio-platform and the host driver never
 * re-bound it after user space started; with `none` it does not hold (the 2013 race).
 */
export function handOverRaceProperty(
  protection: HandOverProtection,
  options: HandOverRaceOptions = {},
): fc.IAsyncPropertyWithHooks<[fc.Scheduler, HostNoise[]]> {
  rejectUnknownOptions(
    options,
    optionKeys<HandOverRaceOptions>({ device: true, hostDriver: true }),
    'handOverRaceProperty',
  );
  if (!HAND_OVER_PROTECTIONS.includes(protection)) {
    throw new KernelError('EINVAL', `unknown hand-over protection ${JSON.stringify(protection)}`);
  }
  const target = options.device ?? '12ce0000.i2c';
  const noise = fc.array(
    fc.constantFrom<HostNoise>('rescan', 'drivers_probe', 'reload_host_driver', 'hotplug_other'),
    {
      minLength: 1,
      maxLength: 4,
    },
  );
  return fc.asyncProperty(fc.scheduler(), noise, async (s, events) => {
    const tasks = fastCheckScheduler(s);
    const core = new DriverCore({ scheduler: tasks, sysfsBindOnlyAttribute: true });
    const host = options.hostDriver?.() ?? s3cI2cDriver();
    const wildcard = protection !== 'driver_override';
    const vfio = recordingMetaDriver(
      'vfio-platform',
      wildcard ? { matchAnyDevice: true, sysfsBindOnly: true } : {},
    );
    const bus = core.platform;
    bus.registerDriver(host);
    bus.registerDriver(vfio);
    const devices = arndaleI2cDevices();
    for (const description of devices) bus.addDevice(description);
    const other = devices.find((d) => d.name !== target)!;
    let started = false;
    const hostRebinds: string[] = [];
    core.on('bind', (event) => {
      if (started && event.device === target && event.driver === host.name) hostRebinds.push(event.via);
    });
    const sh = (command: string): Completion => {
      const result = core.sysfs.run(command);
      return typeof result === 'string' ? undefined : result.then(() => undefined);
    };
    const recipe: (() => Promise<void>)[] = [];
    if (protection === 'driver_override') {
      recipe.push(() =>
        tolerate(() => sh(`echo vfio-platform > /sys/bus/platform/devices/${target}/driver_override`)),
      );
    }
    if (protection === 'explicit_bind_only') {
      recipe.push(() => tolerate(() => sh(`echo 1 > /sys/bus/platform/devices/${target}/sysfs_bind_only`)));
    }
    recipe.push(() =>
      tolerate(() => sh(`echo ${target} > /sys/bus/platform/drivers/${host.name}/unbind`), 'ENODEV'),
    );
    recipe.push(() =>
      protection === 'driver_override'
        ? tolerate(() => sh(`echo ${target} > /sys/bus/platform/drivers_probe`))
        : tolerate(() => sh(`echo ${target} > /sys/bus/platform/drivers/vfio-platform/bind`), 'EBUSY'),
    );
    const steps = recipe.map((step, i) => ({
      label: `recipe step ${i}`,
      builder: () => {
        started = true;
        return step();
      },
    }));
    const sequence = s.scheduleSequence(steps);
    const noiseTasks = events.map((event) =>
      s.schedule(Promise.resolve(event), event).then(async () => {
        if (event === 'rescan') await tolerate(() => bus.rescan(), 'EPROBE_DEFER', 'EBUSY');
        else if (event === 'drivers_probe') await tolerate(() => bus.driversProbe(target));
        else if (event === 'reload_host_driver') {
          await bus.unregisterDriver(host.name);
          await bus.registerDriver(host);
        } else {
          await bus.removeDevice(other.name);
          bus.addDevice(other);
        }
      }),
    );
    await s.waitFor(Promise.all([sequence.task, ...noiseTasks]));
    await s.waitAll();
    tasks.throwIfFailed();
    const problems: string[] = [];
    const bound = bus.device(target)?.driverName ?? null;
    if (bound !== 'vfio-platform') problems.push(`${target} ended bound to ${bound ?? 'nothing'}`);
    if (hostRebinds.length > 0)
      problems.push(`${host.name} re-bound ${target} via ${hostRebinds.join(', ')}`);
    if (problems.length > 0) throw new BindInvariantError(problems);
  });
}

/**
 * @deprecated The old name of {@link handOverRaceProperty}: "seed" also means a fast-check seed,
 * so the property is named after what it checks (issue #9 item 27).
 */
export const seedRaceProperty: typeof handOverRaceProperty = handOverRaceProperty;

/** @deprecated The old name of {@link HandOverRaceOptions}. */
export type SeedRaceOptions = HandOverRaceOptions;
