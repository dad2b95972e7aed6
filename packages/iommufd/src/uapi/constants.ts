// <linux/iommufd.h> of Linux 6.12 (include/uapi/linux/iommufd.h): the constants the model
// serves, checked against the real header by c-header.test.ts.

/** `IOMMUFD_TYPE` (';'). */
export const IOMMUFD_TYPE = 0x3b;

export const IOMMUFD_CMD_BASE = 0x80;
export const IOMMUFD_CMD_DESTROY = 0x80;
export const IOMMUFD_CMD_IOAS_ALLOC = 0x81;
export const IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82;
export const IOMMUFD_CMD_IOAS_COPY = 0x83;
export const IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84;
export const IOMMUFD_CMD_IOAS_MAP = 0x85;
export const IOMMUFD_CMD_IOAS_UNMAP = 0x86;
export const IOMMUFD_CMD_OPTION = 0x87;
export const IOMMUFD_CMD_VFIO_IOAS = 0x88;
export const IOMMUFD_CMD_HWPT_ALLOC = 0x89;
export const IOMMUFD_CMD_GET_HW_INFO = 0x8a;
export const IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b;
export const IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c;
export const IOMMUFD_CMD_HWPT_INVALIDATE = 0x8d;
export const IOMMUFD_CMD_FAULT_QUEUE_ALLOC = 0x8e;

/** `_IO(IOMMUFD_TYPE, nr)`: iommufd's ioctls carry no size in the number (the struct's first u32 is it). */
function io(nr: number): number {
  return (IOMMUFD_TYPE << 8) | nr;
}

export const IOMMU_DESTROY: number = io(IOMMUFD_CMD_DESTROY);
export const IOMMU_IOAS_ALLOC: number = io(IOMMUFD_CMD_IOAS_ALLOC);
export const IOMMU_IOAS_ALLOW_IOVAS: number = io(IOMMUFD_CMD_IOAS_ALLOW_IOVAS);
export const IOMMU_IOAS_COPY: number = io(IOMMUFD_CMD_IOAS_COPY);
export const IOMMU_IOAS_IOVA_RANGES: number = io(IOMMUFD_CMD_IOAS_IOVA_RANGES);
export const IOMMU_IOAS_MAP: number = io(IOMMUFD_CMD_IOAS_MAP);
export const IOMMU_IOAS_UNMAP: number = io(IOMMUFD_CMD_IOAS_UNMAP);
export const IOMMU_OPTION: number = io(IOMMUFD_CMD_OPTION);
export const IOMMU_VFIO_IOAS: number = io(IOMMUFD_CMD_VFIO_IOAS);
export const IOMMU_HWPT_ALLOC: number = io(IOMMUFD_CMD_HWPT_ALLOC);
export const IOMMU_GET_HW_INFO: number = io(IOMMUFD_CMD_GET_HW_INFO);
export const IOMMU_HWPT_SET_DIRTY_TRACKING: number = io(IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING);
export const IOMMU_HWPT_GET_DIRTY_BITMAP: number = io(IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP);
export const IOMMU_HWPT_INVALIDATE: number = io(IOMMUFD_CMD_HWPT_INVALIDATE);

/** `enum iommufd_hwpt_set_dirty_tracking_flags`, `enum iommufd_hwpt_get_dirty_bitmap_flags`. */
export const IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1;
export const IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1;
/** `enum iommu_hwpt_invalidate_data_type`. */
export const IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0;

/** `enum iommufd_ioas_map_flags`. */
export const IOMMU_IOAS_MAP_FIXED_IOVA: number = 1 << 0;
export const IOMMU_IOAS_MAP_WRITEABLE: number = 1 << 1;
export const IOMMU_IOAS_MAP_READABLE: number = 1 << 2;

/** `enum iommufd_option`. */
export const IOMMU_OPTION_RLIMIT_MODE = 0;
export const IOMMU_OPTION_HUGE_PAGES = 1;
/** `enum iommufd_option_ops`. */
export const IOMMU_OPTION_OP_SET = 0;
export const IOMMU_OPTION_OP_GET = 1;

