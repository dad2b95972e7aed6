import {
  type IommuDomainType,
  type IommuGroup,
  IommuGroupIda,
  KernelError,
  PhysicalMemory,
  physAddr,
  RESV_TYPE_NAMES,
} from '@vfiokit/core';
import { type DeviceTree, type DtDevice, OfTree } from '@vfiokit/devicetree';
import type { DriverCore } from '@vfiokit/platform-bus';
import { ARM_SMMU_COMPATIBLES, OfSmmus, TablePageAllocator } from '@vfiokit/smmu';

/** Options of a {@link HostIommu}. */
export interface HostIommuOptions {
  readonly tree: DeviceTree;
  readonly devices: readonly DtDevice[];
  readonly core: DriverCore;
  /** Where the kernel's page tables, queues and stream tables live (physical). */
  readonly tableBase: number;
  readonly log: (line: string) => void;
}

/** Where a master sits behind its IOMMU: the shape `analyze` reports. */
export interface HostDeviceIommu {
  /** The IOMMU node (`fwspec->iommu_fwnode`). */
  readonly node: string;
  /** The stream IDs the master emits (arm-smmu: SMR IDs, masks dropped). */
  readonly streamIds: readonly number[];
  /** Its IOMMU group id. */
  readonly group: number;
}

// 32 MiB of the kernel's own memory for IOMMU tables (the host's RAM allocations for
// processes start 128 MiB into RAM).
const TABLE_BYTES = 0x200_0000;

/**
 * The host's IOMMU side: the SMMU register models and drivers of `@vfiokit/smmu` over the
 * host's device tree, one group-id IDA shared with VFIO's fake groups, and the driver core's
 * DMA-ownership book shared with the groups (so a host driver bound to a group member and
 * VFIO's claim exclude each other as drivers/iommu/iommu.c makes them). Group membership is
 * mirrored into platform-bus's `Device.iommuGroup`, which its sysfs shows as the
 * `iommu_group` link and `/sys/kernel/iommu_groups/<n>/devices`.
 *
 * Which drivers are built in: `arm-smmu-v3` always (CONFIG_ARM_SMMU_V3=y in the oracle's
 * kernel, which had a stub for it), `arm-smmu` and `exynos-sysmmu` only when the tree has a
 * node they match — a kernel built for that board has them, and the oracle's kernel (QEMU virt,
 * no such nodes) keeps its driver list.
 */
export class HostIommu {
  /** `iommu_group_ida`, also handed to `Vfio` for its no-IOMMU and emulated groups. */
  readonly groupIds: IommuGroupIda = new IommuGroupIda();
  /** The memory the SMMUs walk tables in and their masters' DMA reaches. */
  readonly memory: PhysicalMemory = new PhysicalMemory();
  readonly smmus: OfSmmus;
  private readonly core: DriverCore;
  private readonly builtIn: readonly string[];

  constructor(options: HostIommuOptions) {
    this.core = options.core;
    const ownership = options.core.iommuOwnership;
    if (ownership === undefined) throw new KernelError('EINVAL', 'the driver core has no DMA-ownership book');
    const allocator = new TablePageAllocator({
      memory: this.memory,
      base: physAddr(options.tableBase),
      size: TABLE_BYTES,
    });
    this.smmus = new OfSmmus({
      tree: OfTree.of(options.tree),
      devices: options.devices,
      memory: this.memory,
      allocator,
      groupIds: this.groupIds,
      ownership,
      onGroupChange: (device, group) => {
        const bound = this.core.findDevice(device);
        if (bound !== undefined) bound.iommuGroup = group?.id;
      },
      log: options.log,
    });
    const compatibles = new Set(options.devices.flatMap((d) => d.compatible));
    const has = (list: readonly string[]): boolean => list.some((c) => compatibles.has(c));
    this.builtIn = [
      ...(has(Object.keys(ARM_SMMU_COMPATIBLES)) ? ['arm-smmu'] : []),
      'arm-smmu-v3',
      ...(has(['samsung,exynos-sysmmu']) ? ['exynos-sysmmu'] : []),
    ];
  }

  /** The IOMMU drivers this host's kernel has, in registration order. */
  get driverNames(): readonly string[] {
    return this.builtIn;
  }

  /**
   * Registers the built-in IOMMU drivers on the platform bus. The host calls it after the
   * devices are populated and before the masters' drivers, as fw_devlink orders suppliers.
   */
  registerDrivers(): void {
    for (const spec of this.smmus.drivers) {
      if (this.builtIn.includes(spec.name)) void this.core.platform.registerDriver(spec);
    }
  }

  /** Groups with members, in id allocation order. */
  get groups(): readonly IommuGroup[] {
    return this.smmus.probe.groups;
  }

  groupOf(device: string): IommuGroup | undefined {
    return this.smmus.groupOf(device);
  }

  /** The IOMMU node, stream IDs and group of a master. */
  iommuOf(device: string): HostDeviceIommu | undefined {
    const where = this.smmus.iommuOf(device);
    const group = this.smmus.groupOf(device);
    if (where === undefined || group === undefined) return undefined;
    return { node: where.node, streamIds: where.streamIds, group: group.id };
  }

  /** A group by id. */
  group(id: number): IommuGroup | undefined {
    return this.groups.find((group) => group.id === id);
  }

  /**
   * `/sys/kernel/iommu_groups/<n>/type` (drivers/iommu/iommu.c iommu_group_show_type): the
   * default domain's type, `"unknown"` without one.
   */
  typeFile(id: number): string | undefined {
    const group = this.group(id);
    return group === undefined ? undefined : `${DOMAIN_TYPE_NAMES[group.defaultDomain.type]}\n`;
  }

  /**
   * `/sys/kernel/iommu_groups/<n>/reserved_regions` (iommu_group_show_resv_regions): one line
   * per merged region, `0x%016llx 0x%016llx %s\n` of start, end and type.
   */
  reservedRegionsFile(id: number): string | undefined {
    const group = this.group(id);
    if (group === undefined) return undefined;
    const hex = (value: number): string => `0x${value.toString(16).padStart(16, '0')}`;
    return group
      .reservedRegions()
      .map((r) => `${hex(r.start)} ${hex(r.start + r.size - 1)} ${RESV_TYPE_NAMES[r.type]}\n`)
      .join('');
  }
}

// iommu_group_show_type's strings; a DMA domain in flush-queue mode would be "DMA-FQ"
// (arm64 kernels default to strict, CONFIG_IOMMU_DEFAULT_DMA_STRICT).
const DOMAIN_TYPE_NAMES: Record<IommuDomainType, string> = {
  blocked: 'blocked',
  identity: 'identity',
  unmanaged: 'unmanaged',
  dma: 'DMA',
};
