import { IOMMU_CACHE, IOMMU_READ, IOMMU_WRITE, KernelError } from '@vfiokit/core';
import type { IommufdContext } from './context.js';
import { PAGE_SIZE, ULONG_MAX } from './ioas/bits.js';

// The VFIO container ioctls /dev/iommu answers (drivers/iommu/iommufd/vfio_compat.c,
// iommufd_vfio_ioctl, Linux 6.12): built in whatever CONFIG_IOMMUFD_VFIO_CONTAINER says (that
// option only adds /dev/vfio/vfio). They act on the context's compat IOAS.

const VFIO_TYPE = 0x3b;
const VFIO_BASE = 100;
const io = (nr: number): number => (VFIO_TYPE << 8) | (VFIO_BASE + nr);
export const VFIO_COMPAT_GET_API_VERSION: number = io(0);
export const VFIO_COMPAT_CHECK_EXTENSION: number = io(1);
export const VFIO_COMPAT_SET_IOMMU: number = io(2);
export const VFIO_COMPAT_IOMMU_GET_INFO: number = io(12);
export const VFIO_COMPAT_IOMMU_MAP_DMA: number = io(13);
export const VFIO_COMPAT_IOMMU_UNMAP_DMA: number = io(14);

const TYPE1 = 1;
const TYPE1V2 = 3;
const DMA_CC = 4;
const NOIOMMU = 8;
const UNMAP_ALL_EXT = 9;

/** Options of the compat ioctls that depend on the kernel's configuration. */
export interface VfioCompatConfig {
  /** CONFIG_VFIO_NOIOMMU (the oracle's kernel has it). */
  readonly vfioNoiommu: boolean;
}

function view(arg: Uint8Array): DataView {
  return new DataView(arg.buffer, arg.byteOffset, arg.byteLength);
}

function struct(arg: Uint8Array | number | undefined, minsz: number): DataView {
  // copy_from_user(&x, arg, minsz): EFAULT for a short or missing buffer.
  if (!(arg instanceof Uint8Array) || arg.length < minsz)
    throw new KernelError('EFAULT', `need ${minsz} bytes`);
  return view(arg);
}

/**
 * `iommufd_vfio_ioctl`: the result (`ret`), or `ENOTTY` (`ENOIOCTLCMD`) for a number it does not
 * serve. Without a compat IOAS, GET_INFO, MAP/UNMAP_DMA, SET_IOMMU and the DMA_CC extension
 * are `ENODEV`.
 */
