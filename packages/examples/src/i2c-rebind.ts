/**
 * Scenario (seed 002, the 2013 "VFIO for Platform Devices" talk): hand the demo SoC's
 * 12ce0000.i2c from its host driver to vfio-platform and back.
 *
 * The seed's order — unbind the host driver, then bind vfio — leaves a window in which the
 * device has no driver: any host event that probes it then (a udev rule writing
 * `drivers_probe`, a rescan, a module load) gives it straight back to the host driver, and the
 * VMM's next step finds it bound (`bind` is EBUSY, `drivers_probe` skips a bound device:
 * drivers/base/bus.c bind_store / bus_rescan_devices_helper). Upstream's answer is to write
 * `driver_override` first (drivers/base/platform.c platform_match checks it before any other
 * match): the same event in the same place then binds vfio-platform, never the host driver.
 *
 * The host is the oracle's kernel, which has no Samsung I2C driver; this scenario builds one
 * in: platform-bus's model of s3c-i2c (drivers/i2c/busses/i2c-s3c2410.c's OF table,
 * `@vfiokit/platform-bus/testing`), registered on the host's platform bus at boot. The I2C
 * controller has no IOMMU on the demo SoC, so vfio-platform takes it in no-IOMMU mode
 * (`enable_unsafe_noiommu_mode`, which taints) and, with no reset module for it,
 * `reset_required=0`.
 */

import { isKernelError, rejectUnknownOptions } from '@vfiokit/core';
import { buildDemoSoc, createHost, type Host } from '@vfiokit/host';
import { BindInvariantError, handOverRaceProperty, s3cI2cDriver } from '@vfiokit/platform-bus/testing';
import fc from 'fast-check';
import { runIfMain } from './run-if-main.js';

export const I2C_DEVICE = '12ce0000.i2c';
const HOST_DRIVER = 's3c-i2c';

/** Who ran a command: the VMM's script, or something else on the host at the worst moment. */
export type I2cActor = 'vmm' | 'host';

/** One command and the kernel's answer (`''`, or the errno and message). */
export interface I2cStep {
  readonly actor: I2cActor;
  readonly command: string;
  readonly result: string;
}

/** One recipe's run: its steps and where the device ended. */
export interface I2cRecipeRun {
  readonly steps: readonly I2cStep[];
  readonly driver: string | null;
  /** Times the host driver bound the device after the VMM's script started. */
  readonly hostRebinds: number;
}

/** The bind-race suite's verdict on one recipe, over random host-event interleavings. */
export interface I2cRaceVerdict {
  readonly runs: number;
  readonly failed: boolean;
  /** The first violation fast-check found, when it failed. */
  readonly violation?: string;
}

/** What {@link i2cRebindExample} saw. */
export interface I2cRebindOutcome {
  readonly device: string;
  readonly bootDriver: string | null;
  /** The seed's order: unbind, (host event), override, drivers_probe. */
  readonly unbindFirst: I2cRecipeRun;
  /** Upstream's order: override, unbind, (the same host event), drivers_probe. */
  readonly overrideFirst: I2cRecipeRun;
  /** Back to the host: clear the override, unbind vfio-platform, drivers_probe. */
  readonly handBack: I2cRecipeRun;
  /** platform-bus's hand-over race property (`handOverRaceProperty`) on both recipes. */
  readonly raceSuite: { readonly none: I2cRaceVerdict; readonly driverOverride: I2cRaceVerdict };
  readonly tainted: number;
}

/** The host: the demo SoC on the oracle's kernel plus a built-in s3c-i2c. */
export async function i2cHost(): Promise<Host> {
  const host = createHost(buildDemoSoc(), { reset_required: false, enable_unsafe_noiommu_mode: true });
  await host.core.platform.registerDriver(s3cI2cDriver());
  return host;
}

async function runRecipe(host: Host, commands: readonly [I2cActor, string][]): Promise<I2cRecipeRun> {
  let hostRebinds = 0;
  const onBind = (event: { readonly device: string; readonly driver: string }) => {
    if (event.device === I2C_DEVICE && event.driver === HOST_DRIVER) hostRebinds++;
  };
  host.core.on('bind', onBind);
  const steps: I2cStep[] = [];
  try {
    for (const [actor, command] of commands) {
      let result = '';
      try {
        result = await host.fs.run(command);
      } catch (error) {
        if (!isKernelError(error)) throw error;
        result = error.code;
      }
      steps.push({ actor, command, result });
    }
  } finally {
    host.core.off('bind', onBind);
  }
  return { steps, driver: host.device(I2C_DEVICE)?.driverName ?? null, hostRebinds };
}

