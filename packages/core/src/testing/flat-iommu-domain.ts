import type { Iova, PhysAddr } from '../address.js';
import {
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuAccess,
  type IommuDomain,
  type IommuDomainType,
  type IommuEndpoint,
  type IommuFault,
  type IommuProt,
  type IommuReservedRegion,
  minPageSize,
} from '../iommu/iommu-domain.js';
import { KernelError } from '../kernel-error.js';
import { rejectUnknownOptions } from '../options.js';

interface Extent {
  iova: number;
  size: number;
  paddr: number;
  readonly prot: IommuProt;
}

/** Options of a {@link FlatIommuDomain}. */
export interface FlatIommuDomainOptions {
  /** Page sizes (default 4K only). */
  readonly pgsizeBitmap?: number;
  /** Input address bits (default 48): the aperture is `[0, 2^bits - 1]`. */
  readonly inputBits?: number;
  readonly reservedRegions?: readonly IommuReservedRegion[];
  readonly type?: IommuDomainType;
}

/**
 * A small, exact IOMMU domain for tests: mappings kept as sorted extents, the kernel's
 * alignment, overlap and unmap rules (include/linux/iommu.h, drivers/iommu/iommu.c
 * `__iommu_map`/`__iommu_unmap`: unmap stops at the first hole), no page tables.
 * Packages use it until they are wired to `@vfiokit/smmu`.
 */
export class FlatIommuDomain implements IommuDomain {
  readonly type: IommuDomainType;
  readonly pgsizeBitmap: number;
  readonly aperture: { readonly start: Iova; readonly end: Iova };
  private readonly attached: IommuEndpoint[] = [];
  private readonly extents: Extent[] = [];
  private readonly reserved: readonly IommuReservedRegion[];
  private readonly granule: number;

  constructor(options: FlatIommuDomainOptions = {}) {
    rejectUnknownOptions(
      options,
      ['pgsizeBitmap', 'inputBits', 'reservedRegions', 'type'],
      'FlatIommuDomain',
    );
    this.type = options.type ?? 'unmanaged';
    this.pgsizeBitmap = options.pgsizeBitmap ?? 0x1000;
    this.granule = minPageSize(this.pgsizeBitmap);
    if (this.granule === 0) throw new KernelError('EINVAL', 'pgsizeBitmap has no page size');
    this.aperture = { start: 0 as Iova, end: (2 ** (options.inputBits ?? 48) - 1) as Iova };
    this.reserved = options.reservedRegions ?? [];
  }

  get endpoints(): readonly IommuEndpoint[] {
    return this.attached;
  }

  /** Number of distinct mappings (extents) held. */
  get mappingCount(): number {
    return this.extents.length;
  }

  attach(endpoint: IommuEndpoint): void {
    if (this.attached.some((e) => e.device === endpoint.device)) {
      throw new KernelError('EBUSY', `${endpoint.device} is attached already`);
    }
    this.attached.push(endpoint);
  }

  detach(endpoint: IommuEndpoint): void {
    const at = this.attached.findIndex((e) => e.device === endpoint.device);
    if (at < 0) throw new KernelError('ENODEV', `${endpoint.device} is not attached`);
    this.attached.splice(at, 1);
  }

  map(iova: Iova, paddr: PhysAddr, size: number, prot: IommuProt): void {
    if (size <= 0 || (iova % this.granule) + (paddr % this.granule) + (size % this.granule) !== 0) {
      throw new KernelError(
        'EINVAL',
        `map 0x${iova.toString(16)}+0x${size.toString(16)} is not page aligned`,
      );
    }
    if (iova + size - 1 > this.aperture.end) {
      throw new KernelError(
        'ERANGE',
        `map 0x${iova.toString(16)}+0x${size.toString(16)} passes the aperture`,
      );
    }
    const at = this.firstEndingAfter(iova);
    const next = this.extents[at];
    if (next !== undefined && next.iova < iova + size) {
      throw new KernelError('EEXIST', `0x${next.iova.toString(16)} is mapped already`);
    }
    this.extents.splice(at, 0, { iova, size, paddr, prot });
  }

  unmap(iova: Iova, size: number): number {
    if (size <= 0 || (iova % this.granule) + (size % this.granule) !== 0) {
      throw new KernelError(
        'EINVAL',
        `unmap 0x${iova.toString(16)}+0x${size.toString(16)} is not page aligned`,
      );
    }
    const end = iova + size;
    let cursor: number = iova;
    let at = this.firstEndingAfter(cursor);
    while (cursor < end) {
      const extent = this.extents[at];
      if (extent === undefined || extent.iova > cursor) break;
      const stop = Math.min(end, extent.iova + extent.size);
      this.cut(at, cursor, stop);
      cursor = stop;
      at = this.firstEndingAfter(cursor);
    }
    return cursor - iova;
  }

  translate(iova: Iova, access: IommuAccess): PhysAddr | IommuFault {
    if (this.type === 'blocked')
      return { kind: 'blocked', iova, access, reason: 'the domain blocks all DMA' };
    if (iova > this.aperture.end) {
      return { kind: 'address-size', iova, access, reason: `0x${iova.toString(16)} is outside the aperture` };
    }
    const extent = this.extents[this.firstEndingAfter(iova)];
    if (extent === undefined || extent.iova > iova) {
      return { kind: 'translation', iova, access, reason: `no mapping at 0x${iova.toString(16)}` };
    }
    const needed = access === 'read' ? IOMMU_READ : IOMMU_WRITE;
    if ((extent.prot & needed) === 0) {
      return {
        kind: 'permission',
        iova,
        access,
        reason: `mapping at 0x${iova.toString(16)} forbids ${access}`,
      };
    }
    return (extent.paddr + (iova - extent.iova)) as PhysAddr;
  }

  reservedRegions(): readonly IommuReservedRegion[] {
    return this.reserved;
  }

  // Removes [from, to) from the extent at `at`, keeping what lies on either side.
  private cut(at: number, from: number, to: number): void {
    const extent = this.extents[at];
    if (extent === undefined) return;
    const pieces: Extent[] = [];
    if (extent.iova < from) pieces.push({ ...extent, size: from - extent.iova });
    const extentEnd = extent.iova + extent.size;
    if (to < extentEnd) {
      pieces.push({
        iova: to,
        size: extentEnd - to,
        paddr: extent.paddr + (to - extent.iova),
        prot: extent.prot,
      });
    }
    this.extents.splice(at, 1, ...pieces);
  }

  private firstEndingAfter(iova: number): number {
    let low = 0;
    let high = this.extents.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const extent = this.extents[mid];
      if (extent !== undefined && extent.iova + extent.size <= iova) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
