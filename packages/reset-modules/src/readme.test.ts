// The README's usage example, verbatim apart from the assertions: it must keep working.
import { isKernelError } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { builtinResetModules, modprobe, Pl330Model, ResetRegistry } from './index.js';
import { dmaSandbox, modelTarget } from './testing/index.js';

describe('README usage', () => {
  it('probe, open, close and remove a PL330 through the registry', () => {
    // A registry whose loader finds the shipped modules by their `vfio-reset:<compat>` alias.
    const registry = new ResetRegistry();
    const probe = modprobe(registry, builtinResetModules);
    registry.setLoader(probe.loader);

    // Probe (vfio_platform_init_common): ENOENT when no reset exists and reset_required.
    const info = { name: '7ff00000.dma-controller', compatible: ['arm,pl330', 'arm,primecell'] };
    const reset = registry.getReset(info, { resetRequired: true });
    // 7ff00000.dma-controller: reset by module vfiokit-pl330-reset for "arm,pl330" (loaded for vfio-reset:arm,pl330); not upstream Linux, which would find no reset

    // Open / close (vfio_platform_open_device / _close_device) on a device model.
    const pl330 = new Pl330Model({ dma: dmaSandbox().dma });
    const target = modelTarget(pl330, info);
    reset.callOnOpen(target); // throws when the reset fails and reset_required
    const outcome = reset.callOnClose(target); // never throws; outcome.warning is the kernel's WARN
    reset.release(); // at remove: the module can be unloaded again
    probe.remove('vfiokit-pl330-reset');

    expect(reset.report.summary).toBe(
      '7ff00000.dma-controller: reset by module vfiokit-pl330-reset for "arm,pl330" (loaded for vfio-reset:arm,pl330); not upstream Linux, which would find no reset',
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