const dev = `/sys/bus/platform/devices/${I2C_DEVICE}`;
const drivers = '/sys/bus/platform/drivers';
// The host event in the window: another writer of drivers_probe (a udev rule, a second script).
const hostEvent: [I2cActor, string] = ['host', `echo ${I2C_DEVICE} > /sys/bus/platform/drivers_probe`];

async function raceVerdict(protection: 'none' | 'driver_override', runs: number): Promise<I2cRaceVerdict> {
  // A fixed seed so the printed outcome is the same on every run.
  const details = await fc.check(handOverRaceProperty(protection), { numRuns: runs, seed: 2013 });
  if (!details.failed) return { runs, failed: false };
  const error = details.errorInstance;
  const violation = error instanceof BindInvariantError ? error.details[0] : String(error);
  return { runs, failed: true, ...(violation === undefined ? {} : { violation }) };
}

/** Options of {@link i2cRebindExample}. */
export interface I2cRebindOptions {
  /** Runs of each race-suite property (default 100). */
  readonly raceRuns?: number;
}

/** Runs the scenario: both orders on a fresh host each, the hand-back, and the race suite. */
export async function i2cRebindExample(options: I2cRebindOptions = {}): Promise<I2cRebindOutcome> {
  rejectUnknownOptions(options, ['raceRuns'], 'i2cRebindExample');
  const raceRuns = options.raceRuns ?? 100;
  const racy = await i2cHost();
  const bootDriver = racy.device(I2C_DEVICE)?.driverName ?? null;
  const unbindFirst = await runRecipe(racy, [
    ['vmm', `echo ${I2C_DEVICE} > ${drivers}/${HOST_DRIVER}/unbind`],
    hostEvent,
    ['vmm', `echo vfio-platform > ${dev}/driver_override`],
    ['vmm', `echo ${I2C_DEVICE} > ${drivers}/vfio-platform/bind`],
  ]);

  const host = await i2cHost();
  const overrideFirst = await runRecipe(host, [
    ['vmm', `echo vfio-platform > ${dev}/driver_override`],
    ['vmm', `echo ${I2C_DEVICE} > ${drivers}/${HOST_DRIVER}/unbind`],
    hostEvent,
    ['vmm', `echo ${I2C_DEVICE} > /sys/bus/platform/drivers_probe`],
  ]);
  const tainted = host.tainted;
  const handBack = await runRecipe(host, [
    ['vmm', `echo > ${dev}/driver_override`],
    ['vmm', `echo ${I2C_DEVICE} > ${drivers}/vfio-platform/unbind`],
    ['vmm', `echo ${I2C_DEVICE} > /sys/bus/platform/drivers_probe`],
  ]);

  return {
    device: I2C_DEVICE,
    bootDriver,
    unbindFirst,
    overrideFirst,
    handBack,
    raceSuite: {
      none: await raceVerdict('none', raceRuns),
      driverOverride: await raceVerdict('driver_override', raceRuns),
    },
    tainted,
  };
}

function formatRun(title: string, run: I2cRecipeRun): string[] {
  return [
    `${title}:`,
    ...run.steps.map(
      (s) => `  ${s.actor === 'vmm' ? '$' : '!'} ${s.command}${s.result === '' ? '' : `  → ${s.result}`}`,
    ),
    `  → bound to ${run.driver ?? 'nothing'}; ${HOST_DRIVER} re-bound it ${run.hostRebinds} time(s)`,
  ];
}

/** The outcome as the README shows it (`!` marks the host event in the window). */
export function formatI2cRebind(outcome: I2cRebindOutcome): string {
  const verdict = (v: I2cRaceVerdict) =>
    v.failed ? `fails (${v.violation ?? 'no detail'})` : `holds in ${v.runs} runs`;
  return [
    `${outcome.device} at boot: ${outcome.bootDriver ?? 'no driver'}`,
    ...formatRun('unbind first (the seed’s order)', outcome.unbindFirst),
    ...formatRun('driver_override first (upstream)', outcome.overrideFirst),
    `  tainted: ${outcome.tainted} (no-IOMMU group)`,
    ...formatRun('hand back', outcome.handBack),
    'bind-race suite (handOverRaceProperty, host events at any point):',
    `  none: ${verdict(outcome.raceSuite.none)}`,
    `  driver_override: ${verdict(outcome.raceSuite.driverOverride)}`,
  ].join('\n');
}

runIfMain(import.meta.url, async () => formatI2cRebind(await i2cRebindExample()));
