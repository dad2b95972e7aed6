import { isKernelError, KernelError, type ResetTarget } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { builtinResetModules } from '../modules/builtin.js';
import { modprobe } from './modprobe.js';
import type { ResetControl } from './providers.js';
import { ResetControllerModel } from './reset-controller.js';
import { ResetRegistry } from './reset-registry.js';

// What the registry and DeviceReset say and do on the edges (exact messages, released resets,
// errors that are not KernelErrors, empty `resets`), found by mutation testing
// (`npm run mutate -- reset-modules`): each test here kills mutants that survived.

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** The KernelError `f` throws, checked to carry `code`; its message without "CODE: ". */
function failure(f: () => unknown, code: string): KernelError & { readonly detail: string } {
  const error = thrown(f);
  expect(isKernelError(error, code as never)).toBe(true);
  const message = (error as KernelError).message;
  expect(message.startsWith(`${code}: `)).toBe(true);
  return Object.assign(error as KernelError, { detail: message.slice(code.length + 2) });
}

const target: ResetTarget = { name: 'dev0', compatible: ['vendor,dev'], regions: [], delay: () => {} };
const of = { name: 'dev0', compatible: ['vendor,dev'] };

describe('DeviceReset.probe edges (vfio_platform_init_common → vfio_platform_get_reset)', () => {
  it('options: a typo names getReset, a typo in device.acpi names getReset device.acpi, missing options are EINVAL', () => {
    const registry = new ResetRegistry();
    expect(
      failure(() => registry.getReset(of, { resetRequired: false, resetRequird: true } as never), 'EINVAL')
        .detail,
    ).toMatch(/^getReset: unknown option 'resetRequird'/);
    expect(
      failure(
        () =>
          registry.getReset(
            { ...of, acpi: { hid: 'AMDI8001', rts: () => {} } as never },
            { resetRequired: false },
          ),
        'EINVAL',
      ).detail,
    ).toMatch(/^getReset device\.acpi: unknown option 'rts'/);
    // A JavaScript caller that passes no options gets the typed error, not a TypeError.
    expect(failure(() => registry.getReset(of, undefined as never), 'EINVAL').detail).toBe(
      'getReset: resetRequired must be a boolean (the module parameter)',
    );
  });

  it('ENOENT texts: the bare kernel message when there is nothing more to say, and every reason in upstream mode', () => {
    expect(failure(() => new ResetRegistry().getReset(of, { resetRequired: true }), 'ENOENT').detail).toBe(
      'No reset function found for device dev0',
    );
    expect(
      failure(() => new ResetRegistry({ mode: 'vfiokit' }).getReset(of, { resetRequired: true }), 'ENOENT')
        .detail,
    ).toBe('No reset function found for device dev0');
    // Upstream mode, a module Linux does not ship AND device-tree resets: both reasons, '; '-joined.
    const registry = new ResetRegistry();
    registry.setLoader(modprobe(registry, builtinResetModules).loader);
    const line: ResetControl = { controller: 'rstc', id: 3, reset: () => {} };
    const pl330 = { name: 'dma0', compatible: ['arm,pl330'], resets: [line] };
    expect(failure(() => registry.getReset(pl330, { resetRequired: true }), 'ENOENT').detail).toBe(
      "No reset function found for device dma0 (registry mode 'upstream': ENOENT: modprobe: module vfio-reset:arm,pl330 not found: vfiokit-pl330-reset is not a Linux module (opt in with registry mode 'vfiokit'); the device tree's resets are used only in registry mode 'vfiokit')",
    );
  });

  it('an empty `resets` is no reset, in either mode', () => {
    const empty = { ...of, resets: [] };
    for (const mode of ['upstream', 'vfiokit'] as const) {
      expect(
        failure(() => new ResetRegistry({ mode }).getReset(empty, { resetRequired: true }), 'ENOENT').detail,
      ).toBe('No reset function found for device dev0');
      const none = new ResetRegistry({ mode }).getReset(empty, { resetRequired: false });
      expect(none.report.provider).toBe('none');
      expect(none.hasReset).toBe(false);
    }
  });

  it('an OF device without compatible: EINVAL "Cannot retrieve compat for <name>"', () => {
    expect(
      failure(
        () => new ResetRegistry().getReset({ name: 'dev9', compatible: [] }, { resetRequired: false }),
        'EINVAL',
      ).detail,
    ).toBe('Cannot retrieve compat for dev9');
  });

  it('report summaries: ACPI _RST, reset-controller lines, no reset (OF and ACPI)', () => {
    const vfiokit = new ResetRegistry({ mode: 'vfiokit' });
    const acpi = vfiokit.getReset(
      { name: 'AMDI8001:00', compatible: [], acpi: { hid: 'AMDI8001', rst: () => {} } },
      { resetRequired: true },
    );
    expect(acpi.report.summary).toBe("AMDI8001:00: reset by ACPI _RST of AMDI8001; registry mode 'vfiokit'");
    const controller = new ResetControllerModel('rstc');
    controller.connect(3, () => {});
    controller.connect(7, () => {});
    const lines = vfiokit.getReset(
      { ...of, resets: [controller.control(3), controller.control(7)] },
      { resetRequired: true },
    );
    expect(lines.report.summary).toBe(
      "dev0: reset by the device tree's resets (rstc#3, rstc#7); not upstream Linux, which would find no reset; registry mode 'vfiokit'",
    );
    expect(new ResetRegistry().getReset(of, { resetRequired: false }).report.summary).toBe(
      `dev0: no reset for "vendor,dev"; allowed only because reset_required is off; registry mode 'upstream'`,
    );
    expect(
      new ResetRegistry().getReset(
        { name: 'AMDI8001:00', compatible: [], acpi: { hid: 'AMDI8001' } },
        { resetRequired: false },
      ).report.summary,
    ).toBe(
      "AMDI8001:00: no reset (AMDI8001 has no _RST); allowed only because reset_required is off; registry mode 'upstream'",
    );
  });
});

