/**
 * @vfiokit/iommufd — `/dev/iommu` of Linux 6.12 (drivers/iommu/iommufd): contexts, IO address
 * spaces, HW pagetables over core's IOMMU groups and domains, bound devices and the
 * `iommufd_access` of emulated devices, and the `<linux/iommufd.h>` UAPI (constants, struct layouts).
 */
export {
  type HwInfo,
  type HwInfoArgs,
  type HwptAllocArgs,
  type IoasCopyArgs,
  type IoasMapArgs,
  type IommufdBindOptions,
  IommufdContext,
  type IommufdContextOptions,
  type IovaRanges,
  type OptionArgs,
} from './context.js';
export {
  IOMMUFD_ACCESS_RW_KTHREAD,
  IOMMUFD_ACCESS_RW_READ,
  IOMMUFD_ACCESS_RW_WRITE,
  IommufdAccess,
  type IommufdAccessOps,
} from './device/access.js';
export { IommufdDevice, type IommufdGroupState } from './device/device.js';
export { IommufdHwptPaging } from './device/hwpt.js';
export {
  hwptGetDirtyBitmap,
  hwptInvalidate,
  hwptSetDirtyTracking,
  IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX,
} from './device/hwpt-ioctls.js';
export { IommufdFile } from './file.js';
export { PAGE_SIZE, type U64, U64_MAX, ULONG_MAX } from './ioas/bits.js';
export type { Interval } from './ioas/intervals.js';
export { IoPagetable, type IoptArea } from './ioas/io-pagetable.js';
export { IommufdIoas } from './ioas/ioas.js';
export { IoptPages, type PagesAccountMode } from './ioas/pages.js';
export { iommufdIoctl } from './ioctl.js';
export {
  iommufd_access_attach,
  iommufd_access_create,
  iommufd_access_destroy,
  iommufd_access_detach,
  iommufd_access_pin_pages,
  iommufd_access_rw,
  iommufd_access_unpin_pages,
  iommufd_device_attach,
  iommufd_device_bind,
  iommufd_device_detach,
  iommufd_device_unbind,
} from './kernel-api.js';
export { IommufdObject, type IommufdObjectType } from './objects/object-table.js';
export type {
  IommufdCapability,
  IommufdMm,
  IommufdTask,
  IommufdUser,
  IommufdUserChunk,
  IommufdUserMemory,
} from './task.js';
// --- the UAPI of <linux/iommufd.h> (Linux 6.12) ---
export {
  IOMMU_DESTROY,
  IOMMU_GET_HW_INFO,
  IOMMU_HW_CAP_DIRTY_TRACKING,
  IOMMU_HW_CAP_PCI_PASID_EXEC,
  IOMMU_HW_CAP_PCI_PASID_PRIV,
  IOMMU_HW_INFO_TYPE_INTEL_VTD,
  IOMMU_HW_INFO_TYPE_NONE,
  IOMMU_HWPT_ALLOC,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_HWPT_DATA_NONE,
  IOMMU_HWPT_DATA_VTD_S1,
  IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
  IOMMU_HWPT_FAULT_ID_VALID,
  IOMMU_HWPT_GET_DIRTY_BITMAP,
  IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR,
  IOMMU_HWPT_INVALIDATE,
  IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
  IOMMU_HWPT_SET_DIRTY_TRACKING,
  IOMMU_IOAS_ALLOC,
  IOMMU_IOAS_ALLOW_IOVAS,
  IOMMU_IOAS_COPY,
  IOMMU_IOAS_IOVA_RANGES,
  IOMMU_IOAS_MAP,
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_IOAS_UNMAP,
  IOMMU_OPTION,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_GET,
  IOMMU_OPTION_OP_SET,
  IOMMU_OPTION_RLIMIT_MODE,
  IOMMU_VFIO_IOAS,
  IOMMU_VFIO_IOAS_CLEAR,
  IOMMU_VFIO_IOAS_GET,
  IOMMU_VFIO_IOAS_SET,
  IOMMUFD_CMD_BASE,
  IOMMUFD_CMD_DESTROY,
  IOMMUFD_CMD_FAULT_QUEUE_ALLOC,
  IOMMUFD_CMD_GET_HW_INFO,
  IOMMUFD_CMD_HWPT_ALLOC,
  IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP,
  IOMMUFD_CMD_HWPT_INVALIDATE,
  IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING,
  IOMMUFD_CMD_IOAS_ALLOC,
  IOMMUFD_CMD_IOAS_ALLOW_IOVAS,
  IOMMUFD_CMD_IOAS_COPY,
  IOMMUFD_CMD_IOAS_IOVA_RANGES,
  IOMMUFD_CMD_IOAS_MAP,
  IOMMUFD_CMD_IOAS_UNMAP,
  IOMMUFD_CMD_OPTION,
  IOMMUFD_CMD_VFIO_IOAS,
  IOMMUFD_CONSTANTS,
  IOMMUFD_TYPE,
} from './uapi/constants.js';
export {
  decodeStruct,
  encodeStruct,
  IOMMU_DESTROY_STRUCT,
  IOMMU_HW_INFO_STRUCT,
  IOMMU_HWPT_ALLOC_STRUCT,
  IOMMU_HWPT_GET_DIRTY_BITMAP_STRUCT,
  IOMMU_HWPT_INVALIDATE_STRUCT,
  IOMMU_HWPT_SET_DIRTY_TRACKING_STRUCT,
  IOMMU_IOAS_ALLOC_STRUCT,
  IOMMU_IOAS_ALLOW_IOVAS_STRUCT,
  IOMMU_IOAS_COPY_STRUCT,
  IOMMU_IOAS_IOVA_RANGES_STRUCT,
  IOMMU_IOAS_MAP_STRUCT,
  IOMMU_IOAS_UNMAP_STRUCT,
  IOMMU_IOVA_RANGE_STRUCT,
  IOMMU_OPTION_STRUCT,
  IOMMU_VFIO_IOAS_STRUCT,
  IOMMUFD_STRUCTS,
  type IommufdField,
  type IommufdStruct,
} from './uapi/structs.js';
export {
  iommufdVfioIoctl,
  VFIO_COMPAT_CHECK_EXTENSION,
  VFIO_COMPAT_GET_API_VERSION,
  VFIO_COMPAT_IOMMU_GET_INFO,
  VFIO_COMPAT_IOMMU_MAP_DMA,
  VFIO_COMPAT_IOMMU_UNMAP_DMA,
  VFIO_COMPAT_SET_IOMMU,
  type VfioCompatConfig,
} from './vfio-compat.js';
