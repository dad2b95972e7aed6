import { isKernelError, KernelError } from '@vfiokit/core';
import type { DmaOverride, DmaPolicyOptions } from '@vfiokit/emulated-iommu';
import type { KernelProfile } from '@vfiokit/vfio';
import { kstrtobool, kstrtouint, normalizeParamName, splitCmdline } from './cmdline.js';
import { checkDmaPolicyOptions, type HostOptions, KERNEL_V6_12 } from './options.js';

/** The module parameters and boot settings a {@link Host} runs with. */
export interface HostParams {
  /** `vfio_platform.reset_required`. */
  readonly reset_required: boolean;
  /** `vfio.enable_unsafe_noiommu_mode`. */
  readonly enable_unsafe_noiommu_mode: boolean;
  /** `vfio_iommu_type1.allow_unsafe_interrupts`. */
  readonly allow_unsafe_interrupts: boolean;
  /** `vfio_iommu_type1.dma_entry_limit`. */
  readonly dma_entry_limit: number;
  /** `driver_async_probe=` (driver names, or `*`). */
  readonly driver_async_probe: readonly string[] | '*';
  readonly profile: KernelProfile;
  /** NOT IN LINUX — vfiokit's DMA-capability policy options (`vfiokit.dma_*`). */
  readonly dma_policy: DmaPolicyOptions;
  /**
   * `iommufd.allow_unsafe_interrupts` (drivers/iommu/iommufd/device.c, default false): iommufd's
   * own switch, separate from type1's, for binding devices whose MSIs are not isolated.
   */
  readonly iommufd_allow_unsafe_interrupts: boolean;
  /** NOT IN LINUX — the RFC's generic emulated route opted in (`vfiokit.emulated_generic`). */
  readonly emulated_generic: boolean;
  /** NOT IN LINUX — seed 004's MSI-frame viability at attach (`vfiokit.msi_frame_viability`). */
  readonly msi_frame_viability: boolean;
}

/** What booting with a command line left behind. */
export interface BootParams {
  readonly params: HostParams;
  /** Parameters without `=` the kernel does not know, plus everything after `--`: init's argv. */
  readonly initArgs: readonly string[];
  /** Unknown `name=value` parameters: init's environment. */
  readonly initEnv: readonly string[];
  /** Unknown `module.param` parameters: kept for a module loaded later, never given to init. */
  readonly moduleParams: readonly string[];
  /** What the kernel printed while parsing (`Unknown parameter`, `invalid for parameter`). */
  readonly log: readonly string[];
}

type Setter = (value: string | undefined, params: MutableParams) => void;
type MutableParams = { -readonly [K in keyof HostParams]: HostParams[K] };

// The module parameters of the built-in drivers the host has (module_param in
// drivers/vfio/vfio_main.c, platform/vfio_platform.c, vfio_iommu_type1.c) and the one core
// option it uses (drivers/base/dd.c: __setup("driver_async_probe=")).
const KNOWN: Record<string, Setter> = {
  'vfio.enable_unsafe_noiommu_mode': (v, p) => {
    p.enable_unsafe_noiommu_mode = kstrtobool(v);
  },
  'vfio_platform.reset_required': (v, p) => {
    p.reset_required = kstrtobool(v);
  },
  'vfio_iommu_type1.allow_unsafe_interrupts': (v, p) => {
    p.allow_unsafe_interrupts = kstrtobool(v);
  },
  'iommufd.allow_unsafe_interrupts': (v, p) => {
    p.iommufd_allow_unsafe_interrupts = kstrtobool(v);
  },
  'vfio_iommu_type1.dma_entry_limit': (v, p) => {
    p.dma_entry_limit = kstrtouint(v);
  },
  // vfiokit's own parameters (not a Linux module): the DMA-capability policy and the RFC's
  // generic emulated route. A repeated dma_override adds an override (a kernel array param
  // would take one comma list, but compatibles contain commas).
  'vfiokit.dma_override': (v, p) => {
    const overrides = [...(p.dma_policy.overrides ?? []), parseDmaOverride(v)];
    // An override contradicting an earlier one is a bad value (logged, ignored).
    p.dma_policy = checkDmaPolicyOptions({ ...p.dma_policy, overrides }, 'vfiokit.dma_override');
  },
  'vfiokit.dma_dt_property': (v, p) => {
    p.dma_policy = { ...p.dma_policy, dtProperty: kstrtobool(v) };
  },
  'vfiokit.dma_builtin_classes': (v, p) => {
    p.dma_policy = { ...p.dma_policy, builtinNonMasterClasses: kstrtobool(v) };
  },
  'vfiokit.emulated_generic': (v, p) => {
    p.emulated_generic = kstrtobool(v);
  },
  'vfiokit.msi_frame_viability': (v, p) => {
    p.msi_frame_viability = kstrtobool(v);
  },
  driver_async_probe: (v, p) => {
    const names = (v ?? '').split(',').filter((name) => name.length > 0);
    p.driver_async_probe = names.length === 1 && names[0] === '*' ? '*' : names;
  },
};

