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
}

/** What the host's SMMU drivers say a device's group is (the shape `Host.iommuGroupOf` returns). */
type HostGroupLookup = (device: string) => { readonly id: number } | undefined;

// The host gains `iommuGroupOf` with its SMMU drivers (another issue's work). When it is there
// the analysis takes groups from it, so the two can never disagree; until then it forms them
// from the device tree below.
function hostGroupLookup(host: Host): HostGroupLookup | undefined {
  const lookup: unknown = (host as unknown as { iommuGroupOf?: unknown }).iommuGroupOf;
  if (typeof lookup !== 'function') return undefined;
  return (device) => {
    const group: unknown = lookup.call(host, device);
    if (typeof group !== 'object' || group === null) return undefined;
    const id: unknown = (group as { id?: unknown }).id;
    return typeof id === 'number' ? { id } : undefined;
  };
}

/**
 * The IOMMU groups of the devices behind an available IOMMU. From the host's SMMU drivers when
 * it has them; otherwise as the arm-smmu drivers form them for platform devices:
 * generic_device_group() gives each device its own group, except that masters whose stream IDs
 * meet on one SMMU share the group of the first (arm_smmu_device_group() → the S2CR's group,
 * drivers/iommu/arm/arm-smmu/arm-smmu.c). Ids are allocated in device order from 0
 * (iommu_group_alloc's ida).
 */
export function iommuGroups(
  host: Host,
  devices: readonly DtDevice[],
  iommus: ReadonlyMap<string, DeviceIommu>,
): GroupMembership[] {
  const fromHost = hostGroupLookup(host);
  const groups = new Map<number, { iommu: string; devices: string[] }>();
  const byStream = new Map<string, number>();
  let next = 0;
  for (const device of devices) {
    const iommu = iommus.get(device.name);
    if (iommu === undefined || !iommu.available) continue;
    let id: number | undefined;
    if (fromHost !== undefined) {
      id = fromHost(device.name)?.id;
    } else {
      const keys = iommu.streamIds.map((sid) => `${iommu.node}\0${sid}`);
      id = keys.map((key) => byStream.get(key)).find((found) => found !== undefined);
      if (id === undefined) id = next++;
      for (const key of keys) if (!byStream.has(key)) byStream.set(key, id);
    }
    if (id === undefined) continue;
    const group = groups.get(id) ?? { iommu: iommu.node, devices: [] };
    group.devices.push(device.name);
    groups.set(id, group);
  }
  return [...groups].sort(([a], [b]) => a - b).map(([id, g]) => ({ id, iommu: g.iommu, devices: g.devices }));
}
