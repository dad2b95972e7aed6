/**
 * @vfiokit/vfio — VFIO containers, groups and device fds with the kernel's semantics, the
 * type1 IOMMU backend over core's IommuDomain, the vfio-platform / vfio-amba meta drivers on
 * platform-bus, and the `<linux/vfio.h>` UAPI codec.
 */

// --- the user side: the syscall seam, a process, typed handles ---
export { type DmaMapping, type IommuInfo, VfioContainerHandle } from './api/container-handle.js';
export { type DeviceInfo, type IrqInfo, type RegionInfo, VfioDeviceHandle } from './api/device-handle.js';
export { type GroupStatus, VfioGroupHandle } from './api/group-handle.js';
export { type IrqAction, type IrqSet, irqSetRequest } from './api/irq-set.js';
// --- the kernel side: core, groups, containers, type1 ---
export { type ContainerDriver, VfioContainer } from './container/container.js';
export { VfioDeviceFile } from './device/device-file.js';
export { type IrqSetHeader, vfioSetIrqsValidateAndPrepare } from './device/set-irqs-validate.js';
export { VfioDevice, type VfioDeviceOps, type VfioDeviceSpec } from './device/vfio-device.js';
export { VfioGroupFile } from './group/group-file.js';
export { VfioGroup, type VfioGroupKind } from './group/vfio-group.js';
export { IommuGroupIda, type IommuGroupIds } from './iommu/group-ids.js';
export { IommuGroup, type IommuGroupOptions } from './iommu/iommu-group.js';
// --- interrupts ---
export {
  type HostIrqChip,
  type IrqReturn,
  type IrqTriggerType,
  isLevel,
  type RequestIrqOptions,
} from './irq/host-irq-chip.js';
export { SimpleIrqChip } from './irq/simple-irq-chip.js';
export { Virqfd } from './irq/virqfd.js';
export type { ModuleParamValue } from './kernel/module-params.js';
export { TAINT_USER } from './kernel/taint.js';
// --- vfio-platform / vfio-amba ---
export type { PlatformResource, VfioPlatformBinder } from './platform/binder.js';
export {
  VfioPlatformDevice,
  type VfioPlatformEnvironment,
  type VfioPlatformEvent,
} from './platform/common.js';
export type { DmaCapabilityPolicy, DmaVerdict } from './platform/dma-policy.js';
export { type PlatformIrq, PlatformIrqs } from './platform/irq.js';
export {
  type BinderFactory,
  type VfioMetaDriverData,
  type VfioMetaDriverOptions,
  vfioMetaDriver,
  vfioMetaDriverData,
} from './platform/meta-driver.js';
export type { PlatformRegion } from './platform/regions.js';
export {
  AMBA_NR_IRQS,
  VFIO_AMBA_DEPRECATION,
  vfioAmbaDeprecation,
  vfioAmbaDriver,
} from './platform/vfio-amba.js';
export { type VfioPlatformDriverOptions, vfioPlatformDriver } from './platform/vfio-platform.js';
export {
  bindReportsProbeError,
  KERNEL_V6_18,
  type KernelProfile,
  kernelAtLeast,
  perDeviceMsiIsolation,
  viabilityByDmaOwnership,
} from './profile.js';
export { type MsiIsolation, NO_ISOLATED_MSI } from './type1/msi-isolation.js';
export { Type1Iommu, type Type1Params } from './type1/type1-iommu.js';
// --- UAPI: include/uapi/linux/vfio.h (v6.18), constants and struct layouts only ---
export {
  VFIO_DEVICE_FLAGS_AMBA,
  VFIO_DEVICE_FLAGS_AP,
  VFIO_DEVICE_FLAGS_CAPS,
  VFIO_DEVICE_FLAGS_CCW,
  VFIO_DEVICE_FLAGS_FSL_MC,
  VFIO_DEVICE_FLAGS_PCI,
  VFIO_DEVICE_FLAGS_PLATFORM,
  VFIO_DEVICE_FLAGS_RESET,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_VADDR,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
  VFIO_DMA_UNMAP_FLAG_VADDR,
  VFIO_GROUP_FLAGS_CONTAINER_SET,
  VFIO_GROUP_FLAGS_VIABLE,
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_INFO_PGSIZES,
  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
  VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION,
  VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
  VFIO_IRQ_INFO_AUTOMASKED,
  VFIO_IRQ_INFO_EVENTFD,
  VFIO_IRQ_INFO_MASKABLE,
  VFIO_IRQ_INFO_NORESIZE,
  VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_TYPE_MASK,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_IRQ_SET_DATA_TYPE_MASK,
  VFIO_REGION_INFO_FLAG_CAPS,
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
} from './uapi/flags.js';
export {
  _IO,
  VFIO_API_VERSION,
  VFIO_BASE,
  VFIO_CHECK_EXTENSION,
  VFIO_DEVICE_GET_INFO,
  VFIO_DEVICE_GET_IRQ_INFO,
  VFIO_DEVICE_GET_REGION_INFO,
  VFIO_DEVICE_RESET,
  VFIO_DEVICE_SET_IRQS,
  VFIO_DMA_CC_IOMMU,
  VFIO_EEH,
  VFIO_GET_API_VERSION,
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_GET_STATUS,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_GROUP_UNSET_CONTAINER,
  VFIO_IOMMU_DIRTY_PAGES,
  VFIO_IOMMU_GET_INFO,
  VFIO_IOMMU_MAP_DMA,
  VFIO_IOMMU_UNMAP_DMA,
  VFIO_NOIOMMU_IOMMU,
  VFIO_SET_IOMMU,
  VFIO_SPAPR_TCE_IOMMU,
  VFIO_SPAPR_TCE_v2_IOMMU,
  VFIO_TYPE,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  VFIO_UNMAP_ALL,
  VFIO_UPDATE_VADDR,
} from './uapi/ioctls.js';
export {
  type FieldLayout,
  type FieldSpec,
  type FieldType,
  type KernelVersion,
  StructCodec,
  type StructInput,
  type StructLayout,
  type StructValue,
} from './uapi/layout.js';
export {
  VFIO_PLATFORM_OFFSET_MASK,
  VFIO_PLATFORM_OFFSET_SHIFT,
  vfioPlatformIndexToOffset,
  vfioPlatformSplitOffset,
} from './uapi/platform-offsets.js';
export { UAPI_CODECS, UAPI_CONSTANTS, UAPI_STRUCTS } from './uapi/records.js';
export { vfioDeviceInfo, vfioGroupStatus, vfioInfoCapHeader, vfioRegionInfo } from './uapi/structs-device.js';
export {
  vfioIommuType1DmaMap,
  vfioIommuType1DmaUnmap,
  vfioIommuType1Info,
  vfioIommuType1InfoCapIovaRange,
  vfioIommuType1InfoCapMigration,
  vfioIommuType1InfoDmaAvail,
  vfioIovaRange,
} from './uapi/structs-iommu.js';
export { encodeIrqSet, type IrqSetRequest, vfioIrqInfo, vfioIrqSet } from './uapi/structs-irq.js';
export { UapiError } from './uapi/uapi-error.js';
export { type PinnedChunk, UserAddressSpace, type UserTarget } from './user/address-space.js';
export type { IoctlArg, MmapRequest, MmapResult, VfioFile } from './user/file.js';
export { UserProcess, type UserProcessOptions } from './user/process.js';
export type { VfioSyscalls } from './user/syscalls.js';
export type { Capability, Mm, Task } from './user/task.js';
export {
  type FakeIommuGroup,
  Vfio,
  type VfioGroupDeviceSpec,
  type VfioOptions,
  type VfioParams,
} from './vfio.js';