/** `enum iommufd_vfio_ioas_op`. */
export const IOMMU_VFIO_IOAS_GET = 0;
export const IOMMU_VFIO_IOAS_SET = 1;
export const IOMMU_VFIO_IOAS_CLEAR = 2;

/** `enum iommufd_hwpt_alloc_flags`. */
export const IOMMU_HWPT_ALLOC_NEST_PARENT: number = 1 << 0;
export const IOMMU_HWPT_ALLOC_DIRTY_TRACKING: number = 1 << 1;
export const IOMMU_HWPT_FAULT_ID_VALID: number = 1 << 2;
/** `enum iommu_hwpt_data_type`. */
export const IOMMU_HWPT_DATA_NONE = 0;
export const IOMMU_HWPT_DATA_VTD_S1 = 1;

/** `enum iommu_hw_info_type`. */
export const IOMMU_HW_INFO_TYPE_NONE = 0;
export const IOMMU_HW_INFO_TYPE_INTEL_VTD = 1;
/** `enum iommufd_hw_capabilities`. */
export const IOMMU_HW_CAP_DIRTY_TRACKING: number = 1 << 0;
export const IOMMU_HW_CAP_PCI_PASID_EXEC: number = 1 << 1;
export const IOMMU_HW_CAP_PCI_PASID_PRIV: number = 1 << 2;

/** Every constant above by its header name, for the C comparison. */
export const IOMMUFD_CONSTANTS: Readonly<Record<string, number>> = {
  IOMMUFD_TYPE,
  IOMMUFD_CMD_BASE,
  IOMMUFD_CMD_DESTROY,
  IOMMUFD_CMD_IOAS_ALLOC,
  IOMMUFD_CMD_IOAS_ALLOW_IOVAS,
  IOMMUFD_CMD_IOAS_COPY,
  IOMMUFD_CMD_IOAS_IOVA_RANGES,
  IOMMUFD_CMD_IOAS_MAP,
  IOMMUFD_CMD_IOAS_UNMAP,
  IOMMUFD_CMD_OPTION,
  IOMMUFD_CMD_VFIO_IOAS,
  IOMMUFD_CMD_HWPT_ALLOC,
  IOMMUFD_CMD_GET_HW_INFO,
  IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING,
  IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP,
  IOMMUFD_CMD_HWPT_INVALIDATE,
  IOMMUFD_CMD_FAULT_QUEUE_ALLOC,
  IOMMU_DESTROY,
  IOMMU_IOAS_ALLOC,
  IOMMU_IOAS_ALLOW_IOVAS,
  IOMMU_IOAS_COPY,
  IOMMU_IOAS_IOVA_RANGES,
  IOMMU_IOAS_MAP,
  IOMMU_IOAS_UNMAP,
  IOMMU_OPTION,
  IOMMU_VFIO_IOAS,
  IOMMU_HWPT_ALLOC,
  IOMMU_GET_HW_INFO,
  IOMMU_HWPT_SET_DIRTY_TRACKING,
  IOMMU_HWPT_GET_DIRTY_BITMAP,
  IOMMU_HWPT_INVALIDATE,
  IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
  IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR,
  IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_OPTION_RLIMIT_MODE,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_SET,
  IOMMU_OPTION_OP_GET,
  IOMMU_VFIO_IOAS_GET,
  IOMMU_VFIO_IOAS_SET,
  IOMMU_VFIO_IOAS_CLEAR,
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_FAULT_ID_VALID,
  IOMMU_HWPT_DATA_NONE,
  IOMMU_HWPT_DATA_VTD_S1,
  IOMMU_HW_INFO_TYPE_NONE,
  IOMMU_HW_INFO_TYPE_INTEL_VTD,
  IOMMU_HW_CAP_DIRTY_TRACKING,
  IOMMU_HW_CAP_PCI_PASID_EXEC,
  IOMMU_HW_CAP_PCI_PASID_PRIV,
};