describe('DeviceReset calls: errors, messages, release', () => {
  it('VFIO_DEVICE_RESET without a reset: EINVAL "<name>: no reset function found!"', () => {
    const none = new ResetRegistry().getReset(of, { resetRequired: false });
    expect(failure(() => none.call(target), 'EINVAL').detail).toBe('dev0: no reset function found!');
  });

  it('a failing _RST: EINVAL naming the device and ACPI failure, with the failure as cause; a non-KernelError is not converted', () => {
    const acpiError = new KernelError('EIO', 'AE_ERROR');
    const failing = new ResetRegistry().getReset(
      {
        name: 'AMDI8001:00',
        compatible: [],
        acpi: {
          hid: 'AMDI8001',
          rst: () => {
            throw acpiError;
          },
        },
      },
      { resetRequired: true },
    );
    const error = failure(() => failing.call(target), 'EINVAL');
    expect(error.detail).toBe('_RST of dev0 failed: EIO: AE_ERROR');
    expect(error.cause).toBe(acpiError);
    const bug = new TypeError('a bug in the _RST model');
    const buggy = new ResetRegistry().getReset(
      {
        name: 'AMDI8001:00',
        compatible: [],
        acpi: {
          hid: 'AMDI8001',
          rst: () => {
            throw bug;
          },
        },
      },
      { resetRequired: true },
    );
    expect(thrown(() => buggy.call(target))).toBe(bug);
    // open/close report only KernelErrors as reset failures; a bug propagates.
    expect(thrown(() => buggy.callOnOpen(target))).toBe(bug);
    expect(thrown(() => buggy.callOnClose(target))).toBe(bug);
  });

  it('open with reset_required keeps the module error as cause; a failing close reports phase close', () => {
    const moduleError = new KernelError('ETIMEDOUT', 'stuck');
    const registry = new ResetRegistry();
    registry.register({
      compatible: 'vendor,dev',
      owner: 'vendor-reset',
      reset: () => {
        throw moduleError;
      },
    });
    const reset = registry.getReset(of, { resetRequired: true });
    expect(failure(() => reset.callOnOpen(target), 'ETIMEDOUT').cause).toBe(moduleError);
    expect(reset.callOnClose(target)).toMatchObject({ phase: 'close', error: moduleError });
  });

  it('a released reset refuses every call with EINVAL, and a second release', () => {
    let ran = 0;
    const registry = new ResetRegistry();
    registry.register({ compatible: 'vendor,dev', owner: 'vendor-reset', reset: () => void ran++ });
    const reset = registry.getReset(of, { resetRequired: true });
    reset.release();
    expect(failure(() => reset.call(target), 'EINVAL').detail).toBe('the reset of dev0 was released');
    expect(
      isKernelError(
        thrown(() => reset.release()),
        'EINVAL',
      ),
    ).toBe(true);
    expect(ran).toBe(0);
    expect(registry.usersOf('vendor-reset')).toBe(0);
  });
});

