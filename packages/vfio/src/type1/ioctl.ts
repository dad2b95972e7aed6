import { KernelError } from '@vfiokit/core';
import { type KernelProfile, kernelAtLeast } from '../profile.js';
import {
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_VADDR,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
  VFIO_DMA_UNMAP_FLAG_VADDR,
} from '../uapi/flags.js';
import { VFIO_TYPE1_NESTING_IOMMU } from '../uapi/generated-constants.js';
import {
  VFIO_CHECK_EXTENSION,
  VFIO_DMA_CC_IOMMU,
  VFIO_IOMMU_DIRTY_PAGES,
  VFIO_IOMMU_GET_INFO,
  VFIO_IOMMU_MAP_DMA,
  VFIO_IOMMU_UNMAP_DMA,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  VFIO_UNMAP_ALL,
  VFIO_UPDATE_VADDR,
} from '../uapi/ioctls.js';
import { vfioIommuType1DmaMap, vfioIommuType1DmaUnmap } from '../uapi/structs-iommu.js';
import { integerArg, pointerArg } from '../user/args.js';
import type { IoctlArg } from '../user/file.js';
import type { Task } from '../user/task.js';
import { accessOk, type1DirtyPages, unmapBitmap, verifyBitmapSize } from './dirty.js';
import { type1GetInfo } from './info.js';
import { type1MapDma } from './map.js';
import type { Type1Iommu } from './type1-iommu.js';
import { type1UnmapDma } from './unmap.js';

/** Before v6.13 type1 still opens `VFIO_TYPE1_NESTING_IOMMU` (nesting implies v2). */
export function type1Nesting(profile: KernelProfile): boolean {
  return !kernelAtLeast(profile, 6, 13);
}

// sizeof(struct vfio_bitmap): pgsize, size, data pointer.
const VFIO_BITMAP_SIZE = 24;

/**
 * `vfio_iommu_type1_check_extension`, with `iommu` null before VFIO_SET_IOMMU.
 * TYPE1_NESTING answers 1 before v6.13, which removed it ("vfio: Remove
 * VFIO_TYPE1_NESTING_IOMMU", part of the SMMUv3 nesting series); Linux 6.12 still has it. DMA_CC is `vfio_domains_have_enforce_cache_coherency`: 0
 * without a backend, 1 over an empty domain list (emulated groups only), else 1 only if every
 * domain enforces coherency. The Arm SMMU drivers never do for platform devices (SMMUv2 has no
 * `enforce_cache_coherency` op; SMMUv3's requires PCI root complexes with CANWBS), so any
 * IOMMU domain makes it 0.
 */
export function type1CheckExtension(
  iommu: Type1Iommu | null,
  extension: number,
  profile: KernelProfile,
): number {
  switch (extension) {
    case VFIO_TYPE1_IOMMU:
    case VFIO_TYPE1v2_IOMMU:
    case VFIO_UNMAP_ALL:
      return 1;
    case VFIO_TYPE1_NESTING_IOMMU:
      return type1Nesting(profile) ? 1 : 0;
    case VFIO_UPDATE_VADDR:
      return iommu !== null && iommu.emulatedGroups.size === 0 ? 1 : 0;
    case VFIO_DMA_CC_IOMMU:
      return iommu !== null && !iommu.hasDomain ? 1 : 0;
    default:
      return 0;
  }
}

/** `vfio_iommu_type1_ioctl` (drivers/vfio/vfio_iommu_type1.c): the container ioctls once TYPE1/TYPE1v2 is set; unknown → `ENOTTY`. */
export function type1Ioctl(
  iommu: Type1Iommu,
  current: Task,
  request: number,
  arg: IoctlArg | undefined,
): number {
  switch (request) {
    case VFIO_CHECK_EXTENSION:
      return type1CheckExtension(iommu, integerArg(arg), iommu.env.profile);
    case VFIO_IOMMU_GET_INFO:
      type1GetInfo(iommu, pointerArg(arg, 'VFIO_IOMMU_GET_INFO'));
      return 0;
    case VFIO_IOMMU_MAP_DMA: {
      const bytes = pointerArg(arg, 'VFIO_IOMMU_MAP_DMA');
      const minsz = vfioIommuType1DmaMap.offsetofend('size');
      const map = vfioIommuType1DmaMap.decodePrefix(bytes, minsz);
      const mask = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE | VFIO_DMA_MAP_FLAG_VADDR;
      if (map.argsz < minsz || (map.flags & ~mask) !== 0) {
        throw new KernelError(
          'EINVAL',
          `vfio_iommu_type1_dma_map argsz ${map.argsz} or flags 0x${map.flags.toString(16)}`,
        );
      }
      type1MapDma(iommu, current, map);
      return 0;
    }
    case VFIO_IOMMU_UNMAP_DMA: {
      const bytes = pointerArg(arg, 'VFIO_IOMMU_UNMAP_DMA');
      const minsz = vfioIommuType1DmaUnmap.offsetofend('size');
      const unmap = vfioIommuType1DmaUnmap.decodePrefix(bytes, minsz);
      const mask = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR;
      if (unmap.argsz < minsz || (unmap.flags & ~mask) !== 0) {
        throw new KernelError(
          'EINVAL',
          `vfio_iommu_type1_dma_unmap argsz ${unmap.argsz} or flags 0x${unmap.flags.toString(16)}`,
        );
      }
      const dirty = (unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) !== 0;
      if (dirty && (unmap.flags & (VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR)) !== 0) {
        throw new KernelError('EINVAL', 'GET_DIRTY_BITMAP cannot be combined with ALL or VADDR');
      }
      let bitmap: ReturnType<typeof unmapBitmap> | undefined;
      if (dirty) {
        if (unmap.argsz < minsz + VFIO_BITMAP_SIZE)
          throw new KernelError('EINVAL', 'no vfio_bitmap after the header');
        bitmap = unmapBitmap(bytes, minsz);
        accessOk(bitmap.data, bitmap.size);
        const pgshift = BigInt((bitmap.pgsize & -bitmap.pgsize).toString(2).length - 1);
        verifyBitmapSize(unmap.size >> (bitmap.pgsize === 0n ? 63n : pgshift), bitmap.size);
      }
      const size = type1UnmapDma(iommu, current, {
        iova: unmap.iova,
        size: unmap.size,
        all: (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) !== 0,
        invalidateVaddr: (unmap.flags & VFIO_DMA_UNMAP_FLAG_VADDR) !== 0,
        ...(bitmap === undefined ? {} : { bitmap }),
      });
      vfioIommuType1DmaUnmap.encodePrefix({ ...unmap, size: BigInt(size) }, minsz, bytes);
      return 0;
    }
    case VFIO_IOMMU_DIRTY_PAGES:
      type1DirtyPages(iommu, current, pointerArg(arg, 'VFIO_IOMMU_DIRTY_PAGES'));
      return 0;
    default:
      throw new KernelError('ENOTTY', `type1: unknown ioctl 0x${request.toString(16)}`);
  }
}
