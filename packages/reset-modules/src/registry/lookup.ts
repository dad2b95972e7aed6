import type { KernelError, ResetHandler } from '@vfiokit/core';
import type { ResetDeprecation } from './deprecation.js';
import type { ResetRegistryMode } from './mode.js';

/**
 * A reference on a reset module taken by a lookup (`try_module_get(owner)`); `release` drops
 * it (`module_put`, from vfio_platform_put_reset). While any reference on an owner is held,
 * the owner's registrations cannot be disposed.
 */
export interface ResetModuleHandle {
  readonly compatible: string;
  readonly owner: string;
  readonly reset: ResetHandler;
  /** The registration's `upstream` (true unless it said otherwise). */
  readonly upstream: boolean;
  /** The registration's deprecation notice, `null` when it has none. */
  readonly deprecation: ResetDeprecation | null;
  /** Drops the reference; `EINVAL` when it was dropped already. */
  release(): void;
}

/** What a `ResetRegistry.get` did: the handle (or none) and whether the loader ran. */
export interface ResetModuleLookup {
  readonly handle: ResetModuleHandle | null;
  /** The alias given to the loader, `null` when the first lookup hit or no loader is set. */
  readonly loaderAlias: string | null;
  /** What the loader failed with (ignored as request_module's result is), `null` otherwise. */
  readonly loaderError: KernelError | null;
}

/**
 * What a probe needs from the registry (`ResetRegistry` is one): its mode and the
 * lookup-load-lookup of `vfio_platform_get_reset`. A separate interface so that `DeviceReset`
 * does not import the registry that creates it.
 */
export interface ResetLookupSource {
  readonly mode: ResetRegistryMode;
  get(compatible: string): ResetModuleLookup;
}
