// @vfiokit/smmu: io-pgtable-arm page tables in PhysicalMemory and the Arm SMMU models that
// walk them. Everything public is named here.

export {
  ARM_SMMU_COMPATIBLES,
  type ArmSmmuContextFault,
  ArmSmmuDriver,
  type ArmSmmuDriverOptions,
  type ArmSmmuGlobalFault,
  ArmSmmuInstance,
  armSmmuResvRegions,
} from './drivers/arm-smmu.js';
export {
  type SmmuDomainHost,
  SmmuDriverDomain,
  type SmmuDriverDomainOptions,
} from './drivers/arm-smmu-domain.js';
export {
  type ArmSmmuS2cr,
  type ArmSmmuSmr,
  ArmSmmuStreamMap,
  smrId,
  smrMask,
} from './drivers/arm-smmu-stream-map.js';
export { ArmSmmuV3Driver, type ArmSmmuV3DriverOptions, ArmSmmuV3Instance } from './drivers/arm-smmu-v3.js';
export { ExynosSysmmuDriver, type ExynosSysmmuDriverOptions } from './drivers/exynos-sysmmu.js';
export type { IommuFwspec, IommuLink, IommuMaster, IommuOps } from './drivers/iommu-master.js';
export { IommuProbe, type IommuProbeOptions, type IommuProbeOutcome } from './drivers/iommu-probe.js';
export { OfSmmus, type OfSmmusOptions } from './drivers/of-smmus.js';
export { Iotlb, type IotlbEntry, iotlbTag } from './hw/iotlb.js';
export { SmmuDmaPort, type SmmuDmaPortOptions, type StreamTranslator } from './hw/smmu-dma-port.js';
export { type ArmSmmuModel, ArmSmmuV2, type ArmSmmuV2Events, type ArmSmmuV2Options } from './hw/smmu-v2.js';
/** Register offsets and fields of SMMUv1/v2 (arm-smmu.h names), for drivers that program the model. */
export * as smmuV2Regs from './hw/smmu-v2-regs.js';
export { ArmSmmuV3, type ArmSmmuV3Events, type ArmSmmuV3Options } from './hw/smmu-v3.js';
/** Registers, STE/CD fields, command opcodes and event IDs of SMMUv3 (arm-smmu-v3.h names). */
export * as smmuV3Regs from './hw/smmu-v3-regs.js';
export {
  granuleBitsOfTg0,
  outputBitsOfPs,
  stage1StartLevel,
  stage2StartLevel,
  TableWalker,
  type WalkRegime,
} from './hw/table-walker.js';
export {
  ArmLpaeIoPgtable,
  type ArmLpaeS1Cfg,
  type ArmLpaeS2Cfg,
  hasPgsize,
  type IommuFlushOps,
  type IoPgtableConfig,
  type IoPgtableFormat,
} from './pgtable/io-pgtable-arm.js';
export { iommu_pgsize, type PgsizeCount } from './pgtable/iommu-pgsize.js';
export { ArmLpaeDomain, type ArmLpaeDomainOptions, type DomainFlushOps } from './pgtable/lpae-domain.js';
export { TablePageAllocator, type TablePageAllocatorOptions } from './pgtable/page-allocator.js';
