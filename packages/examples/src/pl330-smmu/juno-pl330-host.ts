/**
 * The Juno r2 host for the PL330 scenario, assembled from the packages as test/vfio-juno.test.ts
 * does: the tree populated, the MMU-401s probed by `arm-smmu` (which forms the IOMMU groups),
 * the PL330 register model mastering through the MMU-401 that translates its stream, and
 * `vfio-amba` with a reset registry in mode `vfiokit` holding vfiokit's PL330 reset module.
 * (`@vfiokit/host` builds the oracle's kernel, whose registry is upstream-only and refuses that
 * module with ENOENT — that is why this scenario wires its own.)
 */

import { IommuGroupIda, PhysicalMemory, physAddr, rejectUnknownOptions, toSafeNumber } from '@vfiokit/core';
import { type DtDevice, OfTree, parseFdt, populateDevices } from '@vfiokit/devicetree';
import { type Device, DriverCore } from '@vfiokit/platform-bus';
import { Pl330Model, pl330ResetModule, ResetRegistry } from '@vfiokit/reset-modules';
import { type ArmSmmuInstance, ArmSmmuV2, OfSmmus, SmmuDmaPort, TablePageAllocator } from '@vfiokit/smmu';
import {
  type IrqTriggerType,
  SimpleIrqChip,
  Vfio,
  type VfioMetaDriverData,
  vfioAmbaDriver,
  vfioMetaDriverData,
} from '@vfiokit/vfio';
import { fixtureDtb } from '../fixtures.js';

export const PL330_DEVICE = '7ff00000.dma-controller';
const PL330_SMMU = '7fb00000.iommu';
/** Guest RAM as the host sees it: 16 MiB of the Juno's DRAM at 0x8_8000_0000. */
export const GUEST_RAM_PHYS = 0x8_8000_0000;
export const GUEST_RAM_SIZE = 0x100_0000;

/** Everything the scenario looks at. */
export interface JunoPl330Host {
  readonly dt: DtDevice;
  readonly core: DriverCore;
  readonly vfio: Vfio;
  readonly memory: PhysicalMemory;
  readonly pl330: Pl330Model;
  readonly resets: ResetRegistry;
  readonly smmu: ArmSmmuV2;
  readonly instance: ArmSmmuInstance;
  readonly groupId: number;
  readonly device: Device;
  readonly bound: VfioMetaDriverData;
  readonly log: readonly string[];
}

/** Options of {@link junoPl330Host}. */
export interface JunoPl330HostOptions {
  /** Register vfiokit's PL330 reset module (default true); false leaves the device without a reset, as upstream. */
  readonly pl330Reset?: boolean;
}

/** Builds the host and hands the PL330 to vfio-amba (driver_override, drivers_probe). */
export function junoPl330Host(options: JunoPl330HostOptions = {}): JunoPl330Host {
  rejectUnknownOptions(options, ['pl330Reset'], 'junoPl330Host');
  const tree = parseFdt(fixtureDtb('juno-r2'));
  const devices = populateDevices(tree);
  const dt = devices.find((d) => d.name === PL330_DEVICE);
  if (dt === undefined) throw new RangeError('no PL330 in the Juno device tree');
  const core = new DriverCore();
  const ownership = core.iommuOwnership;
  if (ownership === undefined) throw new RangeError('driver core without an ownership book');
  const memory = new PhysicalMemory();
  memory.allocate(physAddr(GUEST_RAM_PHYS), GUEST_RAM_SIZE);
  // The kernel's pages for page tables: 32 MiB of the Juno's first DRAM bank.
  const allocator = new TablePageAllocator({ memory, base: physAddr(0x8400_0000), size: 0x200_0000 });
  const groupIds = new IommuGroupIda(); // one IDA for the SMMU groups and vfio's fake ones
  const log: string[] = [];
  const smmus = new OfSmmus({
    tree: OfTree.of(tree),
    devices,
    memory,
    allocator,
    groupIds,
    ownership,
    onGroupChange: (name, group) => {
      const device = core.findDevice(name);
      if (device !== undefined) device.iommuGroup = group?.id;
    },
    log: (line) => log.push(line),
  });
  const smmu = smmus.models.get(PL330_SMMU);
  if (!(smmu instanceof ArmSmmuV2)) throw new RangeError('no MMU-401 model for the PL330');
  // The controller's one AXI master carries stream ID 0 through the MMU-401.
  const pl330 = new Pl330Model({ dma: new SmmuDmaPort({ smmu, streamId: 0, memory }) });
  const lines: Record<number, IrqTriggerType> = {};
  for (const irq of dt.irqs) {
    if (irq.intid === undefined || irq.trigger === undefined || irq.trigger === 'none')
      throw new RangeError(`${dt.name}: an interrupt without a GIC INTID and trigger`);
    lines[irq.intid] = irq.trigger;
  }
  const irqChip = new SimpleIrqChip(lines);
  // vfiokit's PL330 module is opt-in: upstream Linux has no reset for arm,pl330.
  const resets = new ResetRegistry({ mode: 'vfiokit' });
  if (options.pl330Reset ?? true) resets.register(pl330ResetModule);
  const vfio = new Vfio({ allowUnsafeInterrupts: false, iommuGroupIds: groupIds });
  const region = dt.regions[0];
  if (region === undefined) throw new RangeError('PL330 without reg');
  core.amba.addDevice({
    name: dt.name,
    bus: 'amba',
    ofNode: dt.path,
    compatible: dt.compatible,
    regions: [{ start: physAddr(toSafeNumber(region.address)), size: toSafeNumber(region.size) }],
    irqs: dt.irqs.map((i) => i.intid ?? 0),
    primecell: pl330,
  });
  for (const d of devices) {
    if (!smmus.models.has(d.name)) continue;
    core.platform.addDevice({
      name: d.name,
      bus: 'platform',
      ofNode: d.path,
      compatible: d.compatible,
      regions: d.regions.map((r) => ({
        start: physAddr(toSafeNumber(r.address)),
        size: toSafeNumber(r.size),
      })),
    });
  }
  for (const spec of smmus.drivers) core.platform.registerDriver(spec);
  const group = smmus.groupOf(dt.name);
  if (group === undefined) throw new RangeError('the PL330 got no IOMMU group');
  core.amba.registerDriver(
    vfioAmbaDriver({
      vfio,
      resets,
      irqChip,
      iommuGroupOf: (d) => smmus.groupOf(d.name),
      mmio: () => pl330,
      delay: (us) => pl330.tick(us),
      log: (line) => log.push(line),
    }),
  );
  core.amba.setDriverOverride(dt.name, 'vfio-amba');
  void core.amba.driversProbe(dt.name);
  const device = core.amba.device(dt.name);
  const bound = device === undefined ? undefined : vfioMetaDriverData(device);
  if (device === undefined || bound === undefined) throw new RangeError('vfio-amba did not take the PL330');
  const instance = smmus.armSmmu.instance('/iommu@7fb00000');
  if (instance === undefined) throw new RangeError('arm-smmu did not probe the MMU-401');
  return { dt, core, vfio, memory, pl330, resets, smmu, instance, groupId: group.id, device, bound, log };
}
