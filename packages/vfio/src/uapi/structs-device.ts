import { field, StructCodec } from './layout.js';

// Struct layouts of include/uapi/linux/vfio.h (v6.18) for groups and devices; little-endian
// as on arm64. `since` marks fields newer than the v6.1 header CI compiles against.

/** `struct vfio_info_cap_header` (8): id, version, next (offset from the start of the info struct). */
export const vfioInfoCapHeader: StructCodec<{ id: 'u16'; version: 'u16'; next: 'u32' }> = new StructCodec(
  'vfio_info_cap_header',
  8,
  { id: field('u16', 0), version: field('u16', 2), next: field('u32', 4) },
);

/** `struct vfio_group_status` (8). */
export const vfioGroupStatus: StructCodec<{ argsz: 'u32'; flags: 'u32' }> = new StructCodec(
  'vfio_group_status',
  8,
  {
    argsz: field('u32', 0),
    flags: field('u32', 4),
  },
);

/**
 * `struct vfio_device_info` (24 since v6.5, whose "vfio: align capability structures" added
 * `pad`; 20 before). Userspace of the v6.1 era passes argsz 20 or 16 (= minsz).
 */
export const vfioDeviceInfo: StructCodec<{
  argsz: 'u32';
  flags: 'u32';
  num_regions: 'u32';
  num_irqs: 'u32';
  cap_offset: 'u32';
  pad: 'u32';
}> = new StructCodec(
  'vfio_device_info',
  24,
  {
    argsz: field('u32', 0),
    flags: field('u32', 4),
    num_regions: field('u32', 8),
    num_irqs: field('u32', 12),
    cap_offset: field('u32', 16),
    pad: field('u32', 20, [6, 5]),
  },
  20,
);

/** `struct vfio_region_info` (32). */
export const vfioRegionInfo: StructCodec<{
  argsz: 'u32';
  flags: 'u32';
  index: 'u32';
  cap_offset: 'u32';
  size: 'u64';
  offset: 'u64';
}> = new StructCodec('vfio_region_info', 32, {
  argsz: field('u32', 0),
  flags: field('u32', 4),
  index: field('u32', 8),
  cap_offset: field('u32', 12),
  size: field('u64', 16),
  offset: field('u64', 24),
});
