/** `TAINT_USER` (include/linux/panic.h): bit 6, "U" — set by VFIO's no-IOMMU groups. */
export const TAINT_USER = 6;
