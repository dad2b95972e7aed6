// Test support (not exported): boot the IOMMU side of a device tree on a driver core, the way
// @vfiokit/host does — devices added in populate() order, then the SMMU drivers registered.
import { IommuDmaOwnership, IommuGroupIda, PhysicalMemory, physAddr } from '@vfiokit/core';
import { type DeviceTree, OfTree, populate } from '@vfiokit/devicetree';
import { DriverCore } from '@vfiokit/platform-bus';
import { TablePageAllocator } from '../pgtable/page-allocator.js';
import { OfSmmus } from './of-smmus.js';

export interface BootedSmmus {
  readonly smmus: OfSmmus;
  readonly core: DriverCore;
  readonly ids: IommuGroupIda;
  readonly memory: PhysicalMemory;
  readonly allocator: TablePageAllocator;
  readonly log: string[];
}

export function bootSmmus(tree: DeviceTree): BootedSmmus {
  const devices = populate(tree).devices;
  const memory = new PhysicalMemory();
  const allocator = new TablePageAllocator({ memory, base: physAddr(0x8000_0000), size: 0x400_0000 });
  const ids = new IommuGroupIda();
  const core = new DriverCore();
  const log: string[] = [];
  const smmus = new OfSmmus({
    tree: OfTree.of(tree),
    devices,
    memory,
    allocator,
    groupIds: ids,
    ownership: new IommuDmaOwnership(),
    log: (line) => log.push(line),
  });
  for (const dt of devices) {
    void core.bus(dt.bus).addDevice({
      name: dt.name,
      bus: dt.bus,
      ofNode: dt.path,
      compatible: dt.compatible,
      regions: dt.regions.map((r) => ({ start: physAddr(Number(r.address)), size: Number(r.size) })),
      ...(dt.periphid === undefined ? {} : { periphid: dt.periphid }),
    });
  }
  for (const spec of smmus.drivers) void core.platform.registerDriver(spec);
  return { smmus, core, ids, memory, allocator, log };
}

/** The groups as sorted lists of member names, sorted. */
export function partition(smmus: OfSmmus): string[][] {
  return smmus.probe.groups
    .map((group) => [...group.devices].sort())
    .sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));
}
