import {
  type IommuAccess,
  type IommuDomain,
  type IommuDomainType,
  type IommuEndpoint,
  type IommuFault,
  type IommuProt,
  type IommuReservedRegion,
  type Iova,
  KernelError,
  type PhysAddr,
  rejectUnknownOptions,
} from '@vfiokit/core';
import { ArmLpaeIoPgtable, type IommuFlushOps, type IoPgtableFormat } from './io-pgtable-arm.js';
import { iommu_pgsize, type PgsizeCount } from './iommu-pgsize.js';
import type { TablePageAllocator } from './page-allocator.js';
import { PTE_AP_RDONLY, PTE_AP_UNPRIV, PTE_HAP_READ, PTE_HAP_WRITE, pteAddress } from './pte.js';

/** The driver side of TLB maintenance: io-pgtable's flush ops plus `iotlb_sync`. */
export interface DomainFlushOps extends IommuFlushOps {
  /** `iommu_domain_ops.iotlb_sync`: complete every invalidation issued so far. */
  iotlb_sync(): void;
}

/** Options of an {@link ArmLpaeDomain}. */
export interface ArmLpaeDomainOptions {
  readonly allocator: TablePageAllocator;
  readonly format?: IoPgtableFormat;
  readonly pgsizeBitmap?: number;
  readonly ias?: number;
  readonly oas?: number;
  readonly coherentWalk?: boolean;
  readonly type?: IommuDomainType;
  readonly reservedRegions?: readonly IommuReservedRegion[];
  /** The SMMU driver's TLB maintenance; omitted, no TLB caches these tables. */
  readonly flushOps?: DomainFlushOps;
}

const NO_SYNC: DomainFlushOps = {
  // No TLB: nothing to invalidate or wait for.
  tlb_flush_all: () => undefined,
  tlb_flush_walk: () => undefined,
  tlb_add_page: () => undefined,
  iotlb_sync: () => undefined,
};

/**
 * An IOMMU domain backed by io-pgtable-arm page tables: `map` and `unmap` are
 * drivers/iommu/iommu.c `__iommu_map`/`__iommu_unmap` (split by `iommu_pgsize`, roll back a
 * failed map, stop an unmap at the first hole, `iotlb_sync` after unmapping) over
 * {@link ArmLpaeIoPgtable}; `translate` walks the descriptors in memory.
 *
 * Where the IommuDomain contract of `@vfiokit/core` is stricter than the kernel it is kept:
 * a misaligned `unmap` is `EINVAL` (the kernel logs and returns 0), and a range whose end
 * passes `2^ias` is `ERANGE` up front (the kernel maps up to the boundary, then fails with
 * `ERANGE` and unrolls). `translate` models an unprivileged, non-instruction access, and a
 * stage-1 mapping cannot be write-only: `IOMMU_WRITE` alone is readable, as on hardware.
 */
export class ArmLpaeDomain implements IommuDomain {
  readonly type: IommuDomainType;
  readonly pgsizeBitmap: number;
  readonly aperture: { readonly start: Iova; readonly end: Iova };
  readonly pgtable: ArmLpaeIoPgtable;
  private readonly attached: IommuEndpoint[] = [];
  private readonly reserved: readonly IommuReservedRegion[];
  private readonly flush: DomainFlushOps;
  private readonly granule: number;
  private readonly counter: PgsizeCount = { count: 0 };
  private readonly stage1: boolean;

  constructor(options: ArmLpaeDomainOptions) {
    rejectUnknownOptions(
      options,
      [
        'allocator',
        'format',
        'pgsizeBitmap',
        'ias',
        'oas',
        'coherentWalk',
        'type',
        'reservedRegions',
        'flushOps',
      ],
      'ArmLpaeDomain',
    );
    this.flush = options.flushOps ?? NO_SYNC;
    const config = {
      allocator: options.allocator,
      tlb: this.flush,
      ...(options.format === undefined ? {} : { format: options.format }),
      ...(options.pgsizeBitmap === undefined ? {} : { pgsizeBitmap: options.pgsizeBitmap }),
      ...(options.ias === undefined ? {} : { ias: options.ias }),
      ...(options.oas === undefined ? {} : { oas: options.oas }),
      ...(options.coherentWalk === undefined ? {} : { coherentWalk: options.coherentWalk }),
    };
    this.pgtable = new ArmLpaeIoPgtable(config);
    this.type = options.type ?? 'unmanaged';
    this.pgsizeBitmap = this.pgtable.pgsizeBitmap;
    this.granule = this.pgtable.granule;
    this.aperture = { start: 0 as Iova, end: (2 ** this.pgtable.ias - 1) as Iova };
    this.reserved = options.reservedRegions ?? [];
    this.stage1 = this.pgtable.format === 'ARM_64_LPAE_S1';
  }

