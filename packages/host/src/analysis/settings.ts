import type { DmaOverride } from '@vfiokit/emulated-iommu';
import type { Host } from '../host.js';
import type { AnalysisSettings } from './types.js';

function overrideOf(override: DmaOverride): AnalysisSettings['dma_policy']['overrides'][number] {
  const kind = override.path !== undefined ? 'path' : override.device !== undefined ? 'device' : 'compatible';
  return { kind, value: override[kind] ?? '', verdict: override.verdict };
}

/** The host's settings as the analysis reports them (module parameters by their kernel names). */
export function analysisSettings(host: Host): AnalysisSettings {
  const { params } = host;
  const [major, minor] = params.profile.version;
  return {
    kernel: `${major}.${minor}`,
    reset_required: params.reset_required,
    allow_unsafe_interrupts: params.allow_unsafe_interrupts,
    enable_unsafe_noiommu_mode: params.enable_unsafe_noiommu_mode,
    dma_entry_limit: params.dma_entry_limit,
    reset_modules: host.resetModules.map((module) => module.compatible),
    dma_policy: {
      overrides: (params.dma_policy.overrides ?? []).map(overrideOf),
      dt_property: params.dma_policy.dtProperty ?? true,
      builtin_classes: params.dma_policy.builtinNonMasterClasses ?? true,
    },
    emulated_generic: params.emulated_generic,
  };
}
