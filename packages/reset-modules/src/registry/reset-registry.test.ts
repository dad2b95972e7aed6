import { isKernelError, type ResetHandler } from '@vfiokit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { builtinResetModules } from '../modules/builtin.js';
import { modprobe } from './modprobe.js';
import { type ResetModuleHandle, ResetRegistry } from './reset-registry.js';

const noop: ResetHandler = () => {};
const other: ResetHandler = () => {};

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('ResetRegistry (vfio_platform_common.c reset_list)', () => {
  it('vfio_platform_lookup_reset: finds a registration by exact compatible (strcmp) and takes a reference', () => {
    const registry = new ResetRegistry();
    registry.register({ compatible: 'calxeda,hb-xgmac', reset: noop, owner: 'm' });
    expect(registry.lookup('calxeda,hb-xgma')).toBeNull();
    expect(registry.lookup('Calxeda,hb-xgmac')).toBeNull();
    const handle = registry.lookup('calxeda,hb-xgmac');
    expect(handle?.reset).toBe(noop);
    expect(registry.usersOf('m')).toBe(1);
    handle?.release();
    expect(registry.usersOf('m')).toBe(0);
  });

  it('__vfio_platform_register_reset: list_add puts the newest registration first, so it wins the lookup', () => {
    const registry = new ResetRegistry();
    registry.register({ compatible: 'c', reset: noop, owner: 'old' });
    registry.register({ compatible: 'c', reset: other, owner: 'new' });
    expect(registry.lookup('c')?.owner).toBe('new');
    expect(registry.registrations().map((r) => r.owner)).toEqual(['new', 'old']);
  });

  it('vfio_platform_get_reset: on a miss calls request_module("vfio-reset:<compat>") once, then looks up again', () => {
    const asked: string[] = [];
    const registry = new ResetRegistry({
      loader: (alias) => {
        asked.push(alias);
        registry.register({
          compatible: 'amd,xgbe-seattle-v1a',
          reset: noop,
          owner: 'vfio-platform-amdxgbe',
        });
      },
    });
    const first = registry.get('amd,xgbe-seattle-v1a');
    expect(asked).toEqual(['vfio-reset:amd,xgbe-seattle-v1a']);
    expect(first.loaderAlias).toBe('vfio-reset:amd,xgbe-seattle-v1a');
    expect(first.handle?.owner).toBe('vfio-platform-amdxgbe');
    const second = registry.get('amd,xgbe-seattle-v1a');
    expect(asked).toHaveLength(1);
    expect(second.loaderAlias).toBeNull();
  });

  it('vfio_platform_get_reset ignores request_module failing: the second lookup decides', () => {
    const registry = new ResetRegistry();
    const probe = modprobe(registry, []);
    let calls = 0;
    registry.setLoader((alias) => {
      calls++;
      probe.loader(alias);
    });
    const result = registry.get('x');
    expect(result.handle).toBeNull();
    expect(result.loaderAlias).toBe('vfio-reset:x');
    expect(calls).toBe(1);
  });

  it('a module in use cannot be unloaded: EWOULDBLOCK, i.e. EAGAIN (kernel/module/main.c try_stop_module); after release it can, and only once (ENOENT)', () => {
    const registry = new ResetRegistry();
    const dispose = registry.register({ compatible: 'c', reset: noop, owner: 'm' });
    const handle = registry.lookup('c');
    expect(isKernelError(thrown(dispose), 'EAGAIN')).toBe(true);
    const second = registry.lookup('c');
    expect(second?.owner).toBe('m');
    handle?.release();
    expect(isKernelError(thrown(dispose), 'EAGAIN')).toBe(true);
    second?.release();
    dispose();
    expect(registry.lookup('c')).toBeNull();
    expect(isKernelError(thrown(dispose), 'ENOENT')).toBe(true);
    expect(
      isKernelError(
        thrown(() => handle?.release()),
        'EINVAL',
      ),
    ).toBe(true);
  });

  it('references count per owner (try_module_get on the module, not the node)', () => {
    const registry = new ResetRegistry();
    const a = registry.register({ compatible: 'a', reset: noop, owner: 'm' });
    registry.register({ compatible: 'b', reset: noop, owner: 'm' });
    const handle = registry.lookup('b');
    expect(isKernelError(thrown(a), 'EAGAIN')).toBe(true);
    handle?.release();
    a();
  });

  it('rejects a registration without compatible or owner (EINVAL)', () => {
    const registry = new ResetRegistry();
    expect(
      isKernelError(
        thrown(() => registry.register({ compatible: '', reset: noop, owner: 'm' })),
        'EINVAL',
      ),
    ).toBe(true);
    expect(
      isKernelError(
        thrown(() => registry.register({ compatible: 'c', reset: noop, owner: '' })),
        'EINVAL',
      ),
    ).toBe(true);
  });

  it('property: users equal lookups minus releases, and dispose succeeds exactly when users are zero', () => {
    fc.assert(refcountsHold(() => new ResetRegistry()));
  });

  it('the refcount property fails on planted bugs: a release that drops nothing, a lookup that takes no reference', () => {
    const fails = (make: () => ResetRegistry): boolean =>
      fc.check(refcountsHold(make), { numRuns: 300 }).failed;
    class LeakyRelease extends ResetRegistry {
      override lookup(compatible: string): ResetModuleHandle | null {
        const handle = super.lookup(compatible);
        return handle === null ? null : { ...handle, release: () => undefined };
      }
    }
    class NoReference extends ResetRegistry {
      override lookup(compatible: string): ResetModuleHandle | null {
        const handle = super.lookup(compatible);
        handle?.release();
        return handle === null ? null : { ...handle, release: () => undefined };
      }
    }
    expect(fails(() => new LeakyRelease())).toBe(true);
    expect(fails(() => new NoReference())).toBe(true);
    expect(fails(() => new ResetRegistry())).toBe(false);
  });
});

