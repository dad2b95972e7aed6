import { KernelError } from '@vfiokit/core';
import { kernelAtLeast } from '../profile.js';
import {
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_INFO_PGSIZES,
  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
  VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION,
  VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
} from '../uapi/flags.js';
import {
  vfioIommuType1Info,
  vfioIommuType1InfoCapIovaRange,
  vfioIommuType1InfoCapMigration,
  vfioIommuType1InfoDmaAvail,
  vfioIovaRange,
} from '../uapi/structs-iommu.js';
import type { Type1Iommu } from './type1-iommu.js';

// DIRTY_BITMAP_SIZE_MAX of drivers/vfio/vfio_iommu_type1.c: a bitmap for INT_MAX pages, in bytes.
const DIRTY_BITMAP_SIZE_MAX = 0x1000_0000n;

interface Cap {
  readonly bytes: Uint8Array;
}

// vfio_info_cap_add: since v6.5 ("vfio: align capability structures") every capability is
// padded to 8 bytes; before, they were packed.
function capChain(iommu: Type1Iommu): Uint8Array {
  const align = kernelAtLeast(iommu.env.profile, 6, 5);
  const caps: Cap[] = [];
  const migration = vfioIommuType1InfoCapMigration.encode({
    id: VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION,
    version: 1,
    next: 0,
    flags: 0,
    pgsize_bitmap: BigInt(iommu.minPageSize),
    max_dirty_bitmap_size: DIRTY_BITMAP_SIZE_MAX,
  });
  caps.push({ bytes: migration });
  const avail = vfioIommuType1InfoDmaAvail.encode({
    id: VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
    version: 1,
    next: 0,
    avail: iommu.dmaAvail,
  });
  caps.push({ bytes: avail });
  // vfio_iommu_iova_build_caps: an empty list (emulated groups only) adds no capability.
  if (iommu.iovaList.length > 0) {
    const bytes = new Uint8Array(
      vfioIommuType1InfoCapIovaRange.size + vfioIovaRange.size * iommu.iovaList.length,
    );
    vfioIommuType1InfoCapIovaRange.encode(
      {
        id: VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
        version: 1,
        next: 0,
        nr_iovas: iommu.iovaList.length,
        reserved: 0,
      },
      bytes,
    );
    iommu.iovaList.forEach((r, i) => {
      vfioIovaRange.encode(
        { start: r.start, end: r.end },
        bytes,
        vfioIommuType1InfoCapIovaRange.size + i * vfioIovaRange.size,
      );
    });
    caps.push({ bytes });
  }
  const sizes = caps.map((c) => (align ? Math.ceil(c.bytes.length / 8) * 8 : c.bytes.length));
  const total = sizes.reduce((a, b) => a + b, 0);
  const chain = new Uint8Array(total);
  const view = new DataView(chain.buffer);
  let at = 0;
  caps.forEach((cap, i) => {
    chain.set(cap.bytes, at);
    const size = sizes[i] ?? 0;
    // `next` is relative to the start of the info struct after vfio_info_cap_shift.
    const next = i + 1 < caps.length ? vfioIommuType1Info.size + at + size : 0;
    view.setUint32(at + 4, next, true);
    at += size;
  });
  return chain;
}

/**
 * `vfio_iommu_type1_get_info`: `EINVAL` below minsz (16). Reports PGSIZES and, when `argsz`
 * leaves room, the capability chain (migration, DMA_AVAIL, IOVA_RANGE) at offset 24 with
 * `cap_offset` set; when it does not, sets CAPS and the `argsz` needed, and returns 0.
 */
export function type1GetInfo(iommu: Type1Iommu, arg: Uint8Array): void {
  const minsz = vfioIommuType1Info.offsetofend('iova_pgsizes');
  const info = vfioIommuType1Info.decodePrefix(arg, minsz);
  if (info.argsz < minsz)
    throw new KernelError('EINVAL', `vfio_iommu_type1_info argsz ${info.argsz} < ${minsz}`);
  const copyBack = Math.min(info.argsz, vfioIommuType1Info.size);
  const caps = capChain(iommu);
  const out = { ...info, flags: VFIO_IOMMU_INFO_PGSIZES, iova_pgsizes: iommu.pgsizeBitmap, cap_offset: 0 };
  if (caps.length > 0) {
    out.flags |= VFIO_IOMMU_INFO_CAPS;
    if (info.argsz < vfioIommuType1Info.size + caps.length) {
      out.argsz = vfioIommuType1Info.size + caps.length;
    } else {
      if (arg.length < vfioIommuType1Info.size + caps.length)
        throw new KernelError('EFAULT', 'capability chain does not fit the buffer');
      arg.set(caps, vfioIommuType1Info.size);
      out.cap_offset = vfioIommuType1Info.size;
    }
  }
  vfioIommuType1Info.encodePrefix(out, copyBack, arg);
}
