import { KernelError, rejectUnknownOptions } from '@vfiokit/core';
import { type DmaPolicyOptions, OfDmaCapabilityPolicy } from '@vfiokit/emulated-iommu';
import {
  amdXgbeResetModule,
  bcmFlexrmResetModule,
  calxedaXgmacResetModule,
  type ResetModuleDefinition,
} from '@vfiokit/reset-modules';
import type { KernelProfile } from '@vfiokit/vfio';

/**
 * The reset modules the oracle's kernel builds in: `CONFIG_VFIO_PLATFORM_CALXEDAXGMAC_RESET=y`
 * and `CONFIG_VFIO_PLATFORM_AMDXGBE_RESET=y` (oracle/kernel.fragment). The third upstream
 * module, bcmflexrm, `depends on VFIO_PLATFORM && (ARCH_BCM_IPROC || COMPILE_TEST)`
 * (drivers/vfio/platform/reset/Kconfig), which an arm64 kernel for QEMU virt does not have;
 * pass `resetModules: [...ORACLE_RESET_MODULES, bcmFlexrmResetModule]` for a kernel that does.
 */
export const ORACLE_RESET_MODULES: readonly ResetModuleDefinition[] = Object.freeze([
  calxedaXgmacResetModule,
  amdXgbeResetModule,
]);

/**
 * The upstream reset modules a host can build in, by short name (what `vfiokit analyze
 * --reset-modules xgmac,xgbe,flexrm` takes).
 */
export const UPSTREAM_RESET_MODULES: Readonly<Record<'xgmac' | 'xgbe' | 'flexrm', ResetModuleDefinition>> =
  Object.freeze({
    xgmac: calxedaXgmacResetModule,
    xgbe: amdXgbeResetModule,
    flexrm: bcmFlexrmResetModule,
  });

/**
 * Options of {@link createHost}. The typed fields carry the kernel's module parameter names;
 * each one, when given, wins over the same parameter on the command line (as if the module
 * had been loaded with it after boot).
 */
export interface HostOptions {
  /**
   * The kernel command line (`/proc/cmdline`): `vfio.enable_unsafe_noiommu_mode=1`,
   * `vfio_platform.reset_required=0`, `vfio_iommu_type1.allow_unsafe_interrupts=1`,
   * `driver_async_probe=…`. Parameters the host does not know are kept in
   * {@link Host.initArgs} / {@link Host.initEnv}, as the kernel hands them to init.
   */
  readonly cmdline?: string;
  /** `vfio_platform.reset_required` (default true). */
  readonly reset_required?: boolean;
  /** `vfio.enable_unsafe_noiommu_mode` (default false). */
  readonly enable_unsafe_noiommu_mode?: boolean;
  /** `vfio_iommu_type1.allow_unsafe_interrupts` (default false). */
  readonly allow_unsafe_interrupts?: boolean;
  /** `vfio_iommu_type1.dma_entry_limit` (default 65535). */
  readonly dma_entry_limit?: number;
  /** The kernel whose behaviour is modelled (default v6.12, the oracle's kernel). */
  readonly profile?: KernelProfile;
  /**
   * The VFIO platform reset modules built in (`=y`), registered at boot in this order
   * (default {@link ORACLE_RESET_MODULES}: xgmac and xgbe). The registry is in mode
   * `upstream`: a module Linux does not ship (vfiokit's PL330) makes `createHost` fail with
   * `ENOENT`, as there is no such module to build in.
   */
  readonly resetModules?: readonly ResetModuleDefinition[];
  /**
   * NOT IN LINUX — vfiokit's DMA-capability policy (`@vfiokit/emulated-iommu`): user overrides
   * and switches for the `vfiokit,no-dma` property and the built-in class tables. On the
   * command line: `vfiokit.dma_override=<device|path|compatible>:<value>:<master|non-master>`
   * (repeatable), `vfiokit.dma_dt_property=0`, `vfiokit.dma_builtin_classes=0`. The typed
   * option replaces what the command line gave.
   */
  readonly dma_policy?: DmaPolicyOptions;
  /**
   * NOT IN LINUX — opt in to the Sept 2024 RFC's generic emulated-IOMMU route for non-master
   * devices that have no device-specific emulated driver (`vfiokit.emulated_generic=1`;
   * default false: only `vfio-pl011`/`vfio-pl031`/`vfio-pl061` give the emulated path).
   */
  readonly emulated_generic?: boolean;
  /**
   * NOT IN LINUX — seed 004's extended MSI viability as an opt-in policy
   * (`vfiokit.msi_frame_viability=1`): a group attaches to a type1 container only when every
   * other device sharing its non-isolating MSI frame (a GICv2m frame) is unbound or bound to a
   * VFIO driver in the same container; otherwise `EPERM`. Default false: upstream Linux.
   */
  readonly msi_frame_viability?: boolean;
}

