/**
 * Which resets a `ResetRegistry` knows.
 * - `upstream` (the default): only what Linux has — reset modules Linux ships (registrations
 *   with `upstream: false` are refused) and ACPI `_RST`. A device without either fails probe
 *   with `ENOENT` when `reset_required`, as drivers/vfio/platform/vfio_platform_common.c does.
 * - `vfiokit` (opt-in): also modules Linux does not ship (vfiokit's PL330 module, your own) and
 *   the device tree's `resets` lines (Geert Uytterhoeven's unmerged 2018 proposal).
 */
export type ResetRegistryMode = 'upstream' | 'vfiokit';

/** The registry modes, default first. */
export const RESET_REGISTRY_MODES: readonly ResetRegistryMode[] = ['upstream', 'vfiokit'];
