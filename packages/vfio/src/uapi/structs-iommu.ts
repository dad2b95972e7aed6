import { field, StructCodec } from './layout.js';

// Type1 IOMMU structs of include/uapi/linux/vfio.h (v6.18).

/** `struct vfio_iommu_type1_info` (24; v6.5 named the trailing padding `pad`). */
export const vfioIommuType1Info: StructCodec<{
  argsz: 'u32';
  flags: 'u32';
  iova_pgsizes: 'u64';
  cap_offset: 'u32';
  pad: 'u32';
}> = new StructCodec('vfio_iommu_type1_info', 24, {
  argsz: field('u32', 0),
  flags: field('u32', 4),
  iova_pgsizes: field('u64', 8),
  cap_offset: field('u32', 16),
  pad: field('u32', 20, [6, 5]),
});

/** `struct vfio_iova_range` (16): start and an INCLUSIVE end. */
export const vfioIovaRange: StructCodec<{ start: 'u64'; end: 'u64' }> = new StructCodec(
  'vfio_iova_range',
  16,
  {
    start: field('u64', 0),
    end: field('u64', 8),
  },
);

/** `struct vfio_iommu_type1_info_cap_iova_range` (16, then `vfio_iova_range iova_ranges[]`). */
export const vfioIommuType1InfoCapIovaRange: StructCodec<{
  id: 'u16';
  version: 'u16';
  next: 'u32';
  nr_iovas: 'u32';
  reserved: 'u32';
}> = new StructCodec(
  'vfio_iommu_type1_info_cap_iova_range',
  16,
  {
    id: field('u16', 0),
    version: field('u16', 2),
    next: field('u32', 4),
    nr_iovas: field('u32', 8),
    reserved: field('u32', 12),
  },
  undefined,
  {
    iova_ranges: { element: 'vfio_iova_range', offset: 16, elementSize: 16, count: 'flex' },
  },
);

/** `struct vfio_iommu_type1_info_dma_avail` (12). */
export const vfioIommuType1InfoDmaAvail: StructCodec<{
  id: 'u16';
  version: 'u16';
  next: 'u32';
  avail: 'u32';
}> = new StructCodec('vfio_iommu_type1_info_dma_avail', 12, {
  id: field('u16', 0),
  version: field('u16', 2),
  next: field('u32', 4),
  avail: field('u32', 8),
});

/** `struct vfio_iommu_type1_dma_map` (32). */
export const vfioIommuType1DmaMap: StructCodec<{
  argsz: 'u32';
  flags: 'u32';
  vaddr: 'u64';
  iova: 'u64';
  size: 'u64';
}> = new StructCodec('vfio_iommu_type1_dma_map', 32, {
  argsz: field('u32', 0),
  flags: field('u32', 4),
  vaddr: field('u64', 8),
  iova: field('u64', 16),
  size: field('u64', 24),
});

/** `struct vfio_iommu_type1_dma_unmap` (24, then `__u8 data[]`). */
export const vfioIommuType1DmaUnmap: StructCodec<{ argsz: 'u32'; flags: 'u32'; iova: 'u64'; size: 'u64' }> =
  new StructCodec(
    'vfio_iommu_type1_dma_unmap',
    24,
    {
      argsz: field('u32', 0),
      flags: field('u32', 4),
      iova: field('u64', 8),
      size: field('u64', 16),
    },
    undefined,
    {
      // The vfio_bitmap of GET_DIRTY_BITMAP follows the header.
      data: { element: 'u8', offset: 24, elementSize: 1, count: 'flex' },
    },
  );

/** `struct vfio_iommu_type1_info_cap_migration` (32). */
export const vfioIommuType1InfoCapMigration: StructCodec<{
  id: 'u16';
  version: 'u16';
  next: 'u32';
  flags: 'u32';
  pgsize_bitmap: 'u64';
  max_dirty_bitmap_size: 'u64';
}> = new StructCodec('vfio_iommu_type1_info_cap_migration', 32, {
  id: field('u16', 0),
  version: field('u16', 2),
  next: field('u32', 4),
  flags: field('u32', 8),
  pgsize_bitmap: field('u64', 16),
  max_dirty_bitmap_size: field('u64', 24),
});
