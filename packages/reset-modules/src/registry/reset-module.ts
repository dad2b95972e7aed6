import type { ResetHandler } from '@vfiokit/core';
import type { ResetDeprecation } from './deprecation.js';
import type { ResetReport } from './report.js';

export type { ResetDeprecation } from './deprecation.js';

/**
 * One reset module's registration, as `module_vfio_reset_handler(compat, reset_fn)` builds a
 * `struct vfio_platform_reset_node { owner, compat, of_reset }`
 * (drivers/vfio/platform/vfio_platform_private.h).
 */
export interface ResetModuleRegistration {
  /** The compatible string matched exactly (strcmp) against the device's first compatible. */
  readonly compatible: string;
  /** The reset routine (`of_reset`). */
  readonly reset: ResetHandler;
  /**
   * The owning module's name (`THIS_MODULE`, e.g. `vfio-platform-calxedaxgmac`). References
   * are counted per owner, as `try_module_get(owner)` counts them per module.
   */
  readonly owner: string;
  /**
   * Whether Linux ships this module (default true). A module Linux lacks (vfiokit's PL330
   * module, your own) makes the device's {@link ResetReport} say `upstream: false`: Linux
   * would find no reset for the device.
   */
  readonly upstream?: boolean;
  /**
   * The deprecation notice Linux prints for this module, when it has one (the three upstream
   * modules since v6.18). Shown in the device's {@link ResetReport}.
   */
  readonly deprecation?: ResetDeprecation;
}

/**
 * Undoes a registration (`vfio_platform_unregister_reset` from module_exit). Throws `EAGAIN`
 * (the kernel's `-EWOULDBLOCK`, the same number) while a device holds the owner — delete_module
 * refuses a module whose refcount is held (kernel/module/main.c: try_stop_module) — and
 * `ENOENT` when called a second time (delete_module finds no such module).
 */
export type ResetDisposer = () => void;

/**
 * The module loader (`request_module`), called once per lookup miss with the alias
 * `vfio-reset:<compatible>` that `module_vfio_reset_handler` declares with `MODULE_ALIAS`.
 * A loader typically registers the module that carries this alias. Like `request_module`'s
 * result in vfio_platform_get_reset, what it returns is ignored: only the second lookup counts.
 */
export type ResetModuleLoader = (alias: string) => void;

/** The alias prefix of vfio reset modules (`MODULE_ALIAS("vfio-reset:" compat)`). */
export const VFIO_RESET_ALIAS_PREFIX = 'vfio-reset:';

/** `vfio-reset:<compatible>`, the alias `request_module` is asked for. */
export function resetModuleAlias(compatible: string): string {
  return `${VFIO_RESET_ALIAS_PREFIX}${compatible}`;
}

/**
 * A reset module as shipped: its registration plus the module name that `modprobe` would load
 * for its alias. The built-in modules of this package are values of this type; see
 * {@link modprobe}.
 */
export interface ResetModuleDefinition extends ResetModuleRegistration {
  /** One line on what the module does, for reports. */
  readonly description: string;
  /** Whether the module exists in the Linux kernel (false for vfiokit's own designs). */
  readonly upstream: boolean;
}
