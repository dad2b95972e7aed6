import {
  type IommuDmaOwnership,
  type IommuGroup,
  type IommuGroupIds,
  type MmioDevice,
  type PhysicalMemory,
  rejectUnknownOptions,
} from '@vfiokit/core';
import type { DtDevice, OfTree } from '@vfiokit/devicetree';
import { isDmaCoherent } from '@vfiokit/devicetree';
import type { DriverSpec } from '@vfiokit/platform-bus';
import { type ArmSmmuModel, ArmSmmuV2 } from '../hw/smmu-v2.js';
import { ArmSmmuV3 } from '../hw/smmu-v3.js';
import type { TablePageAllocator } from '../pgtable/page-allocator.js';
import { ARM_SMMU_COMPATIBLES, ArmSmmuDriver } from './arm-smmu.js';
import { ArmSmmuV3Driver } from './arm-smmu-v3.js';
import { ExynosSysmmuDriver } from './exynos-sysmmu.js';
import type { IommuMaster } from './iommu-master.js';
import { IommuProbe } from './iommu-probe.js';

// The register model behind the vendor compatibles arm-smmu also binds (arm_smmu_of_match):
// Cavium's and Qualcomm's SMMUv2 and NVIDIA's MMU-500 implement the Arm architecture they name;
// their implementation quirks (arm-smmu-impl.c) are not modelled.
const HARDWARE_MODEL: Readonly<Record<string, ArmSmmuModel>> = {
  'cavium,smmu-v2': 'arm,smmu-v2',
  'nvidia,smmu-500': 'arm,mmu-500',
  'qcom,smmu-v2': 'arm,smmu-v2',
};

/** Options of {@link OfSmmus}. */
export interface OfSmmusOptions {
  readonly tree: OfTree;
  /** The devices of_platform_populate() created, in creation order. */
  readonly devices: readonly DtDevice[];
  /** The memory the SMMUs walk tables in and their masters' DMA reaches. */
  readonly memory: PhysicalMemory;
  /** The kernel pages tables, queues and stream tables come from. */
  readonly allocator: TablePageAllocator;
  readonly groupIds: IommuGroupIds;
  /** The driver core's DMA-ownership book (`DriverCore.iommuOwnership`). */
  readonly ownership: IommuDmaOwnership;
  readonly onGroupChange?: (device: string, group: IommuGroup | undefined) => void;
  readonly log?: (line: string) => void;
}

/**
 * The IOMMU side of a device-tree host: a register model for every SMMU node populate()
 * made a device for (`ArmSmmuV2` for the arm-smmu compatibles, `ArmSmmuV3` for
 * `arm,smmu-v3`; `dma-coherent` sets CTTW/COHACC), the three drivers to register on the
 * platform bus, and the probe path whose groups they form. Models get the architectural
 * maxima (128 context banks, 128 stream match groups), so groups are limited by SMR overlaps
 * rather than by a guessed implementation size.
 */
export class OfSmmus {
  readonly probe: IommuProbe;
  readonly armSmmu: ArmSmmuDriver;
  readonly armSmmuV3: ArmSmmuV3Driver;
  readonly exynos: ExynosSysmmuDriver;
  /** Register models by device name. */
  readonly models: ReadonlyMap<string, ArmSmmuV2 | ArmSmmuV3>;
  /** The drivers in registration order (module_platform_driver: arm-smmu, arm-smmu-v3, exynos). */
  readonly drivers: readonly DriverSpec[];
  private readonly masterList: readonly IommuMaster[];

  constructor(options: OfSmmusOptions) {
    rejectUnknownOptions(
      options,
      ['tree', 'devices', 'memory', 'allocator', 'groupIds', 'ownership', 'onGroupChange', 'log'],
      'OfSmmus',
    );
    const models = new Map<string, ArmSmmuV2 | ArmSmmuV3>();
    for (const device of options.devices) {
      const node = options.tree.find(device.path);
      if (node === undefined) continue;
      const coherent = isDmaCoherent(options.tree, node);
      const v2 = device.compatible.find((c) => ARM_SMMU_COMPATIBLES[c] !== undefined);
      if (v2 !== undefined) {
        models.set(
          device.name,
          new ArmSmmuV2({
            memory: options.memory,
            model: HARDWARE_MODEL[v2] ?? (v2 as ArmSmmuModel),
            coherentWalk: coherent,
            contextBanks: 128,
            streamMatchGroups: 128,
          }),
        );
      } else if (device.compatible.includes('arm,smmu-v3')) {
        models.set(device.name, new ArmSmmuV3({ memory: options.memory, coherent }));
      }
    }
    this.models = models;
    // bus_iommu_probe order: iommu_buses[] has the platform bus before AMBA.
    this.masterList = [
      ...options.devices.filter((d) => d.bus === 'platform'),
      ...options.devices.filter((d) => d.bus === 'amba'),
    ].map((d) => ({ name: d.name, iommus: d.iommus, dmaCoherent: d.dmaCoherent }));
    this.probe = new IommuProbe({
      groupIds: options.groupIds,
      ownership: options.ownership,
      masters: () => this.masterList,
      ...(options.onGroupChange === undefined ? {} : { onGroupChange: options.onGroupChange }),
    });
    const mmio = (device: { readonly name: string }): MmioDevice | undefined => models.get(device.name);
    const log = options.log ?? (() => undefined);
    this.armSmmu = new ArmSmmuDriver({
      probe: this.probe,
      tree: options.tree,
      mmio,
      allocator: options.allocator,
      log,
    });
    this.armSmmuV3 = new ArmSmmuV3Driver({
      probe: this.probe,
      tree: options.tree,
      mmio,
      allocator: options.allocator,
      log,
    });
    this.exynos = new ExynosSysmmuDriver({ probe: this.probe });
    this.drivers = [this.armSmmu.spec, this.armSmmuV3.spec, this.exynos.spec];
  }

  /** The masters, in `bus_iommu_probe` order. */
  get masters(): readonly IommuMaster[] {
    return this.masterList;
  }

  /** The group of a master. */
  groupOf(device: string): IommuGroup | undefined {
    return this.probe.groupOf(device);
  }

  /** The IOMMU node and stream IDs of a grouped master (arm-smmu: SMR ID, mask dropped). */
  iommuOf(device: string): { readonly node: string; readonly streamIds: readonly number[] } | undefined {
    const group = this.probe.groupOf(device);
    const fwspec = this.probe.fwspecOf(device);
    if (group === undefined || fwspec === undefined) return undefined;
    const endpoint = group.endpoints.find((e) => e.device === device);
    return { node: fwspec.iommu, streamIds: endpoint?.streamIds ?? [] };
  }
}