/** The keys {@link HostOptions} accepts. */
export const HOST_OPTION_KEYS: readonly (keyof HostOptions & string)[] = [
  'cmdline',
  'reset_required',
  'enable_unsafe_noiommu_mode',
  'allow_unsafe_interrupts',
  'dma_entry_limit',
  'profile',
  'resetModules',
  'dma_policy',
  'emulated_generic',
  'msi_frame_viability',
];

/** The oracle's kernel: Linux 6.12 (Debian's linux-source-6.12). */
export const KERNEL_V6_12: KernelProfile = Object.freeze({ version: [6, 12] as const });

const BOOLEAN_KEYS = [
  'reset_required',
  'enable_unsafe_noiommu_mode',
  'allow_unsafe_interrupts',
  'emulated_generic',
  'msi_frame_viability',
] as const;

/** Checks DMA-policy options by compiling them (`EINVAL` with the policy's own message). */
export function checkDmaPolicyOptions(options: unknown, where: string): DmaPolicyOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new KernelError('EINVAL', `${where}: dma_policy must be an object`);
  // Compiling is the policy's own check (EINVAL naming the bad override); nothing is kept.
  new OfDmaCapabilityPolicy(() => undefined, options as DmaPolicyOptions);
  return options as DmaPolicyOptions;
}

/**
 * Checks an options object: `EINVAL` for anything that is not a plain object, for a key
 * {@link HostOptions} does not have, and for a value of the wrong type.
 */
export function checkHostOptions(options: unknown): HostOptions {
  if (options === undefined) return {};
  rejectUnknownOptions(options as HostOptions, HOST_OPTION_KEYS, 'createHost');
  const record = options as Record<string, unknown>;
  if (record.cmdline !== undefined && typeof record.cmdline !== 'string') {
    throw new KernelError('EINVAL', 'createHost: cmdline must be a string');
  }
  for (const key of BOOLEAN_KEYS) {
    if (record[key] !== undefined && typeof record[key] !== 'boolean') {
      throw new KernelError('EINVAL', `createHost: ${key} must be a boolean`);
    }
  }
  const limit = record.dma_entry_limit;
  if (
    limit !== undefined &&
    (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0 || limit > 0xffffffff)
  ) {
    throw new KernelError('EINVAL', 'createHost: dma_entry_limit must be an unsigned 32-bit integer');
  }
  const profile = record.profile as { version?: unknown } | undefined;
  if (
    profile !== undefined &&
    (typeof profile !== 'object' ||
      profile === null ||
      !Array.isArray(profile.version) ||
      profile.version.length !== 2 ||
      !profile.version.every((n) => Number.isInteger(n) && n >= 0))
  ) {
    throw new KernelError('EINVAL', 'createHost: profile must be { version: [major, minor] }');
  }
  const modules = record.resetModules;
  if (
    modules !== undefined &&
    (!Array.isArray(modules) ||
      !modules.every(
        (m: unknown) =>
          typeof m === 'object' &&
          m !== null &&
          typeof (m as ResetModuleDefinition).compatible === 'string' &&
          typeof (m as ResetModuleDefinition).reset === 'function',
      ))
  ) {
    throw new KernelError('EINVAL', 'createHost: resetModules must be an array of reset module definitions');
  }
  if (record.dma_policy !== undefined) checkDmaPolicyOptions(record.dma_policy, 'createHost');
  return record as HostOptions;
}
