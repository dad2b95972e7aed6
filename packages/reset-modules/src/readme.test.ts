// The README's usage example, verbatim apart from the assertions: it must keep working.
import { isKernelError } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { builtinResetModules, modprobe, Pl330Model, ResetRegistry } from './index.js';
import { dmaSandbox, modelTarget } from './testing/index.js';

describe('README usage', () => {
  it('upstream by default: no PL330 reset; opted in: probe, open, close and remove a PL330 through the registry', () => {
    const info = { name: '7ff00000.dma-controller', compatible: ['arm,pl330', 'arm,primecell'] };

    // Upstream behaviour (the default): only Linux's reset modules exist, Linux has none for the
    // PL330, so the probe (vfio_platform_init_common) fails with ENOENT under reset_required.
    const linux = new ResetRegistry();
    linux.setLoader(modprobe(linux, builtinResetModules).loader);
    let refused: unknown;
    try {
      linux.getReset(info, { resetRequired: true });
    } catch (error) {
      refused = error; // KernelError ENOENT: No reset function found for device 7ff00000.dma-controller (…)
    }

    // Opt in to vfiokit's own providers: its PL330 module and the device tree's `resets`.
    const registry = new ResetRegistry({ mode: 'vfiokit' });
    const probe = modprobe(registry, builtinResetModules);
    registry.setLoader(probe.loader);
    const reset = registry.getReset(info, { resetRequired: true });
    // 7ff00000.dma-controller: reset by module vfiokit-pl330-reset for "arm,pl330" (loaded for vfio-reset:arm,pl330); not upstream Linux, which would find no reset; registry mode 'vfiokit'

    // Open / close (vfio_platform_open_device / _close_device) on a device model.
    const pl330 = new Pl330Model({ dma: dmaSandbox().dma });
    const target = modelTarget(pl330, info);
    reset.callOnOpen(target); // throws when the reset fails and reset_required
    const outcome = reset.callOnClose(target); // never throws; outcome.warning is the kernel's WARN
    reset.release(); // at remove: the module can be unloaded again
    probe.remove('vfiokit-pl330-reset');

    expect(isKernelError(refused, 'ENOENT')).toBe(true);
    expect(reset.report.summary).toBe(
      `7ff00000.dma-controller: reset by module vfiokit-pl330-reset for "arm,pl330" (loaded for vfio-reset:arm,pl330); not upstream Linux, which would find no reset; registry mode 'vfiokit'`,
    );
    expect(outcome.error).toBeNull();
    let error: unknown;
    try {
      registry.getReset({ name: 'x', compatible: ['vendor,unknown'] }, { resetRequired: true });
    } catch (e) {
      error = e;
    }
    expect(isKernelError(error, 'ENOENT')).toBe(true);
  });
});
