import {
  checkKernelVersion,
  KernelError,
  type KernelVersion,
  kernelAtLeast,
  rejectUnknownOptions,
} from '@vfiokit/core';
import { Gicv2mFrame } from './gicv2m.js';
import { GicIts } from './its.js';

/** An MSI controller of the host: a GICv2m frame or a GICv3 ITS. */
export type MsiController = Gicv2mFrame | GicIts;

/** A device's MSI wiring from the device tree: `msi-parent = <&ctrl [DeviceID]>`. */
export interface MsiMaster {
  /** The controller's name, or undefined when the node has no `msi-parent` (no MSI domain). */
  readonly msiParent?: string;
  /** The `#msi-cells` argument (ITS DeviceID). */
  readonly deviceId?: number;
}

export interface MsiTopologyOptions {
  readonly controllers: readonly MsiController[];
  /** Devices by name (DT path or sysfs name). */
  readonly devices: Readonly<Record<string, MsiMaster>>;
}

/**
 * The host's MSI controllers and who uses which (what `@vfiokit/host` builds from the DT).
 * An `msi-parent` naming an unknown controller is `ENODEV`, a DeviceID on a GICv2m parent
 * (which has no #msi-cells) `EINVAL`.
 */
export class MsiTopology {
  readonly controllers: readonly MsiController[];
  private readonly devices: ReadonlyMap<string, MsiMaster>;

  constructor(options: MsiTopologyOptions) {
    rejectUnknownOptions(options, ['controllers', 'devices'], 'MsiTopology');
    this.controllers = options.controllers;
    this.devices = new Map(Object.entries(options.devices));
    for (const [name, m] of this.devices) {
      if (m.msiParent === undefined) continue;
      const c = this.controller(m.msiParent);
      if (c === undefined)
        throw new KernelError('ENODEV', `${name}: msi-parent ${m.msiParent} is not an MSI controller`);
      if (c instanceof Gicv2mFrame && m.deviceId !== undefined)
        throw new KernelError('EINVAL', `${name}: GICv2m frame ${c.name} takes no #msi-cells`);
    }
  }

  /** The controller named `name`. */
  controller(name: string): MsiController | undefined {
    return this.controllers.find((c) => c.name === name);
  }

  /** The device's MSI parent, or undefined (no MSI domain). Unknown device: `ENODEV`. */
  parentOf(device: string): MsiController | undefined {
    const m = this.devices.get(device);
    if (m === undefined) throw new KernelError('ENODEV', `no device ${device} in the MSI topology`);
    return m.msiParent === undefined ? undefined : this.controller(m.msiParent);
  }

  /** Every device whose MSI parent is `controller`. */
  devicesOf(controller: string): string[] {
    return [...this.devices].filter(([, m]) => m.msiParent === controller).map(([n]) => n);
  }

  /** {@link msiIsolated} for `device` (the issue's `msiIsolated(device)` form). */
  msiIsolated(device: string, options: MsiIsolatedOptions = {}): boolean {
    return msiIsolated(this, device, options);
  }

  /** Every device name. */
  get deviceNames(): string[] {
    return [...this.devices.keys()];
  }
}

/**
 * Whether a controller's MSI domain carries IRQ_DOMAIN_FLAG_ISOLATED_MSI (IRQ_DOMAIN_FLAG_MSI_REMAP
 * before v6.3): the ITS sets it (its_probe_one) unless the SynQuacer pre-ITS quirk clears it;
 * GICv2m never does.
 */
export function controllerIsolatesMsi(c: MsiController): boolean {
  return c instanceof GicIts && !c.preIts;
}

export interface MsiIsolatedOptions {
  /** The modelled kernel (default [6, 12]); the rule changed in v6.3. */
  readonly kernel?: KernelVersion;
}

/**
 * Whether `device`'s MSIs are isolated, as vfio type1 asks at attach:
 * - v6.3+ (kernel/irq/msi.c msi_device_has_isolated_msi): the device's own MSI domain chain
 *   must isolate — true under an ITS (not a pre-ITS), false under a GICv2m frame and false
 *   for a device without `msi-parent` (arch_is_isolated_msi() is false on arm64);
 * - before v6.3 (irq_domain_check_msi_remap): system-wide — true for every device as soon as
 *   any MSI domain of the host remaps, even when this device sits behind a GICv2m frame.
 */
