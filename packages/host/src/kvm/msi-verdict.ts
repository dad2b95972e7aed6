import { KernelError } from '@vfiokit/core';
import type { DtDevice } from '@vfiokit/devicetree';
import { type MsiDeviceBinding, type MsiFrameVerdict, msiFrameViability } from '@vfiokit/kvm';
import type { Host } from '../host.js';
import { type MsiVerdict, msiVerdict } from './host-kvm.js';

function nameOf(host: Host, device: string | DtDevice): string {
  const name = typeof device === 'string' ? device : device.name;
  if (!host.dtDevices.some((d) => d.name === name))
    throw new KernelError('ENODEV', `${name}: no such device on this host`);
  return name;
}

/**
 * The MSI verdict of a device of `host` (by platform device name, or its DtDevice): its
 * `msi-parent` node path, whether vfio type1 finds its MSIs isolated under the host's kernel
 * profile, and why. `ENODEV` for a device the host does not have.
 */
export function msiVerdictOf(host: Host, device: string | DtDevice): MsiVerdict {
  return msiVerdict(host.msi, nameOf(host, device), host.params.profile.version);
}

/**
 * NOT IN LINUX — seed 004's extended viability (opt-in): attaching `device` to `container` is
 * viable only when every other device behind the same non-isolating MSI frame is unbound or
 * VFIO-bound, and not in another container. Drivers come from the host's driver core; the
 * containers of VFIO-bound devices are the caller's (`containers`: device name → container).
 */
export function msiFrameViabilityOf(
  host: Host,
  device: string | DtDevice,
  container: string,
  containers: Readonly<Record<string, string>> = {},
): MsiFrameVerdict {
  const name = nameOf(host, device);
  const bindings: Record<string, MsiDeviceBinding> = {};
  for (const dt of host.dtDevices) {
    const driver = host.core.findDevice(dt.name)?.driverName ?? undefined;
    const inContainer = containers[dt.name];
    bindings[dt.name] = {
      ...(driver === undefined ? {} : { driver }),
      ...(inContainer === undefined ? {} : { container: inContainer }),
    };
  }
  return msiFrameViability(host.msi.topology, name, container, bindings);
}
