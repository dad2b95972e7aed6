import { isKernelError, KernelError, type ResetHandler, type ResetTarget } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { ResetControllerModel } from './reset-controller.js';
import { ResetRegistry } from './reset-registry.js';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

const target: ResetTarget = { name: 'dev0', compatible: ['vendor,dev'], regions: [], delay: () => {} };

function registryWith(reset: ResetHandler): ResetRegistry {
  const registry = new ResetRegistry();
  registry.register({ compatible: 'vendor,dev', reset, owner: 'vendor-reset' });
  return registry;
}

describe('DeviceReset probe (vfio_platform_init_common → vfio_platform_get_reset)', () => {
  it('reset_required and no reset: the probe fails with ENOENT "No reset function found"', () => {
    const error = thrown(() =>
      new ResetRegistry().getReset({ name: 'dev0', compatible: ['vendor,dev'] }, { resetRequired: true }),
    );
    expect(isKernelError(error, 'ENOENT')).toBe(true);
    expect((error as KernelError).message).toContain('No reset function found for device dev0');
  });

  it('reset_required off and no reset: the probe succeeds without VFIO_DEVICE_FLAGS_RESET (2023 "ignore missing reset")', () => {
    const reset = new ResetRegistry().getReset(
      { name: 'dev0', compatible: ['vendor,dev'] },
      { resetRequired: false },
    );
    expect(reset.hasReset).toBe(false);
    expect(reset.report.provider).toBe('none');
    expect(
      isKernelError(
        thrown(() => reset.call(target)),
        'EINVAL',
      ),
    ).toBe(true);
  });

  it('only the FIRST compatible selects the module (device_property_read_string)', () => {
    const registry = registryWith(() => {});
    const probe = () =>
      registry.getReset(
        { name: 'dev0', compatible: ['vendor,dev-v2', 'vendor,dev'] },
        { resetRequired: true },
      );
    expect(isKernelError(thrown(probe), 'ENOENT')).toBe(true);
  });

  it('an OF device without compatible fails with EINVAL whatever reset_required says ("Cannot retrieve compat")', () => {
    for (const resetRequired of [true, false]) {
      const error = thrown(() =>
        new ResetRegistry().getReset({ name: 'dev0', compatible: [] }, { resetRequired }),
      );
      expect(isKernelError(error, 'EINVAL')).toBe(true);
    }
  });

  it('holds the module from probe to release (vfio_platform_put_reset), so rmmod fails with EWOULDBLOCK (EAGAIN) meanwhile', () => {
    const registry = new ResetRegistry();
    const dispose = registry.register({ compatible: 'vendor,dev', reset: () => {}, owner: 'vendor-reset' });
    const reset = registry.getReset({ name: 'dev0', compatible: ['vendor,dev'] }, { resetRequired: true });
    expect(reset.report).toMatchObject({ provider: 'reset-module', owner: 'vendor-reset', upstream: true });
    expect(isKernelError(thrown(dispose), 'EAGAIN')).toBe(true);
    reset.release();
    dispose();
    expect(
      isKernelError(
        thrown(() => reset.release()),
        'EINVAL',
      ),
    ).toBe(true);
  });

  it('a module Linux does not ship (upstream: false) is reported as such in mode vfiokit: Linux would find no reset', () => {
    const registry = new ResetRegistry({ mode: 'vfiokit' });
    registry.register({
      compatible: 'arm,pl330',
      reset: () => {},
      owner: 'vfiokit-pl330-reset',
      upstream: false,
    });
    const reset = registry.getReset({ name: 'dma0', compatible: ['arm,pl330'] }, { resetRequired: true });
    expect(reset.report).toMatchObject({
      provider: 'reset-module',
      owner: 'vfiokit-pl330-reset',
      upstream: false,
    });
    expect(reset.report.mode).toBe('vfiokit');
    expect(reset.report.summary).toBe(
      `dma0: reset by module vfiokit-pl330-reset for "arm,pl330"; not upstream Linux, which would find no reset; registry mode 'vfiokit'`,
    );
  });

  it('upstream by default: a module Linux does not ship does not exist (ENOENT at register), and reset_required fails probe with ENOENT', () => {
    const registry = new ResetRegistry();
    expect(registry.mode).toBe('upstream');
    const error = thrown(() =>
      registry.register({
        compatible: 'arm,pl330',
        reset: () => {},
        owner: 'vfiokit-pl330-reset',
        upstream: false,
      }),
    );
    expect(isKernelError(error, 'ENOENT')).toBe(true);
    expect((error as KernelError).message).toContain("mode: 'vfiokit'");
    const probe = thrown(() =>
      registry.getReset({ name: 'dma0', compatible: ['arm,pl330'] }, { resetRequired: true }),
    );
    expect(isKernelError(probe, 'ENOENT')).toBe(true);
    expect((probe as KernelError).message).toContain('No reset function found for device dma0');
    const optional = registry.getReset({ name: 'dma0', compatible: ['arm,pl330'] }, { resetRequired: false });
    expect(optional.report).toMatchObject({ provider: 'none', mode: 'upstream', upstream: true });
  });

  it('an upstream module reports mode upstream and its v6.18 deprecation text when it has one', () => {
    const deprecation = { since: 'v6.18', message: 'DEPRECATION: x', kconfig: 'X' } as const;
    const registry = new ResetRegistry();
    registry.register({ compatible: 'vendor,dev', reset: () => {}, owner: 'm', deprecation });
    const reset = registry.getReset({ name: 'd', compatible: ['vendor,dev'] }, { resetRequired: true });
    expect(reset.report).toMatchObject({ mode: 'upstream', upstream: true, deprecation });
    expect(reset.report.summary).toBe(
      `d: reset by module m for "vendor,dev"; deprecated since v6.18; registry mode 'upstream'`,
    );
  });

  it('an ACPI device uses _RST only: present → reset, absent → ENOENT with reset_required', () => {
    let ran = 0;
    const registry = registryWith(() => {});
    const withRst = registry.getReset(
      { name: 'AMDI8001:00', compatible: ['vendor,dev'], acpi: { hid: 'AMDI8001', rst: () => void ran++ } },
      { resetRequired: true },
    );
    expect(withRst.report).toMatchObject({ provider: 'acpi-rst', upstream: true, compatible: null });
    withRst.call(target);
    expect(ran).toBe(1);
    const without = () =>
      registry.getReset(
        { name: 'AMDI8001:00', compatible: ['vendor,dev'], acpi: { hid: 'AMDI8001' } },
        { resetRequired: true },
      );
    expect(isKernelError(thrown(without), 'ENOENT')).toBe(true);
  });

  it('a failing _RST is EINVAL (vfio_platform_acpi_call_reset)', () => {
    const reset = new ResetRegistry().getReset(
      {
        name: 'AMDI8001:00',
        compatible: [],
        acpi: {
          hid: 'AMDI8001',
          rst: () => {
            throw new KernelError('EIO', 'AE_ERROR');
          },
        },
      },
      { resetRequired: true },
    );
    expect(
      isKernelError(
        thrown(() => reset.call(target)),
        'EINVAL',
      ),
    ).toBe(true);
  });

  it("upstream by default: the device tree `resets` is not a reset (ENOENT naming mode 'vfiokit'; none when not required)", () => {
    const controller = new ResetControllerModel('rstc');
    let pulses = 0;
    controller.connect(3, () => void pulses++);
    const device = { name: 'dev0', compatible: ['vendor,dev'], resets: [controller.control(3)] };
    const error = thrown(() => new ResetRegistry().getReset(device, { resetRequired: true }));
    expect(isKernelError(error, 'ENOENT')).toBe(true);
    expect((error as KernelError).message).toContain(
      "device tree's resets are used only in registry mode 'vfiokit'",
    );
    const none = new ResetRegistry().getReset(device, { resetRequired: false });
    expect(none.report).toMatchObject({ provider: 'none', mode: 'upstream' });
    expect(none.hasReset).toBe(false);
    expect(pulses).toBe(0);
  });

  it('mode vfiokit: the device tree `resets` is used only when no module claims the device, and the report says it is not upstream', () => {
    const controller = new ResetControllerModel('rstc');
    let pulses = 0;
    controller.connect(3, () => void pulses++);
    const device = { name: 'dev0', compatible: ['vendor,dev'], resets: [controller.control(3)] };
    const fallback = new ResetRegistry({ mode: 'vfiokit' }).getReset(device, { resetRequired: true });
    expect(fallback.report).toMatchObject({ provider: 'reset-controller', upstream: false });
    expect(fallback.report.summary).toContain('rstc#3');
    fallback.call(target);
    expect(pulses).toBe(1);
    expect(controller.history()).toEqual([3]);
    expect(fallback.report.mode).toBe('vfiokit');
    const preferred = registryWith(() => {}).getReset(device, { resetRequired: true });
    expect(preferred.report.provider).toBe('reset-module');
  });
});

