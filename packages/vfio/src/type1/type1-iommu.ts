import type { IommuDomain, IommuGroup } from '@vfiokit/core';
import type { KernelProfile } from '../profile.js';
import { DmaTree } from './dma.js';
import type { IovaRange } from './iova-list.js';
import type { MsiIsolation } from './msi-isolation.js';

/** Host `PAGE_SIZE` (arm64 4K kernels). */
export const HOST_PAGE_SIZE = 0x1000;
const U64_MASK = 0xffff_ffff_ffff_ffffn;
/** `PAGE_MASK` as a 64-bit page-size bitmap: every size from 4K up. */
export const PAGE_MASK_BITMAP: bigint = U64_MASK & ~BigInt(HOST_PAGE_SIZE - 1);

/** Module parameters of vfio_iommu_type1.ko, read live as the kernel reads them (0644). */
export interface Type1Params {
  /** `allow_unsafe_interrupts` (default false). */
  allowUnsafeInterrupts: boolean;
  /** `dma_entry_limit` (default 65535), sampled when a container sets the IOMMU. */
  dmaEntryLimit: number;
}

/** What type1 needs from its environment. */
export interface Type1Environment {
  readonly params: Type1Params;
  readonly msiIsolation: MsiIsolation;
  readonly profile: KernelProfile;
}

/** A group type1 knows: a real IOMMU group, or an emulated one (mdev-style, no domain). */
export type Type1Group =
  | { readonly kind: 'iommu'; readonly id: number; readonly iommuGroup: IommuGroup }
  | { readonly kind: 'emulated'; readonly id: number };

/** A device that pins pages and must release them when asked (`ops->dma_unmap`). */
export interface DmaUnmapListener {
  dmaUnmap(iova: number, length: number): void;
}

/** `struct vfio_domain`: one paging domain and the groups attached to it. */
export interface Type1Domain {
  readonly domain: IommuDomain;
  readonly groups: IommuGroup[];
  /** Whether the group had an `IOMMU_RESV_SW_MSI` window (`iommu_get_msi_cookie`). */
  readonly msiCookie: number | undefined;
}

/**
 * `struct vfio_iommu`: the state of one container's type1 backend
 * (drivers/vfio/vfio_iommu_type1.c). The operations live in one file each: map.ts,
 * unmap.ts, attach.ts, info.ts, and ioctl.ts dispatches.
 */
export class Type1Iommu {
  readonly v2: boolean;
  readonly env: Type1Environment;
  readonly dmas: DmaTree = new DmaTree();
  readonly domains: Type1Domain[] = [];
  readonly emulatedGroups: Set<number> = new Set();
  /**
   * `iommu->device_list`: open emulated-IOMMU devices with a `dma_unmap` callback, told to
   * unpin before a range they pinned is unmapped (vfio_notify_dma_unmap).
   */
  readonly deviceList: Set<DmaUnmapListener> = new Set();
  /** `dma_avail`, starting at `dma_entry_limit` sampled at open. */
  dmaAvail: number;
  /** The limit sampled at open (what `dma_avail` returns to). */
  readonly dmaEntryLimit: number;
  iovaList: IovaRange[] = [];
  pgsizeBitmap: bigint = PAGE_MASK_BITMAP;
  vaddrInvalidCount = 0;
  /** `dirty_page_tracking` (VFIO_IOMMU_DIRTY_PAGES START/STOP). */
  dirtyPageTracking = false;

  /** `iommu->nesting`: opened as VFIO_TYPE1_NESTING_IOMMU (before v6.13). */
  readonly nesting: boolean;

  constructor(v2: boolean, env: Type1Environment, nesting = false) {
    this.v2 = v2;
    this.env = env;
    this.nesting = nesting;
    this.dmaEntryLimit = env.params.dmaEntryLimit;
    this.dmaAvail = env.params.dmaEntryLimit;
  }

  /** The smallest page size type1 maps with (`1 << __ffs(pgsize_bitmap)`). */
  get minPageSize(): number {
    let size = 1n;
    while ((this.pgsizeBitmap & size) === 0n) size <<= 1n;
    return Number(size);
  }

  /** Whether any IOMMU-backed domain exists (else MAP_DMA only records). */
  get hasDomain(): boolean {
    return this.domains.length > 0;
  }

  /** `vfio_update_pgsize_bitmap`: AND of the domains, sub-page sizes folded into PAGE_SIZE. */
  updatePgsizeBitmap(): void {
    if (this.domains.length === 0) {
      this.pgsizeBitmap = PAGE_MASK_BITMAP;
      return;
    }
    let bitmap = U64_MASK;
    for (const d of this.domains) bitmap &= BigInt(d.domain.pgsizeBitmap);
    if ((bitmap & ~PAGE_MASK_BITMAP & U64_MASK) !== 0n) {
      bitmap &= PAGE_MASK_BITMAP;
      bitmap |= BigInt(HOST_PAGE_SIZE);
    }
    this.pgsizeBitmap = bitmap;
  }

  /** Whether `group` is attached already (`vfio_iommu_find_iommu_group`). */
  hasGroup(group: Type1Group): boolean {
    if (group.kind === 'emulated') return this.emulatedGroups.has(group.id);
    return this.domains.some((d) => d.groups.includes(group.iommuGroup));
  }
}