describe('ResetRegistry, modprobe and ResetControllerModel messages and edges', () => {
  it('ResetRegistry: an unknown mode lists the valid ones; register typos and empty fields say what is wrong', () => {
    expect(failure(() => new ResetRegistry({ mode: 'linux' as never }), 'EINVAL').detail).toBe(
      "ResetRegistry: unknown mode 'linux' (valid modes: upstream, vfiokit)",
    );
    const registry = new ResetRegistry();
    expect(
      failure(
        () => registry.register({ compatible: 'a', owner: 'o', reset: () => {}, ownr: 'x' } as never),
        'EINVAL',
      ).detail,
    ).toMatch(/^ResetRegistry\.register: unknown option 'ownr'/);
    expect(
      failure(() => registry.register({ compatible: '', owner: 'o', reset: () => {} }), 'EINVAL').detail,
    ).toBe('a reset module needs a compatible');
    expect(
      failure(() => registry.register({ compatible: 'a', owner: '', reset: () => {} }), 'EINVAL').detail,
    ).toBe('a reset module needs an owner');
  });

  it('ResetRegistry: releasing twice, disposing twice and disposing in use say so', () => {
    const registry = new ResetRegistry();
    const dispose = registry.register({ compatible: 'vendor,dev', owner: 'vendor-reset', reset: () => {} });
    const handle = registry.lookup('vendor,dev');
    expect(failure(() => dispose(), 'EAGAIN').detail).toBe(
      'vendor-reset is in use by 1 device(s) (EWOULDBLOCK); release them before unloading',
    );
    handle?.release();
    expect(failure(() => handle?.release(), 'EINVAL').detail).toBe(
      'reference on vendor-reset released twice',
    );
    dispose();
    expect(failure(() => dispose(), 'ENOENT').detail).toBe('vendor-reset: vendor,dev is not registered');
  });

  it('ResetRegistry.get: a loader that throws something other than a KernelError is a bug and propagates', () => {
    const bug = new TypeError('loader bug');
    const registry = new ResetRegistry({
      loader: () => {
        throw bug;
      },
    });
    expect(thrown(() => registry.get('vendor,dev'))).toBe(bug);
  });

  it('modprobe: an alias loaded again registers nothing more; unknown aliases and owners are ENOENT naming them', () => {
    const registry = new ResetRegistry();
    const probe = modprobe(registry, builtinResetModules);
    probe.loader('vfio-reset:calxeda,hb-xgmac');
    probe.loader('vfio-reset:calxeda,hb-xgmac');
    expect(registry.registrations()).toEqual([
      { compatible: 'calxeda,hb-xgmac', owner: 'vfio-platform-calxedaxgmac' },
    ]);
    expect(probe.loaded()).toEqual(['vfio-platform-calxedaxgmac']);
    expect(failure(() => probe.loader('vfio-reset:acme,none'), 'ENOENT').detail).toBe(
      'modprobe: module vfio-reset:acme,none not found',
    );
    expect(failure(() => probe.remove('acme-reset'), 'ENOENT').detail).toBe('acme-reset is not loaded');
  });

  it('ResetControllerModel: the EEXIST and EINVAL texts name the controller and the line', () => {
    const controller = new ResetControllerModel('rstc');
    controller.connect(1, () => {});
    expect(failure(() => controller.connect(1, () => {}), 'EEXIST').detail).toBe(
      'rstc: reset line 1 is connected already',
    );
    expect(failure(() => controller.control(2), 'EINVAL').detail).toBe('rstc: no reset line 2');
  });
});
