import {
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_WRITE,
  type IommuDomain,
  type Iova,
  iova,
  KernelError,
  MSI_IOVA_BASE,
  MSI_IOVA_LENGTH,
  type PhysAddr,
  physAddr,
  rejectUnknownOptions,
} from '@vfiokit/core';

/** `MSI_IOVA_BASE` / `MSI_IOVA_LENGTH` of arm-smmu, arm-smmu-v3 and virtio-iommu: core's. */
export { MSI_IOVA_BASE, MSI_IOVA_LENGTH };

export interface MsiCookieOptions {
  /** The window base vfio type1 passes (`iommu_get_msi_cookie(domain, resv_msi_base)`). */
  readonly base?: number;
  /** The kernel's PAGE_SIZE, the MSI cookie's granule (`cookie_msi_granule`); default 4 KiB. */
  readonly pageSize?: number;
}

/**
 * The software-MSI cookie of an UNMANAGED IOMMU domain (drivers/iommu/dma-iommu.c): created by
 * `iommu_get_msi_cookie` (EINVAL for another domain type; EEXIST when the domain has one — the
 * caller passes the domain's previous cookie), it hands out one page of IOVA per MSI doorbell
 * page, bump-allocated from the base with no upper bound check (the window length is only
 * reported as a reserved region), mapped IOMMU_WRITE|IOMMU_NOEXEC|IOMMU_MMIO.
 */
export class MsiCookie {
  readonly domain: IommuDomain;
  readonly base: number;
  readonly granule: number;
  private next: number;
  private readonly pages = new Map<number, number>();

  constructor(domain: IommuDomain, options: MsiCookieOptions = {}, existing?: MsiCookie) {
    rejectUnknownOptions(options, ['base', 'pageSize'], 'iommu_get_msi_cookie');
    if (domain.type !== 'unmanaged') throw new KernelError('EINVAL', `MSI cookie on a ${domain.type} domain`);
    if (existing !== undefined) throw new KernelError('EEXIST', 'the domain already has an IOVA cookie');
    this.domain = domain;
    this.base = options.base ?? MSI_IOVA_BASE;
    this.granule = options.pageSize ?? 0x1000;
    this.next = this.base;
  }

  /** Doorbell pages mapped so far: physical page → IOVA. */
  get mappedPages(): ReadonlyMap<number, number> {
    return this.pages;
  }

  /** `iommu_dma_get_msi_page`: the IOVA of the doorbell's page (mapping it on first use). */
  msiPage(doorbell: PhysAddr): Iova {
    const page = doorbell - (doorbell % this.granule);
    const known = this.pages.get(page);
    if (known !== undefined) return iova(known);
    const at = this.next;
    this.next += this.granule;
    try {
      this.domain.map(iova(at), physAddr(page), this.granule, IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO);
    } catch (e) {
      this.next -= this.granule; // iommu_dma_free_iova
      throw new KernelError('ENOMEM', `MSI doorbell page 0x${page.toString(16)} could not be mapped`, {
        cause: e,
      });
    }
    this.pages.set(page, at);
    return iova(at);
  }
}

/**
 * `iommu_dma_prepare_msi` + the compose step: the address a device behind the SMMU must write
 * to reach `doorbell`. No domain cookie (no IOMMU, or a DMA/identity domain) → the doorbell
 * itself (the kernel's no-op, `msi_desc_set_iommu_msi_iova(desc, 0, 0)`); else the cookie's IOVA
 * plus the doorbell's offset in its page. A failed mapping is ENOMEM (the IRQ allocation fails).
 */
export function iommuDmaPrepareMsi(cookie: MsiCookie | undefined, doorbell: PhysAddr): number {
  if (cookie === undefined) return doorbell;
  return cookie.msiPage(doorbell) + (doorbell % cookie.granule);
}
