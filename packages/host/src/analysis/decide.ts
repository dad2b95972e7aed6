import { type KernelVersion, kernelAtLeast } from '@vfiokit/core';
import type { DtDevice } from '@vfiokit/devicetree';
import type { DmaCapabilityVerdict } from '@vfiokit/emulated-iommu';
import { VFIO_AMBA_DEPRECATION } from '@vfiokit/vfio';
import { EMULATED_GENERIC_DRIVER, emulatedDriverFor } from './emulated-drivers.js';
import type { DeviceIommu } from './iommu-groups.js';
import type {
  AnalysisDependency,
  AnalysisReset,
  AnalysisSettings,
  AssignmentPath,
  DeviceAnalysis,
} from './types.js';

/** Everything known about one device before deciding (gathered by analyzeHost). */
export interface DeviceFacts {
  readonly device: DtDevice;
  readonly status: string;
  readonly dma: DmaCapabilityVerdict;
  readonly iommu: DeviceIommu | null;
  readonly group: number | null;
  /** The group was formed from the tree: the host has no driver for the IOMMU. */
  readonly groupFromTree: boolean;
  readonly msiParent: string | null;
  readonly msiIsolated: boolean;
  readonly reset: AnalysisReset | null;
  /** What the host needs it for (it provides resources to other devices), or null. */
  readonly role: string | null;
  readonly dependencies: readonly AnalysisDependency[];
  /** The host driver bound at boot, and whether sysfs can unbind it (no `suppress_bind_attrs`). */
  readonly hostDriver: { readonly name: string; readonly unbindable: boolean } | null;
  /** Its interrupt lines that are IRQ_NOREQUEST (a chained handler sits on them). */
  readonly noRequestIrqs: readonly number[];
}

/** Requirement texts: the settings by their module parameter names, then actions. */
export const REQUIRE: {
  readonly allowUnsafeInterrupts: string;
  readonly noiommu: string;
  readonly emulatedGeneric: string;
  readonly resetNotRequired: (compatible: string) => string;
  readonly dmaOverride: (device: string) => string;
  readonly unbind: (device: string) => string;
} = {
  allowUnsafeInterrupts: 'allow_unsafe_interrupts=1',
  noiommu: 'enable_unsafe_noiommu_mode=1',
  emulatedGeneric: 'emulated_generic=1',
  resetNotRequired: (compatible: string) => `reset_required=0 or a reset module for ${compatible}`,
  dmaOverride: (device: string) => `dma_override=device:${device}:non-master`,
  unbind: (device: string) => `unbind ${device}`,
};

/** Whether a requirement is an action on other devices (not a setting the host lacks). */
export function isUnbind(requirement: string): boolean {
  return requirement.startsWith('unbind ');
}

interface Draft {
  path: AssignmentPath | null;
  readonly requires: string[];
  readonly reasons: string[];
  blocked: boolean;
}

/**
 * The path, requirements and reasons of one device, in the order the kernel would meet them:
 * device creation (status), vfio-platform's probe (compatible, reset), the DMA path (IOMMU and
 * type1's MSI check at attach, or the emulated/no-IOMMU routes), group viability, and the
 * version facts (vfio-amba and reset modules deprecated in Linux 6.18).
 */