export function iommufdVfioIoctl(
  ctx: IommufdContext,
  request: number,
  arg: Uint8Array | number | undefined,
  config: VfioCompatConfig,
): number {
  switch (request) {
    case VFIO_COMPAT_GET_API_VERSION:
      return 0;
    case VFIO_COMPAT_CHECK_EXTENSION: {
      const type = typeof arg === 'number' ? arg : 0;
      if (type === TYPE1 || type === TYPE1V2 || type === UNMAP_ALL_EXT) return ctx.noIommuMode ? 0 : 1;
      if (type === NOIOMMU) return config.vfioNoiommu ? 1 : 0;
      if (type === DMA_CC) {
        // iommufd_vfio_cc_iommu: every HWPT of the compat IOAS enforces coherency (the
        // modelled domains always do, as bind refuses non-coherent devices).
        ctx.compatIoas();
        return 1;
      }
      return 0;
    }
    case VFIO_COMPAT_SET_IOMMU: {
      const type = typeof arg === 'number' ? arg : 0;
      if (config.vfioNoiommu && type === NOIOMMU && ctx.noIommuMode) {
        if (!ctx.task.capable('CAP_SYS_RAWIO'))
          throw new KernelError('EPERM', 'no-IOMMU needs CAP_SYS_RAWIO');
        return 0;
      }
      if ((type !== TYPE1 && type !== TYPE1V2) || ctx.noIommuMode)
        throw new KernelError('EINVAL', `IOMMU type ${type} is not type1`);
      const ioas = ctx.compatIoas();
      // VFIO_TYPE1_IOMMU: iopt_disable_large_pages (EINVAL once domains hold mappings).
      if (type === TYPE1) ctx.option({ option_id: 1, op: 0, object_id: ioas.id, val64: 0 });
      return 0;
    }
    case VFIO_COMPAT_IOMMU_GET_INFO: {
      const v = struct(arg, 16);
      if (v.getUint32(0, true) < 16) throw new KernelError('EINVAL', 'vfio_iommu_type1_info argsz < 16');
      const ioas = ctx.compatIoas();
      // iommufd_get_pagesizes: the domains' common sizes, at least PAGE_SIZE and the alignment.
      let bitmap = ULONG_MAX;
      for (const d of ioas.iopt.domains) bitmap &= BigInt(d.pgsizeBitmap);
      if ((bitmap & (PAGE_SIZE - 1n)) !== 0n) bitmap = (bitmap & ~(PAGE_SIZE - 1n)) | PAGE_SIZE;
      if (ioas.iopt.iovaAlignment > bitmap) bitmap = ioas.iopt.iovaAlignment;
      // flags: VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS; argsz becomes the size with caps
      // (dma_avail 16 bytes, iova ranges 16 + 16 per range, each 8-aligned).
      const ranges = ioas.iopt.iovaRanges().length;
      const total = 24 + 16 + (16 + 16 * ranges);
      // copy_to_user(arg, &info, min(argsz, sizeof(info))): the capability chain itself is
      // not written by the model (a simplification: only the header fields are).
      const argsz = v.getUint32(0, true);
      v.setUint32(0, total, true);
      v.setUint32(4, 0x3, true);
      v.setBigUint64(8, bitmap, true);
      if (argsz >= 24 && v.byteLength >= 24) v.setUint32(16, argsz >= total ? 24 : 0, true);
      return 0;
    }
    case VFIO_COMPAT_IOMMU_MAP_DMA: {
      const v = struct(arg, 32);
      const flags = v.getUint32(4, true);
      if (v.getUint32(0, true) < 32 || (flags & ~3) !== 0)
        throw new KernelError('EINVAL', 'bad vfio_iommu_type1_dma_map');
      let prot = IOMMU_CACHE;
      if (flags & 1) prot |= IOMMU_READ;
      if (flags & 2) prot |= IOMMU_WRITE;
      const ioas = ctx.compatIoas();
      ioas.iopt.mapUserPages(
        ctx.task,
        ctx.chargesMm,
        v.getBigUint64(16, true),
        v.getBigUint64(8, true),
        v.getBigUint64(24, true),
        prot,
        (prot & IOMMU_WRITE) !== 0,
      );
      return 0;
    }
    case VFIO_COMPAT_IOMMU_UNMAP_DMA: {
      const v = struct(arg, 24);
      const flags = v.getUint32(4, true);
      if (v.getUint32(0, true) < 24 || (flags & ~2) !== 0)
        throw new KernelError('EINVAL', 'bad vfio_iommu_type1_dma_unmap');
      const ioas = ctx.compatIoas();
      const iova = v.getBigUint64(8, true);
      const size = v.getBigUint64(16, true);
      let unmapped: bigint;
      if (flags & 2) {
        if (iova !== 0n || size !== 0n) throw new KernelError('EINVAL', 'UNMAP_ALL takes iova 0 and size 0');
        unmapped = ioas.iopt.unmapAll();
      } else {
        if (ioas.iopt.disableLargePages) {
          // VFIO_TYPE1_IOMMU (v1) may unmap part of a mapping: iopt_cut_iova first.
          ioas.iopt.cutIova(iova === 0n ? [iova + size - 1n] : [iova + size - 1n, iova - 1n]);
        }
        unmapped = ioas.iopt.unmapIova(iova, size);
      }
      v.setBigUint64(16, unmapped, true);
      return 0;
    }
    default:
      throw new KernelError('ENOTTY', `ioctl 0x${request.toString(16)} is neither iommufd nor VFIO compat`);
  }
}
