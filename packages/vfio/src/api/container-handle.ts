import {
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_DMA_UNMAP_FLAG_VADDR,
  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
  VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
} from '../uapi/flags.js';
import {
  VFIO_CHECK_EXTENSION,
  VFIO_GET_API_VERSION,
  VFIO_IOMMU_GET_INFO,
  VFIO_IOMMU_MAP_DMA,
  VFIO_IOMMU_UNMAP_DMA,
  VFIO_SET_IOMMU,
} from '../uapi/ioctls.js';
import { vfioInfoCapHeader } from '../uapi/structs-device.js';
import {
  vfioIommuType1DmaMap,
  vfioIommuType1DmaUnmap,
  vfioIommuType1Info,
  vfioIommuType1InfoCapIovaRange,
  vfioIommuType1InfoDmaAvail,
  vfioIovaRange,
} from '../uapi/structs-iommu.js';
import { UapiError } from '../uapi/uapi-error.js';
import type { VfioSyscalls } from '../user/syscalls.js';

/** What VFIO_IOMMU_GET_INFO reported, decoded. */
export interface IommuInfo {
  readonly flags: number;
  /** `iova_pgsizes` (a 64-bit bitmap). */
  readonly iovaPgsizes: bigint;
  /** IOVA_RANGE capability: usable ranges, inclusive ends. */
  readonly iovaRanges: ReadonlyArray<{ readonly start: bigint; readonly end: bigint }>;
  /** DMA_AVAIL capability. */
  readonly dmaAvail: number | undefined;
}

/** A DMA mapping request in typed form. */
export interface DmaMapping {
  /** u64 values: `number` or `bigint` (IOVAs reach 2^64; the UAPI never narrows them). */
  readonly vaddr: number | bigint;
  readonly iova: number | bigint;
  readonly size: number | bigint;
  readonly read?: boolean;
  readonly write?: boolean;
}

/**
 * Typed container operations (rust-vmm `VfioContainer`), each one ioctl through the
 * {@link VfioSyscalls} seam with the UAPI bytes the kernel expects.
 */
export class VfioContainerHandle {
  readonly fd: number;
  private readonly sys: VfioSyscalls;

  constructor(sys: VfioSyscalls, fd: number) {
    this.sys = sys;
    this.fd = fd;
  }

  /** `open("/dev/vfio/vfio")`. */
  static open(sys: VfioSyscalls): VfioContainerHandle {
    return new VfioContainerHandle(sys, sys.open('/dev/vfio/vfio'));
  }

  apiVersion(): number {
    return this.sys.ioctl(this.fd, VFIO_GET_API_VERSION);
  }

  checkExtension(extension: number): boolean {
    return this.sys.ioctl(this.fd, VFIO_CHECK_EXTENSION, extension) > 0;
  }

  setIommu(type: number): void {
    this.sys.ioctl(this.fd, VFIO_SET_IOMMU, type);
  }

  /** VFIO_IOMMU_GET_INFO, retried with the `argsz` the kernel asks for, caps decoded. */
  iommuInfo(): IommuInfo {
    let argsz = vfioIommuType1Info.size;
    for (let attempt = 0; attempt < 2; attempt++) {
      const bytes = new Uint8Array(argsz);
      vfioIommuType1Info.encodePrefix({ argsz, flags: 0, iova_pgsizes: 0, cap_offset: 0, pad: 0 }, 4, bytes);
      this.sys.ioctl(this.fd, VFIO_IOMMU_GET_INFO, bytes);
      const info = vfioIommuType1Info.decode(bytes);
      if (info.argsz > argsz) {
        argsz = info.argsz;
        continue;
      }
      return { flags: info.flags, iovaPgsizes: info.iova_pgsizes, ...decodeCaps(bytes, info.cap_offset) };
    }
    throw new UapiError('VFIO_IOMMU_GET_INFO kept growing its argsz');
  }

  mapDma(mapping: DmaMapping): void {
    let flags = 0;
    if (mapping.read ?? true) flags |= VFIO_DMA_MAP_FLAG_READ;
    if (mapping.write ?? true) flags |= VFIO_DMA_MAP_FLAG_WRITE;
    const bytes = vfioIommuType1DmaMap.encode({
      argsz: vfioIommuType1DmaMap.size,
      flags,
      vaddr: mapping.vaddr,
      iova: mapping.iova,
      size: mapping.size,
    });
    this.sys.ioctl(this.fd, VFIO_IOMMU_MAP_DMA, bytes);
  }

  /**
   * VFIO_IOMMU_UNMAP_DMA; returns the bytes the kernel reports unmapped. `{ all: true }` uses
   * FLAG_ALL; `vaddrOnly` sets FLAG_VADDR (invalidate the user address, keep the mapping).
   */
  unmapDma(
    range:
      | { readonly iova: number | bigint; readonly size: number | bigint; readonly vaddrOnly?: boolean }
      | { readonly all: true; readonly vaddrOnly?: boolean },
  ): bigint {
    const all = 'all' in range;
    const bytes = vfioIommuType1DmaUnmap.encode({
      argsz: vfioIommuType1DmaUnmap.size,
      flags: (all ? VFIO_DMA_UNMAP_FLAG_ALL : 0) | (range.vaddrOnly === true ? VFIO_DMA_UNMAP_FLAG_VADDR : 0),
      iova: all ? 0 : range.iova,
      size: all ? 0 : range.size,
    });
    this.sys.ioctl(this.fd, VFIO_IOMMU_UNMAP_DMA, bytes);
    return vfioIommuType1DmaUnmap.decode(bytes).size;
  }

  close(): void {
    this.sys.close(this.fd);
  }
}

function decodeCaps(bytes: Uint8Array, capOffset: number): Pick<IommuInfo, 'iovaRanges' | 'dmaAvail'> {
  const iovaRanges: Array<{ start: bigint; end: bigint }> = [];
  let dmaAvail: number | undefined;
  let offset = capOffset;
  for (let hops = 0; offset !== 0 && hops < 64; hops++) {
    const header = vfioInfoCapHeader.decode(bytes, offset);
    if (header.id === VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
      const cap = vfioIommuType1InfoCapIovaRange.decode(bytes, offset);
      for (let i = 0; i < cap.nr_iovas; i++) {
        const r = vfioIovaRange.decode(
          bytes,
          offset + vfioIommuType1InfoCapIovaRange.size + i * vfioIovaRange.size,
        );
        iovaRanges.push({ start: r.start, end: r.end });
      }
    } else if (header.id === VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
      dmaAvail = vfioIommuType1InfoDmaAvail.decode(bytes, offset).avail;
    }
    offset = header.next;
  }
  return { iovaRanges, dmaAvail };
}