// Boot options the kernel consumes itself (early_param / __setup), so they never reach init;
// the model has nothing to do with them.
const CONSUMED = new Set([
  'console',
  'earlycon',
  'earlyprintk',
  'init',
  'rdinit',
  'root',
  'rw',
  'ro',
  'quiet',
  'debug',
  'loglevel',
  'panic',
  'nokaslr',
  'ignore_loglevel',
  'printk.time',
]);

/**
 * Applies a command line as start_kernel() does (parse_early_param, parse_args with
 * unknown_bootoption in init/main.c): known parameters set their value (a bad value is
 * logged as `` `x' invalid for parameter `y' `` and ignored, as parse_args goes on), unknown
 * dotted ones are left for modules, the rest go to init. Typed options then override.
 */
export function bootParams(options: HostOptions): BootParams {
  const params: MutableParams = {
    reset_required: true,
    enable_unsafe_noiommu_mode: false,
    allow_unsafe_interrupts: false,
    dma_entry_limit: 65535,
    driver_async_probe: [],
    profile: options.profile ?? KERNEL_V6_12,
    dma_policy: {},
    iommufd_allow_unsafe_interrupts: false,
    emulated_generic: false,
    msi_frame_viability: false,
  };
  const initArgs: string[] = [];
  const initEnv: string[] = [];
  const moduleParams: string[] = [];
  const log: string[] = [];
  const { params: list, afterDashes } = splitCmdline(options.cmdline ?? '');
  for (const { name, value } of list) {
    const key = normalizeParamName(name);
    const setter = KNOWN[key];
    if (setter !== undefined) {
      try {
        setter(value, params);
      } catch (error) {
        if (!isKernelError(error)) throw error;
        log.push(`Booting kernel: \`${value ?? ''}' invalid for parameter \`${key}'`);
      }
      continue;
    }
    if (CONSUMED.has(key)) continue;
    // unknown_bootoption(): "Unused module parameter."
    if (key.includes('.')) {
      moduleParams.push(value === undefined ? name : `${name}=${value}`);
      continue;
    }
    if (value === undefined) initArgs.push(name);
    else initEnv.push(`${name}=${value}`);
  }
  initArgs.push(...afterDashes);
  if (options.reset_required !== undefined) params.reset_required = options.reset_required;
  if (options.enable_unsafe_noiommu_mode !== undefined)
    params.enable_unsafe_noiommu_mode = options.enable_unsafe_noiommu_mode;
  if (options.allow_unsafe_interrupts !== undefined)
    params.allow_unsafe_interrupts = options.allow_unsafe_interrupts;
  if (options.dma_entry_limit !== undefined) params.dma_entry_limit = options.dma_entry_limit;
  if (options.dma_policy !== undefined) params.dma_policy = options.dma_policy;
  if (options.emulated_generic !== undefined) params.emulated_generic = options.emulated_generic;
  if (options.msi_frame_viability !== undefined) params.msi_frame_viability = options.msi_frame_viability;
  return { params, initArgs, initEnv, moduleParams, log };
}

const OVERRIDE_KINDS = ['device', 'path', 'compatible'] as const;

/**
 * `vfiokit.dma_override=<device|path|compatible>:<value>:<master|non-master>`: the kind is
 * before the first `:`, the verdict after the last (a value may hold `:` but not end in one).
 * A malformed value is `EINVAL` (logged and ignored on the command line, as a bad value of a
 * known parameter is).
 */
export function parseDmaOverride(value: string | undefined): DmaOverride {
  const text = value ?? '';
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  const kind = text.slice(0, first);
  const name = text.slice(first + 1, last);
  const verdict = text.slice(last + 1);
  if (
    first < 0 ||
    last === first ||
    name === '' ||
    !(OVERRIDE_KINDS as readonly string[]).includes(kind) ||
    (verdict !== 'master' && verdict !== 'non-master')
  ) {
    throw new KernelError(
      'EINVAL',
      `dma_override: '${text}' is not <device|path|compatible>:<value>:<master|non-master>`,
    );
  }
  return { [kind]: name, verdict } as DmaOverride;
}