export function decide(
  own: DeviceFacts,
  members: readonly DeviceFacts[],
  settings: AnalysisSettings,
  kernel: KernelVersion,
): DeviceAnalysis {
  const { device } = own;
  const draft: Draft = { path: null, requires: [], reasons: [], blocked: false };
  const msi = own.msiParent === null ? null : { parent: own.msiParent, isolated: own.msiIsolated };
  const iommu =
    own.iommu === null || !own.iommu.available
      ? null
      : { node: own.iommu.node, streamIds: own.iommu.streamIds, group: own.group };
  const base = {
    name: device.name,
    bus: device.bus,
    compatible: device.compatible,
    status: own.status,
    dma: { verdict: own.dma.verdict, reason: own.dma.reason },
    iommu,
    msi,
    reset: own.reset,
    dependencies: own.dependencies,
  };
  if (own.status !== 'okay') {
    draft.reasons.push(`status "${own.status}": of_platform_populate() creates no device for it`);
    return finish(base, draft);
  }
  if (own.role !== null) {
    draft.reasons.push(`the host needs it: ${own.role}`);
    return finish(base, { ...draft, blocked: true });
  }
  // vfio_platform_of_probe(): device_property_read_string(dev, "compatible") — the first
  // string; an empty property gives -ENODATA (of_property_read_string_helper) and the probe fails.
  const compatible = device.compatible[0];
  if (compatible === undefined) {
    draft.reasons.push('no compatible string: vfio_platform_of_probe() "Cannot retrieve compat" (ENODATA)');
    return finish(base, { ...draft, blocked: true });
  }
  if (device.regions.length === 0) {
    draft.reasons.push('no MMIO region: vfio-platform would expose nothing for a VM to drive');
    return finish(base, { ...draft, blocked: true });
  }
  // drivers/base/bus.c: a driver registered with suppress_bind_attrs (a built-in console, an
  // SMMU) has no unbind file, so the device cannot leave its host driver at run time.
  if (own.hostDriver !== null && !own.hostDriver.unbindable) {
    draft.reasons.push(
      `its host driver ${own.hostDriver.name} has no unbind file (suppress_bind_attrs, built in): the device cannot be handed over without rebuilding the host kernel`,
    );
    return finish(base, { ...draft, blocked: true });
  }
  // kernel/irq/chip.c irq_set_chained_handler: the line is IRQ_NOREQUEST, so vfio's
  // request_irq fails and VFIO_DEVICE_SET_IRQS answers EINVAL.
  if (own.noRequestIrqs.length > 0) {
    draft.reasons.push(
      `interrupt ${own.noRequestIrqs.join(', ')} is IRQ_NOREQUEST (a chained handler took it): VFIO_DEVICE_SET_IRQS fails with EINVAL`,
    );
    return finish(base, { ...draft, blocked: true });
  }
  if (own.iommu !== null && !own.iommu.available) {
    draft.reasons.push(
      `iommus names ${own.iommu.node}, which is disabled: of_iommu_xlate() -ENODEV, no IOMMU`,
    );
  }
  if (iommu !== null) smmuPath(own, members, settings, kernel, draft);
  else noIommuPath(own, settings, draft);
  versionFacts(own, draft);
  return finish(base, draft);
}

function smmuPath(
  own: DeviceFacts,
  members: readonly DeviceFacts[],
  settings: AnalysisSettings,
  kernel: KernelVersion,
  draft: Draft,
): void {
  draft.path = 'smmu';
  draft.reasons.push(
    own.group === null
      ? `behind ${own.iommu?.node}, but its IOMMU driver gives it no group`
      : own.groupFromTree
        ? `behind ${own.iommu?.node}, IOMMU group ${own.group} (formed from the tree: no modelled driver for this IOMMU)`
        : `behind ${own.iommu?.node}, IOMMU group ${own.group}`,
  );
  if (own.group === null) draft.blocked = true;
  // vfio_iommu_type1_attach_group(): iommu_group_has_isolated_msi() over every member, else
  // -EPERM unless allow_unsafe_interrupts ("No interrupt remapping support").
  const isolated = members.length > 0 ? members.every((m) => m.msiIsolated) : own.msiIsolated;
  if (!isolated) {
    const why = msiWhy(own, kernel);
    if (settings.allow_unsafe_interrupts) draft.reasons.push(`${why}; allowed by allow_unsafe_interrupts=1`);
    else {
      draft.requires.push(REQUIRE.allowUnsafeInterrupts);
      draft.reasons.push(`${why}: type1 attach fails with EPERM without allow_unsafe_interrupts=1`);
    }
  }
  resetCheck(own, settings, draft);
  for (const member of members) {
    if (member.device.name === own.device.name) continue;
    draft.requires.push(REQUIRE.unbind(member.device.name));
    if (member.role !== null) {
      draft.blocked = true;
      draft.reasons.push(
        `group ${own.group} also holds ${member.device.name}, which the host needs: not viable`,
      );
    }
  }
}

