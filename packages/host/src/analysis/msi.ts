import type { KernelVersion } from '@vfiokit/core';
import type { DeviceTree } from '@vfiokit/devicetree';
import { type DtDevice, type DtMsiController, msiControllers } from '@vfiokit/devicetree';
import {
  GicIts,
  Gicv2mFrame,
  type MsiController,
  type MsiMaster,
  MsiTopology,
  msiIsolated,
} from '@vfiokit/kvm';

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

// The isolation rules only look at the controller's kind (an ITS isolates unless it is the
// SynQuacer pre-ITS; a v2m frame never does), so the models get placeholder frames: base 0 and,
// for a v2m frame, one SPI — the registers are never used here.
function modelOf(controller: DtMsiController): MsiController | undefined {
  if (controller.kind === 'gic-v3-its') {
    return new GicIts({
      name: controller.path,
      base: 0,
      preIts: controller.compatible.includes('socionext,synquacer-pre-its'),
    });
  }
  if (controller.kind === 'gic-v2m')
    return new Gicv2mFrame({ name: controller.path, base: 0, typer: (64 << 16) | 1 });
  return undefined;
}

/**
 * Builds the host's MSI topology from the tree with `@vfiokit/kvm`'s models, so the isolation
 * answer is the one kvm (and vfio type1) give. Controllers the kernel does not probe (an
 * unavailable ITS) give no MSI domain; a parent of another kind (`msi-controller` without a
 * GIC driver) is reported but never isolates (no IRQ_DOMAIN_FLAG_ISOLATED_MSI is known for it).
 */
export function hostMsi(tree: DeviceTree, devices: readonly DtDevice[], kernel: KernelVersion): HostMsi {
  const controllers = msiControllers(tree).filter((c) => c.probed);
  const models = new Map<string, MsiController>();
  for (const controller of controllers) {
    const model = modelOf(controller);
    if (model !== undefined) models.set(controller.path, model);
  }
  const masters: Record<string, MsiMaster> = {};
  for (const device of devices) {
    const parent = device.msiParent?.target;
    masters[device.name] = parent !== undefined && models.has(parent) ? { msiParent: parent } : {};
  }
  const topology = new MsiTopology({ controllers: [...models.values()], devices: masters });
  return {
    controllers,
    parentOf: (device) => device.msiParent?.target,
    isolated: (device) => msiIsolated(topology, device.name, { kernel }),
  };
}