describe('DeviceReset at open and close (vfio_platform_open_device / vfio_platform_close_device)', () => {
  const failing: ResetHandler = () => {
    throw new KernelError('ETIMEDOUT', 'stuck');
  };

  it('open: a failing reset fails the open when reset_required', () => {
    const reset = registryWith(failing).getReset(
      { name: 'dev0', compatible: ['vendor,dev'] },
      { resetRequired: true },
    );
    const error = thrown(() => reset.callOnOpen(target));
    expect(isKernelError(error, 'ETIMEDOUT')).toBe(true);
    expect((error as KernelError).message).toContain(
      'reset driver is required and reset call failed in open (-110)',
    );
  });

  it('open: a failing or missing reset is ignored when reset_required is off', () => {
    const failingReset = registryWith(failing).getReset(
      { name: 'dev0', compatible: ['vendor,dev'] },
      { resetRequired: false },
    );
    expect(failingReset.callOnOpen(target)).toMatchObject({ phase: 'open', warning: null });
    expect(isKernelError(failingReset.callOnOpen(target).error, 'ETIMEDOUT')).toBe(true);
    const none = new ResetRegistry().getReset({ name: 'dev0', compatible: ['x'] }, { resetRequired: false });
    expect(isKernelError(none.callOnOpen(target).error, 'EINVAL')).toBe(true);
  });

  it('close: never fails; WARNs only when reset_required', () => {
    const required = registryWith(failing).getReset(
      { name: 'dev0', compatible: ['vendor,dev'] },
      { resetRequired: true },
    );
    expect(required.callOnClose(target).warning).toContain('reset call failed in release (-110)');
    const optional = registryWith(failing).getReset(
      { name: 'dev0', compatible: ['vendor,dev'] },
      { resetRequired: false },
    );
    const outcome = optional.callOnClose(target);
    expect(outcome.warning).toBeNull();
    expect(isKernelError(outcome.error, 'ETIMEDOUT')).toBe(true);
  });

  it('a succeeding reset runs the module once per call with the target', () => {
    const seen: string[] = [];
    const reset = registryWith((t) => void seen.push(t.name)).getReset(
      { name: 'dev0', compatible: ['vendor,dev'] },
      { resetRequired: true },
    );
    expect(reset.callOnOpen(target)).toEqual({ phase: 'open', error: null, warning: null });
    expect(reset.callOnClose(target)).toEqual({ phase: 'close', error: null, warning: null });
    reset.call(target);
    expect(seen).toEqual(['dev0', 'dev0', 'dev0']);
  });
});

