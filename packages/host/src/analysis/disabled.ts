import { type KernelVersion, kernelAtLeast } from '@vfiokit/core';
import { type DeviceTree, type DtDevice, type DtNode, OF_KERNEL_RANGE, populate } from '@vfiokit/devicetree';

/** of_device_is_available(): `status` absent, `okay` or `ok`. */
export function isAvailableStatus(status: string | undefined): boolean {
  return status === undefined || status === 'okay' || status === 'ok';
}

/** The drivers/of release the host populates as (the host's profile, clamped to the modelled range). */
export function ofKernelOf(version: KernelVersion): KernelVersion {
  const { min, max } = OF_KERNEL_RANGE;
  if (!kernelAtLeast(version, min[0], min[1])) return min;
  return kernelAtLeast(version, max[0], max[1]) ? max : version;
}

function withoutStatus(node: DtNode): DtNode {
  return {
    ...node,
    properties: node.properties.filter((property) => property.name !== 'status'),
    children: node.children.map(withoutStatus),
  };
}

/**
 * The devices that disabled nodes would be, had their `status` been `okay`: the tree is
 * populated again with every `status` removed, and the devices whose node is itself not
 * available (its own `status` is `disabled`, `fail`, …) and that the real population did not
 * create are returned, each with its node's `status`. Nodes inside a disabled bus are left
 * out: their own status says nothing about them.
 */
export function disabledDevices(
  tree: DeviceTree,
  populated: readonly DtDevice[],
  kernel: KernelVersion,
  statusOf: (path: string) => string | undefined,
): { readonly device: DtDevice; readonly status: string }[] {
  const stripped: DeviceTree = { ...tree, root: withoutStatus(tree.root) };
  const known = new Set(populated.map((device) => device.path));
  const names = new Set(populated.map((device) => device.name));
  const out: { device: DtDevice; status: string }[] = [];
  for (const device of populate(stripped, { kernel: ofKernelOf(kernel) }).devices) {
    if (known.has(device.path) || names.has(device.name)) continue;
    const status = statusOf(device.path);
    if (isAvailableStatus(status)) continue;
    names.add(device.name);
    out.push({ device, status: status ?? 'okay' });
  }
  return out;
}
