import type { ResetDeprecation } from './deprecation.js';
import type { ResetRegistryMode } from './mode.js';

/**
 * Which mechanism resets a device.
 * - `acpi-rst`: the ACPI `_RST` method (upstream: vfio_platform_acpi_call_reset).
 * - `reset-module`: a vfio reset module found by compatible (upstream: vfio_platform_lookup_reset).
 * - `reset-controller`: the device tree's `resets` lines pulsed through their reset controller,
 *   only in registry mode `vfiokit`. NOT upstream: it follows Geert Uytterhoeven's unmerged "vfio: platform: Add generic reset
 *   controller support" (v5, 2018), which used it when no reset module was found.
 * - `none`: nothing can reset the device.
 */
export type ResetProviderKind = 'acpi-rst' | 'reset-module' | 'reset-controller' | 'none';

/** A per-device statement of how (and whether) it is reset, and why. */
export interface ResetReport {
  readonly device: string;
  /**
   * The registry mode that decided: `upstream` (only what Linux has, the default) or
   * `vfiokit` (vfiokit's own providers opted in).
   */
  readonly mode: ResetRegistryMode;
  /** The compatible string the lookup used (`null` for an ACPI device). */
  readonly compatible: string | null;
  readonly provider: ResetProviderKind;
  /** Whether the Linux kernel itself would reset the device this way. */
  readonly upstream: boolean;
  /** The reset module's owner when `provider` is `reset-module`. */
  readonly owner: string | null;
  /** The alias handed to the loader (`vfio-reset:<compat>`), or `null` when the first lookup hit. */
  readonly loaderAlias: string | null;
  /** The `reset_required` setting the device was probed with. */
  readonly resetRequired: boolean;
  /**
   * What Linux prints about the module it uses: the v6.18 `dev_err_once` DEPRECATION text of
   * the xgmac, xgbe and FlexRM modules; `null` for a provider without one.
   */
  readonly deprecation: ResetDeprecation | null;
  /** One line for humans. */
  readonly summary: string;
}
