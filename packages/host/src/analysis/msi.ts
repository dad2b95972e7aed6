import type { KernelVersion } from '@vfiokit/core';
import type { DeviceTree, DtDevice, DtMsiController } from '@vfiokit/devicetree';
import { msiIsolated } from '@vfiokit/kvm';
import { hostMsiModels } from '../kvm/host-kvm.js';

/** The MSI facts of the host: its controllers and, per device, its parent and isolation. */
export interface HostMsi {
  /** The controllers the kernel's drivers take (GICv2m frames, ITSes), by node path. */
  readonly controllers: readonly DtMsiController[];
  /** `msi-parent` of a device (path), or undefined. */
  parentOf(device: DtDevice): string | undefined;
  /**
   * Whether vfio type1 finds the device's MSIs isolated (kvm's `msiIsolated`: per device from
   * v6.3, msi_device_has_isolated_msi; system-wide before, irq_domain_check_msi_remap).
   */
  isolated(device: DtDevice): boolean;
}

/**
 * The host's MSI facts for the analysis, from the same `@vfiokit/kvm` models the host gives vfio
 * (`hostMsiModels`), built over every device the analysis lists (disabled ones too), so the
 * isolation answer is the one vfio type1 gets. Controllers the kernel does not probe (an
 * unavailable ITS) give no MSI domain; a parent of another kind (`msi-controller` without a
 * GIC driver) is reported but never isolates.
 */
export function hostMsi(tree: DeviceTree, devices: readonly DtDevice[], kernel: KernelVersion): HostMsi {
  const models = hostMsiModels(tree, devices);
  return {
    controllers: models.controllers,
    parentOf: (device) => device.msiParent?.target,
    isolated: (device) => msiIsolated(models.topology, device.name, { kernel }),
  };
}
