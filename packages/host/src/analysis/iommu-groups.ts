import type { DtDevice } from '@vfiokit/devicetree';
import type { Host } from '../host.js';

/** A device's IOMMU as its `iommus` say: the first entry's IOMMU and the stream IDs on it. */
export interface DeviceIommu {
  readonly node: string;
  readonly streamIds: readonly number[];
  /** Whether the IOMMU node is available: of_iommu_xlate() gives -ENODEV otherwise. */
  readonly available: boolean;
}

/**
 * drivers/iommu/of_iommu.c of_iommu_configure(): the device's `iommus` entries, each
 * `of_iommu_xlate`d into its fwspec. The analysis reports the first IOMMU (a platform device
 * has one) and the first argument cell of each of its entries (the stream ID; a second cell
 * is an SMR mask). An unavailable IOMMU node fails with -ENODEV, which of_dma_configure_id()
 * treats as "not behind an IOMMU": the device probes without one.
 */
export function deviceIommu(device: DtDevice): DeviceIommu | undefined {
  const first = device.iommus[0];
  if (first === undefined) return undefined;
  const streamIds = device.iommus
    .filter((link) => link.target === first.target && link.args.length > 0)
    .map((link) => link.args[0] as number);
  return { node: first.target, streamIds: [...new Set(streamIds)], available: first.targetAvailable };
}

/** One IOMMU group: id, IOMMU node and members (device names) in device order. */
export interface GroupMembership {
  readonly id: number;
  readonly iommu: string;
  readonly devices: readonly string[];
  /** True when the host has no driver for the IOMMU and the analysis formed the group itself. */
  readonly formedFromTree: boolean;
}

/**
 * The IOMMU groups of the devices behind an available IOMMU, taken from the host's SMMU
 * drivers (`host.iommuGroups`), so the analysis and the host can never disagree. An IOMMU the
 * host has no driver for (no member of it got a group from the host: a Rockchip, MediaTek or
 * Apple DART IOMMU) gets groups as the kernel's generic_device_group() would form them: one per
 * device, shared by masters whose stream IDs meet on that IOMMU, and one for all the masters of
 * an IOMMU without stream-ID cells; their ids follow the host's.
 */
export function iommuGroups(
  host: Host,
  devices: readonly DtDevice[],
  iommus: ReadonlyMap<string, DeviceIommu>,
): GroupMembership[] {
  const out: GroupMembership[] = host.iommuGroups
    .filter((group) => group.devices.length > 0)
    .map((group) => ({
      id: group.id,
      iommu: group.iommu ?? iommus.get(group.devices[0] ?? '')?.node ?? '',
      devices: [...group.devices],
      formedFromTree: false,
    }));
  const driven = new Set(out.map((group) => group.iommu));
  let next = Math.max(-1, ...out.map((group) => group.id), ...host.vfio.fakeIommuGroups.keys()) + 1;
  const formed = new Map<number, { iommu: string; devices: string[] }>();
  const byStream = new Map<string, number>();
  for (const device of devices) {
    const iommu = iommus.get(device.name);
    if (iommu === undefined || !iommu.available || driven.has(iommu.node)) continue;
    // An IOMMU without stream-ID cells cannot tell its masters apart, so they share one group
    // (rk_iommu_device_group returns the instance's single group, drivers/iommu/rockchip-iommu.c).
    const keys =
      iommu.streamIds.length === 0
        ? [`${iommu.node}\0*`]
        : iommu.streamIds.map((sid) => `${iommu.node}\0${sid}`);
    let id = keys.map((key) => byStream.get(key)).find((found) => found !== undefined);
    if (id === undefined) id = next++;
    for (const key of keys) if (!byStream.has(key)) byStream.set(key, id);
    const group = formed.get(id) ?? { iommu: iommu.node, devices: [] };
    group.devices.push(device.name);
    formed.set(id, group);
  }
  for (const [id, group] of formed) out.push({ id, ...group, formedFromTree: true });
  return out.sort((a, b) => a.id - b.id);
}
