// Flag bits and capability ids of include/uapi/linux/vfio.h (v6.18).

// struct vfio_group_status.flags
export const VFIO_GROUP_FLAGS_VIABLE: number = 1 << 0;
export const VFIO_GROUP_FLAGS_CONTAINER_SET: number = 1 << 1;

// struct vfio_device_info.flags
export const VFIO_DEVICE_FLAGS_RESET: number = 1 << 0;
export const VFIO_DEVICE_FLAGS_PCI: number = 1 << 1;
export const VFIO_DEVICE_FLAGS_PLATFORM: number = 1 << 2;
export const VFIO_DEVICE_FLAGS_AMBA: number = 1 << 3;
export const VFIO_DEVICE_FLAGS_CCW: number = 1 << 4;
export const VFIO_DEVICE_FLAGS_AP: number = 1 << 5;
export const VFIO_DEVICE_FLAGS_FSL_MC: number = 1 << 6;
export const VFIO_DEVICE_FLAGS_CAPS: number = 1 << 7;

// struct vfio_region_info.flags
export const VFIO_REGION_INFO_FLAG_READ: number = 1 << 0;
export const VFIO_REGION_INFO_FLAG_WRITE: number = 1 << 1;
export const VFIO_REGION_INFO_FLAG_MMAP: number = 1 << 2;
export const VFIO_REGION_INFO_FLAG_CAPS: number = 1 << 3;

// struct vfio_irq_info.flags
export const VFIO_IRQ_INFO_EVENTFD: number = 1 << 0;
export const VFIO_IRQ_INFO_MASKABLE: number = 1 << 1;
export const VFIO_IRQ_INFO_AUTOMASKED: number = 1 << 2;
export const VFIO_IRQ_INFO_NORESIZE: number = 1 << 3;

// struct vfio_irq_set.flags
export const VFIO_IRQ_SET_DATA_NONE: number = 1 << 0;
export const VFIO_IRQ_SET_DATA_BOOL: number = 1 << 1;
export const VFIO_IRQ_SET_DATA_EVENTFD: number = 1 << 2;
export const VFIO_IRQ_SET_ACTION_MASK: number = 1 << 3;
export const VFIO_IRQ_SET_ACTION_UNMASK: number = 1 << 4;
export const VFIO_IRQ_SET_ACTION_TRIGGER: number = 1 << 5;
export const VFIO_IRQ_SET_DATA_TYPE_MASK: number =
  VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_EVENTFD;
export const VFIO_IRQ_SET_ACTION_TYPE_MASK: number =
  VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER;

// struct vfio_iommu_type1_info.flags and its capability ids
export const VFIO_IOMMU_INFO_PGSIZES: number = 1 << 0;
export const VFIO_IOMMU_INFO_CAPS: number = 1 << 1;
export const VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE = 1;
export const VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION = 2;
export const VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL = 3;

// struct vfio_iommu_type1_dma_map.flags
export const VFIO_DMA_MAP_FLAG_READ: number = 1 << 0;
export const VFIO_DMA_MAP_FLAG_WRITE: number = 1 << 1;
export const VFIO_DMA_MAP_FLAG_VADDR: number = 1 << 2;

// struct vfio_iommu_type1_dma_unmap.flags
export const VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP: number = 1 << 0;
export const VFIO_DMA_UNMAP_FLAG_ALL: number = 1 << 1;
export const VFIO_DMA_UNMAP_FLAG_VADDR: number = 1 << 2;

// struct vfio_device_feature.flags
export const VFIO_DEVICE_FEATURE_MASK = 0xffff;
export const VFIO_DEVICE_FEATURE_GET: number = 1 << 16;
export const VFIO_DEVICE_FEATURE_SET: number = 1 << 17;
export const VFIO_DEVICE_FEATURE_PROBE: number = 1 << 18;
// Feature indexes the core handles itself.
export const VFIO_DEVICE_FEATURE_MIGRATION = 1;
export const VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE = 2;
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_START = 6;
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP = 7;
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT = 8;
export const VFIO_DEVICE_FEATURE_MIG_DATA_SIZE = 9;
