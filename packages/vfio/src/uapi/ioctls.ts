// include/uapi/linux/vfio.h (checked against v6.18; the C-header test compares with the
// installed header). Every VFIO ioctl is `_IO(VFIO_TYPE, VFIO_BASE + n)`: no size or direction
// bits, because each struct carries its own `argsz` (see the header's comment above VFIO_TYPE).

/** `VFIO_API_VERSION`: what `VFIO_GET_API_VERSION` returns. */
export const VFIO_API_VERSION = 0;
/** `VFIO_TYPE`: `';'`. */
export const VFIO_TYPE = 0x3b;
/** `VFIO_BASE`. */
export const VFIO_BASE = 100;

/** `_IO(type, nr)` of include/uapi/asm-generic/ioctl.h: `(type << 8) | nr`, direction and size 0. */
export function _IO(type: number, nr: number): number {
  return ((type & 0xff) << 8) | (nr & 0xff);
}

// Container (/dev/vfio/vfio).
export const VFIO_GET_API_VERSION: number = _IO(VFIO_TYPE, VFIO_BASE + 0);
export const VFIO_CHECK_EXTENSION: number = _IO(VFIO_TYPE, VFIO_BASE + 1);
export const VFIO_SET_IOMMU: number = _IO(VFIO_TYPE, VFIO_BASE + 2);
// Group (/dev/vfio/<id>).
export const VFIO_GROUP_GET_STATUS: number = _IO(VFIO_TYPE, VFIO_BASE + 3);
export const VFIO_GROUP_SET_CONTAINER: number = _IO(VFIO_TYPE, VFIO_BASE + 4);
export const VFIO_GROUP_UNSET_CONTAINER: number = _IO(VFIO_TYPE, VFIO_BASE + 5);
export const VFIO_GROUP_GET_DEVICE_FD: number = _IO(VFIO_TYPE, VFIO_BASE + 6);
// Device fd.
export const VFIO_DEVICE_GET_INFO: number = _IO(VFIO_TYPE, VFIO_BASE + 7);
export const VFIO_DEVICE_GET_REGION_INFO: number = _IO(VFIO_TYPE, VFIO_BASE + 8);
export const VFIO_DEVICE_GET_IRQ_INFO: number = _IO(VFIO_TYPE, VFIO_BASE + 9);
export const VFIO_DEVICE_SET_IRQS: number = _IO(VFIO_TYPE, VFIO_BASE + 10);
export const VFIO_DEVICE_RESET: number = _IO(VFIO_TYPE, VFIO_BASE + 11);
// Device fd, handled by the VFIO core itself (vfio_device_fops_unl_ioctl), not the bus driver.
export const VFIO_DEVICE_FEATURE: number = _IO(VFIO_TYPE, VFIO_BASE + 17);
export const VFIO_DEVICE_BIND_IOMMUFD: number = _IO(VFIO_TYPE, VFIO_BASE + 18);
export const VFIO_DEVICE_ATTACH_IOMMUFD_PT: number = _IO(VFIO_TYPE, VFIO_BASE + 19);
export const VFIO_DEVICE_DETACH_IOMMUFD_PT: number = _IO(VFIO_TYPE, VFIO_BASE + 20);
// Type1 IOMMU, on the container once VFIO_SET_IOMMU succeeded. The numbers overlap the
// device ioctls (12 = GET_PCI_HOT_RESET_INFO); the fd's type tells them apart.
export const VFIO_IOMMU_GET_INFO: number = _IO(VFIO_TYPE, VFIO_BASE + 12);
export const VFIO_IOMMU_MAP_DMA: number = _IO(VFIO_TYPE, VFIO_BASE + 13);
export const VFIO_IOMMU_UNMAP_DMA: number = _IO(VFIO_TYPE, VFIO_BASE + 14);
export const VFIO_IOMMU_DIRTY_PAGES: number = _IO(VFIO_TYPE, VFIO_BASE + 17);

// Extensions and IOMMU types (VFIO_CHECK_EXTENSION / VFIO_SET_IOMMU arguments).
export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_SPAPR_TCE_IOMMU = 2;
export const VFIO_TYPE1v2_IOMMU = 3;
export const VFIO_DMA_CC_IOMMU = 4;
export const VFIO_EEH = 5;
export const VFIO_SPAPR_TCE_v2_IOMMU = 7;
export const VFIO_NOIOMMU_IOMMU = 8;
export const VFIO_UNMAP_ALL = 9;
export const VFIO_UPDATE_VADDR = 10;
