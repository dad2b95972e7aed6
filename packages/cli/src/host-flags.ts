// The host's settings as command-line flags, shared by every command that boots a model host
// (`analyze`, `assign`, `release`): one definition, so each command takes every host option
// and a flag means the same thing everywhere.
import { isKernelError } from '@vfiokit/core';
import { type HostOptions, kstrtobool, parseDmaOverride, UPSTREAM_RESET_MODULES } from '@vfiokit/host';
import { type Command, InvalidArgumentError } from 'commander';

/** The host flags commander hands an action (camelCase of the option names). */
export interface HostFlags {
  readonly cmdline?: string;
  readonly resetRequired?: boolean;
  readonly allowUnsafeInterrupts?: boolean;
  readonly enableUnsafeNoiommuMode?: boolean;
  readonly dmaEntryLimit?: number;
  readonly kernel?: readonly [number, number];
  readonly resetModules?: readonly (keyof typeof UPSTREAM_RESET_MODULES)[];
  readonly dmaOverride?: readonly string[];
  readonly dmaProperty: boolean;
  readonly builtinClasses: boolean;
  readonly emulatedGeneric?: boolean;
  readonly msiFrameViability?: boolean;
}

/** A kernel bool (`kstrtobool`: 1/0, y/n, on/off). */
export function boolArg(value: string): boolean {
  try {
    return kstrtobool(value);
  } catch {
    throw new InvalidArgumentError('expected 1/0, y/n or on/off.');
  }
}

function uintArg(value: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) > 0xffffffff)
    throw new InvalidArgumentError('expected an unsigned 32-bit integer.');
  return Number(value);
}

function kernelArg(value: string): readonly [number, number] {
  const match = /^v?([0-9]{1,3})\.([0-9]{1,3})$/.exec(value);
  if (match === null) throw new InvalidArgumentError('expected MAJOR.MINOR, e.g. 6.12.');
  return [Number(match[1]), Number(match[2])];
}

function resetModulesArg(value: string): (keyof typeof UPSTREAM_RESET_MODULES)[] {
  if (value === 'none') return [];
  const names = value.split(',').filter((name) => name !== '');
  for (const name of names) {
    if (!(name in UPSTREAM_RESET_MODULES))
      throw new InvalidArgumentError(`unknown reset module '${name}' (xgmac, xgbe, flexrm or none).`);
  }
  return names as (keyof typeof UPSTREAM_RESET_MODULES)[];
}

function overrideArg(value: string, previous: readonly string[] | undefined): string[] {
  try {
    parseDmaOverride(value);
  } catch (error) {
    if (!isKernelError(error)) throw error;
    throw new InvalidArgumentError(
      'expected KIND:VALUE:VERDICT (kind device, path or compatible; verdict master or non-master).',
    );
  }
  return [...(previous ?? []), value];
}

/** Adds every host flag to `command`. */
export function addHostFlags(command: Command): Command {
  return command
    .option(
      '--cmdline <text>',
      'kernel command line (module parameters such as vfio.enable_unsafe_noiommu_mode=1)',
    )
    .option('--reset-required <bool>', 'vfio_platform.reset_required (default 1)', boolArg)
    .option(
      '--allow-unsafe-interrupts [bool]',
      'vfio_iommu_type1.allow_unsafe_interrupts (default 0)',
      boolArg,
    )
    .option('--enable-unsafe-noiommu-mode [bool]', 'vfio.enable_unsafe_noiommu_mode (default 0)', boolArg)
    .option('--dma-entry-limit <n>', 'vfio_iommu_type1.dma_entry_limit (default 65535)', uintArg)
    .option('--kernel <version>', 'kernel version modelled, MAJOR.MINOR (default 6.12)', kernelArg)
    .option(
      '--reset-modules <list>',
      'reset modules built in: xgmac,xgbe,flexrm or none (default xgmac,xgbe)',
      resetModulesArg,
    )
    .option(
      '--dma-override <kind:value:verdict>',
      'vfiokit: a DMA-capability override; kind device, path or compatible; verdict master or non-master (repeatable)',
      overrideArg,
    )
    .option('--no-dma-property', 'vfiokit: ignore the vfiokit,no-dma device-tree property')
    .option('--no-builtin-classes', 'vfiokit: do not use the built-in non-master class table')
    .option('--emulated-generic [bool]', 'vfiokit: opt in to the RFC generic emulated-IOMMU route', boolArg)
    .option(
      '--msi-frame-viability [bool]',
      "vfiokit: opt in to seed 004's check that devices sharing a GICv2m frame share the container",
      boolArg,
    );
}

/** The host options the flags give; a flag not given leaves the command line's value. */
export function hostOptionsOf(flags: HostFlags, given: (name: string) => boolean): HostOptions {
  const dmaPolicyGiven = flags.dmaOverride !== undefined || given('dmaProperty') || given('builtinClasses');
  return {
    ...(flags.cmdline === undefined ? {} : { cmdline: flags.cmdline }),
    ...(flags.resetRequired === undefined ? {} : { reset_required: flags.resetRequired }),
    ...(flags.allowUnsafeInterrupts === undefined
      ? {}
      : { allow_unsafe_interrupts: flags.allowUnsafeInterrupts }),
    ...(flags.enableUnsafeNoiommuMode === undefined
      ? {}
      : { enable_unsafe_noiommu_mode: flags.enableUnsafeNoiommuMode }),
    ...(flags.dmaEntryLimit === undefined ? {} : { dma_entry_limit: flags.dmaEntryLimit }),
    ...(flags.kernel === undefined ? {} : { profile: { version: flags.kernel } }),
    ...(flags.resetModules === undefined
      ? {}
      : { resetModules: flags.resetModules.map((name) => UPSTREAM_RESET_MODULES[name]) }),
    ...(dmaPolicyGiven
      ? {
          dma_policy: {
            overrides: (flags.dmaOverride ?? []).map((spec) => parseDmaOverride(spec)),
            dtProperty: flags.dmaProperty,
            builtinNonMasterClasses: flags.builtinClasses,
          },
        }
      : {}),
    ...(flags.emulatedGeneric === undefined ? {} : { emulated_generic: flags.emulatedGeneric }),
    ...(flags.msiFrameViability === undefined ? {} : { msi_frame_viability: flags.msiFrameViability }),
  };
}
