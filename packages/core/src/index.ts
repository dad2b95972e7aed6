export { EventEmitter } from 'eventemitter3';
export {
  type Address,
  type AnyAddress,
  type GuestPhysAddr,
  guestPhysAddr,
  type Iova,
  iova,
  type PhysAddr,
  physAddr,
  toSafeNumber,
} from './address.js';
export {
  type AddressRange,
  addressRange,
  alignDown,
  alignUp,
  checkedAdd,
  checkedDistance,
  isAligned,
  isPageSize,
  PAGE_SIZE_4K,
  PAGE_SIZE_16K,
  PAGE_SIZE_64K,
  type PageSize,
  rangeContains,
  rangeContainsAddress,
  rangeEnd,
  rangesOverlap,
} from './address-math.js';
export { type DmaPort, type DmaPortOptions, TranslatedDmaPort } from './dma-port.js';
export { ERRNO, type ErrnoName, errnoName, errnoNumber, isErrnoName } from './errno.js';
export { EventFd, type EventFdEvents, type EventFdOptions } from './eventfd.js';
export { BlockingDomain, IdentityDomain } from './iommu/core-domains.js';
export { IommuDmaOwnership } from './iommu/dma-ownership.js';
export { IommuGroupIda, type IommuGroupIds } from './iommu/group-ids.js';
export {
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuAccess,
  type IommuDomain,
  type IommuDomainType,
  type IommuEndpoint,
  type IommuFault,
  type IommuFaultKind,
  type IommuProt,
  type IommuReservedRegion,
  type IommuReservedRegionType,
  isIommuFault,
  minPageSize,
} from './iommu/iommu-domain.js';
export { IommuGroup, type IommuGroupOptions } from './iommu/iommu-group.js';
export {
  groupReservedRegions,
  insertReservedRegion,
  MSI_IOVA_BASE,
  MSI_IOVA_LENGTH,
  RESV_TYPE_NAMES,
  swMsiRegion,
} from './iommu/resv-regions.js';
export { fail, isKernelError, KernelError, type KernelErrorOptions } from './kernel-error.js';
export { checkKernelVersion, type KernelVersion, kernelAtLeast } from './kernel-version.js';
export type { AccessSize, MmioDevice } from './mmio-device.js';
export { rejectUnknownOptions } from './options.js';
export { PhysicalMemory, type PhysicalMemoryOptions } from './physical-memory.js';
export type { ResetHandler, ResetTarget } from './reset-handler.js';
export { ImmediateScheduler, ManualScheduler, type PendingTask, type Scheduler } from './scheduler.js';