export function msiIsolated(
  topology: MsiTopology,
  device: string,
  options: MsiIsolatedOptions = {},
): boolean {
  rejectUnknownOptions(options, ['kernel'], 'msiIsolated');
  const kernel = checkKernelVersion(options.kernel ?? [6, 12], 'msiIsolated');
  const parent = topology.parentOf(device);
  if (kernelAtLeast(kernel, 6, 3)) return parent !== undefined && controllerIsolatesMsi(parent);
  return topology.controllers.some(controllerIsolatesMsi);
}

/**
 * The shape of `@vfiokit/vfio`'s `MsiIsolation` (vfio/src/type1/msi-isolation.ts), answered from
 * the topology, so `@vfiokit/host` can pass it to vfio without kvm depending on vfio.
 */
export interface MsiIsolationAnswers {
  deviceHasIsolatedMsi(device: string): boolean;
  systemHasIsolatedMsi(): boolean;
}

/** `msi_device_has_isolated_msi` and `irq_domain_check_msi_remap` over `topology`. */
export function msiIsolation(topology: MsiTopology): MsiIsolationAnswers {
  return {
    deviceHasIsolatedMsi: (device) => msiIsolated(topology, device, { kernel: [6, 3] }),
    systemHasIsolatedMsi: () => topology.controllers.some(controllerIsolatesMsi),
  };
}

/** What the seed-004 policy needs to know about each device. */
export interface MsiDeviceBinding {
  /** The bound driver's name (`vfio-platform`, `vfio-amba`, `vfio-pci`, `pl330`…), undefined when unbound. */
  readonly driver?: string;
  /** The VFIO container (or iommufd) the device's group is attached to, if any. */
  readonly container?: string;
}

/** The verdict of {@link msiFrameViability}. */
export interface MsiFrameVerdict {
  readonly viable: boolean;
  /** Devices that break the rule, with why. */
  readonly offenders: ReadonlyArray<{ readonly device: string; readonly reason: string }>;
}

/**
 * NOT IN LINUX — vfiokit opt-in policy from seed 004 (Eric Auger, kvmarm, 2015): "extended VFIO
 * group viability" for devices behind a non-isolating MSI controller (a GICv2m frame). Attaching
 * `device` to `container` is viable only when every OTHER device with the same MSI parent is
 * unbound or VFIO-bound, and every VFIO-bound one that is in a container is in this container.
 * (A VFIO-bound device whose group is in no container yet works for nobody, so it passes — the
 * seed only rejects "a different container".) Devices behind an isolating controller (ITS), or
 * without an MSI parent, are always viable.
 */
export function msiFrameViability(
  topology: MsiTopology,
  device: string,
  container: string,
  bindings: Readonly<Record<string, MsiDeviceBinding>>,
): MsiFrameVerdict {
  const parent = topology.parentOf(device);
  if (parent === undefined || controllerIsolatesMsi(parent)) return { viable: true, offenders: [] };
  const offenders: Array<{ device: string; reason: string }> = [];
  for (const other of topology.devicesOf(parent.name)) {
    if (other === device) continue;
    const b = bindings[other] ?? {};
    if (b.driver === undefined) continue;
    if (!b.driver.startsWith('vfio')) {
      offenders.push({
        device: other,
        reason: `bound to host driver ${b.driver} and shares MSI frame ${parent.name}`,
      });
      continue;
    }
    if (b.container !== undefined && b.container !== container)
      offenders.push({
        device: other,
        reason: `in container ${b.container}, not ${container}, and shares MSI frame ${parent.name}`,
      });
  }
  return { viable: offenders.length === 0, offenders };
}

/** {@link msiFrameViability} as a check: a non-viable attach is `EPERM` (as a non-viable group's SET_CONTAINER). */
export function checkMsiFrameViability(
  topology: MsiTopology,
  device: string,
  container: string,
  bindings: Readonly<Record<string, MsiDeviceBinding>>,
): void {
  const v = msiFrameViability(topology, device, container, bindings);
  if (!v.viable)
    throw new KernelError(
      'EPERM',
      `${device}: MSI frame shared unsafely: ${v.offenders.map((o) => `${o.device} ${o.reason}`).join('; ')}`,
    );
}