  get endpoints(): readonly IommuEndpoint[] {
    return this.attached;
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

  /** `iommu_map`: `EINVAL`, `ERANGE`, `EEXIST` or `ENOMEM`; a failed map leaves nothing mapped. */
  map(iova: Iova, paddr: PhysAddr, size: number, prot: IommuProt): void {
    if (this.type === 'identity' || this.type === 'blocked') {
      // __iommu_map: WARN_ON(!(domain->type & __IOMMU_DOMAIN_PAGING)).
      throw new KernelError('EINVAL', `a ${this.type} domain has no page tables to map into`);
    }
    const g = this.granule;
    if (!Number.isSafeInteger(size) || size <= 0 || iova % g !== 0 || paddr % g !== 0 || size % g !== 0) {
      throw new KernelError(
        'EINVAL',
        `map 0x${iova.toString(16)}+0x${size.toString(16)} -> 0x${paddr.toString(16)} is not aligned to 0x${g.toString(16)}`,
      );
    }
    if (iova + size > 2 ** this.pgtable.ias || paddr + size > 2 ** this.pgtable.oas) {
      throw new KernelError('ERANGE', `map 0x${iova.toString(16)}+0x${size.toString(16)} passes ias/oas`);
    }
    let done = 0;
    try {
      while (done < size) {
        const pgsize = iommu_pgsize(this.pgsizeBitmap, iova + done, paddr + done, size - done, this.counter);
        done += this.pgtable.map_pages(iova + done, paddr + done, pgsize, this.counter.count, prot);
      }
    } catch (error) {
      // __iommu_map: unroll mapping in case something went wrong.
      if (done > 0) this.unmap(iova, done);
      throw error;
    }
  }

  /** `iommu_unmap`: the bytes unmapped from `iova`, stopping at the first hole. */
  unmap(iova: Iova, size: number): number {
    const g = this.granule;
    if (!Number.isSafeInteger(size) || size <= 0 || iova % g !== 0 || size % g !== 0) {
      throw new KernelError('EINVAL', `unmap 0x${iova.toString(16)}+0x${size.toString(16)} is not aligned`);
    }
    let unmapped = 0;
    while (unmapped < size) {
      const at = iova + unmapped;
      const pgsize = iommu_pgsize(this.pgsizeBitmap, at, at, size - unmapped, this.counter);
      const done = this.pgtable.unmap_pages(at, pgsize, this.counter.count);
      if (done === 0) break;
      unmapped += done;
    }
    this.flush.iotlb_sync();
    return unmapped;
  }

  /** `iommu_iova_to_phys`: the physical address, or 0 when `iova` is not mapped. */
  iova_to_phys(iova: Iova): PhysAddr {
    return this.pgtable.iova_to_phys(iova) as PhysAddr;
  }

  translate(iova: Iova, access: IommuAccess): PhysAddr | IommuFault {
    if (this.type === 'blocked')
      return { kind: 'blocked', iova, access, reason: 'the domain blocks all DMA' };
    if (this.type === 'identity') return iova as number as PhysAddr;
    if (iova > this.aperture.end || !(iova >= 0)) {
      return { kind: 'address-size', iova, access, reason: `0x${iova.toString(16)} is outside the aperture` };
    }
    const table = this.pgtable;
    if (!table.walk(iova)) {
      return { kind: 'translation', iova, access, reason: `no mapping at 0x${iova.toString(16)}` };
    }
    const lo = table.leafLo;
    const allowed = this.stage1
      ? (lo & PTE_AP_UNPRIV) !== 0 && (access === 'read' || (lo & PTE_AP_RDONLY) === 0)
      : (lo & (access === 'read' ? PTE_HAP_READ : PTE_HAP_WRITE)) !== 0;
    if (!allowed) {
      return {
        kind: 'permission',
        iova,
        access,
        reason: `mapping at 0x${iova.toString(16)} forbids ${access}`,
      };
    }
    return (pteAddress(lo, table.leafHi) + (iova % table.blockSize(table.leafLevel))) as PhysAddr;
  }

  reservedRegions(): readonly IommuReservedRegion[] {
    return this.reserved;
  }

  /** `free_io_pgtable_ops` at domain free: every table goes back to the allocator. */
  free(): void {
    this.pgtable.free();
  }
}
