import { isKernelError, KernelError, rejectUnknownOptions } from '@vfiokit/core';
import { DeviceReset, type GetResetOptions } from './device-reset.js';
import type { ResetModuleHandle, ResetModuleLookup } from './lookup.js';
import { RESET_REGISTRY_MODES, type ResetRegistryMode } from './mode.js';
import type { ResetDeviceInfo } from './providers.js';

export type { ResetModuleHandle, ResetModuleLookup } from './lookup.js';

import {
  type ResetDisposer,
  type ResetModuleDefinition,
  type ResetModuleLoader,
  type ResetModuleRegistration,
  resetModuleAlias,
} from './reset-module.js';

/** Options of a {@link ResetRegistry}; unknown keys are refused with `EINVAL`. */
export interface ResetRegistryOptions {
  /** `request_module`; without one a lookup miss simply stays a miss. */
  readonly loader?: ResetModuleLoader;
  /** Which resets exist (default `upstream`: only Linux's); see {@link ResetRegistryMode}. */
  readonly mode?: ResetRegistryMode;
}

const REGISTRATION_KEYS = ['compatible', 'reset', 'owner', 'upstream', 'deprecation', 'description'] as const;

interface Node extends ResetModuleRegistration {
  live: boolean;
}

/**
 * The global `reset_list` of drivers/vfio/platform/vfio_platform_common.c with its
 * lookup-load-lookup protocol and per-owner reference counts.
 *
 * - `register` is `__vfio_platform_register_reset`: `list_add` puts the node at the HEAD, so
 *   the most recent registration for a compatible wins a lookup.
 * - `lookup` is `vfio_platform_lookup_reset`: first node whose `compat` equals the string
 *   exactly, and a reference on its owner.
 * - `get` is the OF half of `vfio_platform_get_reset`: lookup; on a miss
 *   `request_module("vfio-reset:%s", compat)`, then lookup again.
 * - the disposer is `rmmod` of the owner: `vfio_platform_unregister_reset` run from
 *   module_exit, which delete_module never reaches while the module's refcount is held
 *   (kernel/module/main.c: try_stop_module returns `-EWOULDBLOCK`). Linux defines EWOULDBLOCK
 *   as EAGAIN (11), and `@vfiokit/core`'s errno table names it `EAGAIN`, so that is the code.
 */
export class ResetRegistry {
  // Index 0 is the list head.
  private readonly nodes: Node[] = [];
  private readonly users = new Map<string, number>();
  private loader: ResetModuleLoader | null;
  /** Which resets exist: `upstream` (Linux's only, the default) or `vfiokit` (opt-in extras). */
  readonly mode: ResetRegistryMode;

  constructor(options: ResetRegistryOptions = {}) {
    rejectUnknownOptions(options, ['loader', 'mode'], 'ResetRegistry');
    const mode = options.mode ?? 'upstream';
    if (!RESET_REGISTRY_MODES.includes(mode)) {
      throw new KernelError(
        'EINVAL',
        `ResetRegistry: unknown mode '${String(mode)}' (valid modes: ${RESET_REGISTRY_MODES.join(', ')})`,
      );
    }
    this.mode = mode;
    this.loader = options.loader ?? null;
  }

  /** Replaces the loader (`null` removes it). */
  setLoader(loader: ResetModuleLoader | null): void {
    this.loader = loader;
  }

  /**
   * Adds a module's reset routine; returns the disposer that removes it. In mode `upstream` a
   * module Linux does not ship (`upstream: false`) does not exist: `ENOENT`, as loading a
   * module file that is not there would be.
   */
  register(registration: ResetModuleRegistration): ResetDisposer {
    // A module definition (with `description`) is a registration too: refuse only typos.
    const fields: Partial<ResetModuleDefinition> = registration;
    rejectUnknownOptions(fields, [...REGISTRATION_KEYS], 'ResetRegistry.register');
    if (this.mode === 'upstream' && registration.upstream === false) {
      throw new KernelError(
        'ENOENT',
        `${registration.owner} is not a Linux module: registry mode 'upstream' has only Linux's reset modules (opt in with new ResetRegistry({ mode: 'vfiokit' }))`,
      );
    }
    if (registration.compatible.length === 0)
      throw new KernelError('EINVAL', 'a reset module needs a compatible');
    if (registration.owner.length === 0) throw new KernelError('EINVAL', 'a reset module needs an owner');
    const node: Node = { ...registration, live: true };
    this.nodes.unshift(node);
    return () => this.unregister(node);
  }

  /** The registrations, head first, as `{ compatible, owner }`. */
  registrations(): readonly { readonly compatible: string; readonly owner: string }[] {
    return this.nodes.map(({ compatible, owner }) => ({ compatible, owner }));
  }

  /** The number of references held on `owner`. */
  usersOf(owner: string): number {
    return this.users.get(owner) ?? 0;
  }

  /** `vfio_platform_lookup_reset`: the newest registration for `compatible`, referenced; `null` on a miss. */
  lookup(compatible: string): ResetModuleHandle | null {
    const node = this.nodes.find((n) => n.compatible === compatible);
    if (node === undefined) return null;
    this.users.set(node.owner, this.usersOf(node.owner) + 1);
    let held = true;
    return {
      compatible: node.compatible,
      owner: node.owner,
      reset: node.reset,
      upstream: node.upstream ?? true,
      deprecation: node.deprecation ?? null,
      release: () => {
        if (!held) throw new KernelError('EINVAL', `reference on ${node.owner} released twice`);
        held = false;
        const left = this.usersOf(node.owner) - 1;
        if (left === 0) this.users.delete(node.owner);
        else this.users.set(node.owner, left);
      },
    };
  }

  /** Lookup; on a miss ask the loader once for `vfio-reset:<compatible>`; lookup again. */
  get(compatible: string): ResetModuleLookup {
    const first = this.lookup(compatible);
    if (first !== null || this.loader === null)
      return { handle: first, loaderAlias: null, loaderError: null };
    const alias = resetModuleAlias(compatible);
    // vfio_platform_get_reset ignores request_module's return value: a loader that fails
    // (modprobe finds nothing) is the same as one that loaded nothing. The error is kept only
    // for the report's explanation.
    let loaderError: KernelError | null = null;
    try {
      this.loader(alias);
    } catch (error) {
      if (!isKernelError(error)) throw error;
      loaderError = error;
    }
    return { handle: this.lookup(compatible), loaderAlias: alias, loaderError };
  }

  /**
   * The reset lookup the vfio-platform/vfio-amba drivers do at probe
   * (`vfio_platform_init_common` → `vfio_platform_get_reset`). Throws `ENOENT` when no reset
   * exists and `resetRequired`; otherwise returns a {@link DeviceReset} (possibly without a
   * reset) that the driver keeps until remove and releases then.
   */
  getReset(device: ResetDeviceInfo, options: GetResetOptions): DeviceReset {
    return DeviceReset.probe(this, device, options);
  }

  private unregister(node: Node): void {
    if (!node.live) throw new KernelError('ENOENT', `${node.owner}: ${node.compatible} is not registered`);
    if (this.usersOf(node.owner) > 0) {
      // kernel/module/main.c: delete_module → try_stop_module: the reference count is not
      // zero and the unload is not forced → -EWOULDBLOCK (== -EAGAIN; rmmod prints
      // "Resource temporarily unavailable").
      throw new KernelError(
        'EAGAIN',
        `${node.owner} is in use by ${this.usersOf(node.owner)} device(s) (EWOULDBLOCK); release them before unloading`,
      );
    }
    node.live = false;
    this.nodes.splice(this.nodes.indexOf(node), 1);
  }
}
