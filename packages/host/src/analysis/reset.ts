import type { DtDevice } from '@vfiokit/devicetree';
import type { ResetRegistry } from '@vfiokit/reset-modules';
import type { AnalysisReset } from './types.js';

/**
 * The reset vfio-platform/vfio-amba would find at probe (vfio_platform_get_reset): the reset
 * module registered for the node's FIRST compatible (vfio_platform_init_common reads
 * `compatible` with device_property_read_string, which returns the first string). The lookup
 * takes a module reference, which is dropped at once: the analysis leaves the registry as it
 * found it. DT `resets` lines reset the device only in the registry's opt-in `vfiokit` mode
 * (Geert Uytterhoeven's unmerged series); upstream Linux never uses them.
 */
export function resetOf(registry: ResetRegistry, device: DtDevice): AnalysisReset {
  const compatible = device.compatible[0];
  const handle = compatible === undefined ? null : registry.lookup(compatible);
  if (handle !== null) {
    handle.release();
    return { provider: 'module', name: handle.compatible, deprecated: handle.deprecation?.message ?? null };
  }
  const line = device.resets[0];
  if (registry.mode === 'vfiokit' && line !== undefined) {
    return { provider: 'reset-controller', name: line.target, deprecated: null };
  }
  return { provider: 'none', name: null, deprecated: null };
}