/** The module refcount invariant over random lookup / release / rmmod sequences. */
const refcountsHold = (makeRegistry: () => ResetRegistry) =>
  fc.property(fc.array(fc.constantFrom('lookup', 'release', 'dispose'), { maxLength: 40 }), (ops) => {
    const registry = makeRegistry();
    let dispose: (() => void) | null = registry.register({ compatible: 'c', reset: noop, owner: 'm' });
    const held: { release(): void }[] = [];
    for (const op of ops) {
      if (op === 'lookup') {
        const h = registry.lookup('c');
        expect(h === null).toBe(dispose === null);
        if (h !== null) held.push(h);
      } else if (op === 'release') {
        held.pop()?.release();
      } else if (dispose !== null) {
        const error = thrown(dispose);
        if (held.length > 0) expect(isKernelError(error, 'EAGAIN')).toBe(true);
        else {
          expect(error).toBeUndefined();
          dispose = null;
        }
      }
      expect(registry.usersOf('m')).toBe(held.length);
    }
  });

describe('modprobe', () => {
  it('loads the module whose MODULE_ALIAS matches, once, and rmmod refuses while in use with EWOULDBLOCK (EAGAIN)', () => {
    const registry = new ResetRegistry({ mode: 'vfiokit' });
    const probe = modprobe(registry, [
      { compatible: 'c', reset: noop, owner: 'mod-c', description: 'c', upstream: false },
    ]);
    registry.setLoader(probe.loader);
    const { handle } = registry.get('c');
    expect(probe.loaded()).toEqual(['mod-c']);
    expect(
      isKernelError(
        thrown(() => probe.remove('mod-c')),
        'EAGAIN',
      ),
    ).toBe(true);
    handle?.release();
    probe.remove('mod-c');
    expect(probe.loaded()).toEqual([]);
    expect(
      isKernelError(
        thrown(() => probe.remove('mod-c')),
        'ENOENT',
      ),
    ).toBe(true);
    expect(
      isKernelError(
        thrown(() => probe.loader('vfio-reset:nothing')),
        'ENOENT',
      ),
    ).toBe(true);
  });

  it("in registry mode 'upstream' (the default) a module Linux does not ship is not installed: ENOENT, and the lookup misses", () => {
    const registry = new ResetRegistry();
    const probe = modprobe(registry, [
      { compatible: 'c', reset: noop, owner: 'mod-c', description: 'c', upstream: false },
      { compatible: 'u', reset: noop, owner: 'mod-u', description: 'u', upstream: true },
    ]);
    const error = thrown(() => probe.loader('vfio-reset:c'));
    expect(isKernelError(error, 'ENOENT')).toBe(true);
    expect((error as Error).message).toContain("registry mode 'vfiokit'");
    registry.setLoader(probe.loader);
    const missed = registry.get('c');
    expect(missed.handle).toBeNull();
    expect(isKernelError(missed.loaderError, 'ENOENT')).toBe(true);
    expect(registry.get('u').handle?.owner).toBe('mod-u');
    expect(probe.loaded()).toEqual(['mod-u']);
  });

  it('the shipped modules in the default mode: the three upstream ones load (each with its v6.18 deprecation), the PL330 one does not', () => {
    const registry = new ResetRegistry();
    registry.setLoader(modprobe(registry, builtinResetModules).loader);
    const found = (compatible: string) =>
      registry.getReset({ name: 'd', compatible: [compatible] }, { resetRequired: false });
    const messages = ['calxeda,hb-xgmac', 'amd,xgbe-seattle-v1a', 'brcm,iproc-flexrm-mbox'].map((c) => {
      const reset = found(c);
      expect(reset.report).toMatchObject({ provider: 'reset-module', upstream: true, mode: 'upstream' });
      return reset.report.deprecation?.message;
    });
    expect(messages).toEqual([
      'DEPRECATION: VFIO Calxeda xgmac platform reset is deprecated and will be removed in a future kernel release',
      'DEPRECATION: VFIO AMD XGBE platform reset is deprecated and will be removed in a future kernel release',
      'DEPRECATION: VFIO Broadcom FlexRM platform reset is deprecated and will be removed in a future kernel release',
    ]);
    expect(found('arm,pl330').report.provider).toBe('none');
  });
});