describe('lifecycle walk: probe → open → VFIO_DEVICE_RESET → close → remove, for every provider', () => {
  const controller = new ResetControllerModel('rstc');
  const pulses: number[] = [];
  controller.connect(1, () => void pulses.push(1));
  const cases = [
    { kind: 'reset-module', device: { name: 'd', compatible: ['vendor,dev'] }, hasReset: true },
    {
      kind: 'acpi-rst',
      device: { name: 'd', compatible: [], acpi: { hid: 'ACME0001', rst: () => {} } },
      hasReset: true,
    },
    {
      kind: 'reset-controller',
      device: { name: 'd', compatible: ['other'], resets: [controller.control(1)] },
      hasReset: true,
    },
    { kind: 'none', device: { name: 'd', compatible: ['other'] }, hasReset: false },
  ] as const;
  for (const { kind, device, hasReset } of cases) {
    it(`${kind}: each step behaves as the kernel's, and the module reference is dropped at remove (mode vfiokit)`, () => {
      const registry = new ResetRegistry({ mode: 'vfiokit' });
      const dispose = registry.register({ compatible: 'vendor,dev', reset: () => {}, owner: 'vendor-reset' });
      const reset = registry.getReset(device, { resetRequired: hasReset });
      expect(reset.report.provider).toBe(kind);
      expect(reset.hasReset).toBe(hasReset);
      expect(reset.callOnOpen(target).error === null).toBe(hasReset);
      if (hasReset) reset.call(target);
      else
        expect(
          isKernelError(
            thrown(() => reset.call(target)),
            'EINVAL',
          ),
        ).toBe(true);
      expect(reset.callOnClose(target).warning).toBeNull();
      expect(registry.usersOf('vendor-reset')).toBe(kind === 'reset-module' ? 1 : 0);
      reset.release();
      expect(registry.usersOf('vendor-reset')).toBe(0);
      dispose();
    });
  }
});

describe('options are checked (a typo is an error, not a silent default)', () => {
  it('ResetRegistry, getReset and register refuse unknown keys and bad values with EINVAL', () => {
    const bad = [
      () => new ResetRegistry({ mod: 'vfiokit' } as never),
      () => new ResetRegistry({ mode: 'extended' } as never),
      () => new ResetRegistry().getReset({ name: 'd', compatible: ['c'] }, { resetRequird: true } as never),
      () => new ResetRegistry().getReset({ name: 'd', compatible: ['c'] }, {} as never),
      () =>
        new ResetRegistry().register({
          compatible: 'c',
          reset: () => {},
          owner: 'm',
          upstrem: false,
        } as never),
    ];
    for (const f of bad) expect(isKernelError(thrown(f), 'EINVAL')).toBe(true);
  });
});

describe('ResetControllerModel', () => {
  it('refuses a line wired twice (EEXIST) and a line nothing is wired to (EINVAL)', () => {
    const controller = new ResetControllerModel('rstc');
    controller.connect(0, () => {});
    expect(
      isKernelError(
        thrown(() => controller.connect(0, () => {})),
        'EEXIST',
      ),
    ).toBe(true);
    expect(
      isKernelError(
        thrown(() => controller.control(1)),
        'EINVAL',
      ),
    ).toBe(true);
  });
});
