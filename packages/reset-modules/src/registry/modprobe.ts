import { KernelError } from '@vfiokit/core';
import type { ResetModuleDefinition, ResetModuleLoader } from './reset-module.js';
import { resetModuleAlias } from './reset-module.js';
import type { ResetRegistry } from './reset-registry.js';

/** A loader that remembers what it loaded, so the registrations can be disposed. */
export interface Modprobe {
  /** The loader to hand to {@link ResetRegistry}. */
  readonly loader: ResetModuleLoader;
  /** Owners loaded so far, in load order. */
  loaded(): readonly string[];
  /** `rmmod`: disposes a loaded module's registration (`EAGAIN` — the kernel's EWOULDBLOCK — while in use, `ENOENT` when not loaded; kernel/module/main.c delete_module). */
  remove(owner: string): void;
}

/**
 * `modprobe` over a set of modules: resolves `vfio-reset:<compat>` through each module's
 * `MODULE_ALIAS` (scripts/mod/file2alias + modules.alias) and runs its module_init, which
 * registers it. An alias no module declares fails with `ENOENT` ("modprobe: FATAL: Module
 * ... not found"), which the registry ignores as the kernel ignores request_module's result.
 * A module already loaded is not loaded twice. In registry mode `upstream` only modules Linux
 * ships (`upstream: true`) are installed; asking for another is the same `ENOENT`.
 */
export function modprobe(registry: ResetRegistry, modules: readonly ResetModuleDefinition[]): Modprobe {
  const disposers = new Map<string, () => void>();
  const order: string[] = [];
  return {
    loader: (alias) => {
      const module = modules.find((m) => resetModuleAlias(m.compatible) === alias);
      if (module === undefined) throw new KernelError('ENOENT', `modprobe: module ${alias} not found`);
      // Registry mode 'upstream' is a Linux host: a module Linux does not ship is not installed.
      if (registry.mode === 'upstream' && !module.upstream) {
        throw new KernelError(
          'ENOENT',
          `modprobe: module ${alias} not found: ${module.owner} is not a Linux module (opt in with registry mode 'vfiokit')`,
        );
      }
      if (disposers.has(module.owner)) return;
      disposers.set(module.owner, registry.register(module));
      order.push(module.owner);
    },
    loaded: () => [...order],
    remove: (owner) => {
      const dispose = disposers.get(owner);
      if (dispose === undefined) throw new KernelError('ENOENT', `${owner} is not loaded`);
      dispose();
      disposers.delete(owner);
      order.splice(order.indexOf(owner), 1);
    },
  };
}