function msiWhy(own: DeviceFacts, kernel: KernelVersion): string {
  if (!kernelAtLeast(kernel, 6, 3)) return 'no MSI domain of the host isolates (irq_domain_check_msi_remap)';
  if (own.msiParent === null) return 'no msi-parent: MSIs not isolated (msi_device_has_isolated_msi, arm64)';
  if (!own.msiIsolated) return `MSIs through ${own.msiParent}, which does not isolate`;
  return 'another member of its group has MSIs that are not isolated';
}

function noIommuPath(own: DeviceFacts, settings: AnalysisSettings, draft: Draft): void {
  const { device, dma } = own;
  if (dma.verdict === 'non-master' || (dma.verdict === 'unknown' && !settings.enable_unsafe_noiommu_mode)) {
    draft.path = 'emulated';
    if (dma.verdict === 'unknown') {
      draft.requires.push(REQUIRE.dmaOverride(device.name));
      draft.reasons.push('no IOMMU and DMA capability unknown: declare it non-master for the emulated path');
    }
    const driver = emulatedDriverFor(device.compatible);
    if (driver !== undefined) {
      draft.reasons.push(
        `emulated-IOMMU path through ${driver} (vfiokit, loaded on request: modprobe ${driver})`,
      );
      return;
    }
    if (settings.emulated_generic)
      draft.reasons.push(`emulated-IOMMU path through ${EMULATED_GENERIC_DRIVER}`);
    else {
      draft.requires.push(REQUIRE.emulatedGeneric);
      draft.reasons.push('no device-specific emulated driver; the RFC generic route is opt-in');
    }
    resetCheck(own, settings, draft);
    return;
  }
  draft.path = 'noiommu';
  if (settings.enable_unsafe_noiommu_mode) {
    draft.reasons.push('no IOMMU: no-IOMMU mode (no DMA isolation, taints the kernel)');
  } else {
    draft.requires.push(REQUIRE.noiommu);
    draft.reasons.push(
      dma.verdict === 'master'
        ? 'DMA master without an IOMMU: only the unsafe no-IOMMU mode (taints the kernel)'
        : 'no IOMMU: only the unsafe no-IOMMU mode',
    );
  }
  resetCheck(own, settings, draft);
}

// vfio_platform_get_reset(): no reset and vdev->reset_required → probe fails with ENOENT
// ("No reset function found for device"). vfio-amba sets reset_required = false itself.
function resetCheck(own: DeviceFacts, settings: AnalysisSettings, draft: Draft): void {
  if (own.reset === null || own.reset.provider !== 'none') return;
  if (own.device.bus === 'amba') return;
  const compatible = own.device.compatible[0] ?? '';
  if (settings.reset_required) {
    draft.requires.push(REQUIRE.resetNotRequired(compatible));
    draft.reasons.push(
      `no reset for ${compatible}: vfio-platform probe fails with ENOENT while reset_required=1`,
    );
  } else {
    draft.reasons.push(
      `no reset for ${compatible}: the device is not reset between users (reset_required=0)`,
    );
  }
}

function versionFacts(own: DeviceFacts, draft: Draft): void {
  const usesVfioAmba =
    own.device.bus === 'amba' &&
    (draft.path !== 'emulated' || emulatedDriverFor(own.device.compatible) === undefined);
  if (usesVfioAmba) draft.reasons.push(`needs vfio-amba; Linux 6.18: "${VFIO_AMBA_DEPRECATION}"`);
  if (own.reset?.deprecated)
    draft.reasons.push(`reset module ${own.reset.name}; Linux 6.18: "${own.reset.deprecated}"`);
}

function finish(
  base: Omit<DeviceAnalysis, 'path' | 'assignable' | 'requires' | 'reasons'>,
  draft: Draft,
): DeviceAnalysis {
  const assignable =
    base.status === 'okay' && draft.path !== null && !draft.blocked && draft.requires.every(isUnbind);
  // The field order, which the JSON output keeps.
  return {
    name: base.name,
    bus: base.bus,
    compatible: base.compatible,
    status: base.status,
    dma: base.dma,
    iommu: base.iommu,
    msi: base.msi,
    reset: base.reset,
    path: draft.path,
    assignable,
    requires: draft.requires,
    reasons: draft.reasons,
    dependencies: base.dependencies,
  };
}
