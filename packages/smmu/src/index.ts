// @vfiokit/smmu: io-pgtable-arm page tables in PhysicalMemory and the Arm SMMU models that
// walk them. Everything public is named here.
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
