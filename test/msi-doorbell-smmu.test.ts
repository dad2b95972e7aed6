import { type Iova, PhysicalMemory, physAddr } from '@vfiokit/core';
import { iommuDmaPrepareMsi, MSI_IOVA_BASE, MsiCookie } from '@vfiokit/kvm';
import { ArmLpaeDomain, ArmSmmuV3, TablePageAllocator } from '@vfiokit/smmu';
import { ArmSmmuV3Programmer } from '@vfiokit/smmu/testing';
import { describe, expect, it } from 'vitest';

// drivers/iommu/dma-iommu.c (Linux 6.12): vfio type1 gives its UNMANAGED domain an MSI cookie
// at the SW_MSI window (iommu_get_msi_cookie); when an MSI is composed for a device behind the
// SMMU, iommu_dma_prepare_msi maps the doorbell's page into that window and the device writes
// the window's IOVA. Here the SMMUv3 model walks the io-pgtable-arm tables the cookie wrote.
const ITS_TRANSLATER = 0x2f03_0040; // GITS_TRANSLATER of an ITS at 0x2f020000 (frame + 0x10040)
const STREAM = 0x42;

function smmuWithDomain() {
  const memory = new PhysicalMemory();
  const allocator = new TablePageAllocator({ memory, base: physAddr(0x8000_0000), size: 0x100_0000 });
  const smmu = new ArmSmmuV3({ memory });
  const driver = new ArmSmmuV3Programmer(smmu, { allocator });
  driver.reset();
  const domain = new ArmLpaeDomain({ allocator, flushOps: driver.flushOps(1, 1) });
  driver.attachStage1(STREAM, domain.pgtable, 1);
  return { smmu, domain };
}

describe('the MSI doorbell through the SMMU (iommu_dma_prepare_msi)', () => {
  it('maps the ITS doorbell page into the SW_MSI window; the SMMU translates the device write there', () => {
    const { smmu, domain } = smmuWithDomain();
    const cookie = new MsiCookie(domain);
    const address = iommuDmaPrepareMsi(cookie, physAddr(ITS_TRANSLATER));
    expect(address).toBe(MSI_IOVA_BASE + 0x40);
    expect(smmu.translate(STREAM, address as Iova, 'write')).toBe(ITS_TRANSLATER);
    // A second MSI to the same doorbell reuses the page; nothing else is mapped.
    expect(iommuDmaPrepareMsi(cookie, physAddr(ITS_TRANSLATER))).toBe(address);
    expect(cookie.mappedPages.size).toBe(1);
  });

  it('without a cookie (no IOMMU or a DMA domain) the device writes the doorbell itself, which the SMMU faults', () => {
    const { smmu } = smmuWithDomain();
    const address = iommuDmaPrepareMsi(undefined, physAddr(ITS_TRANSLATER));
    expect(address).toBe(ITS_TRANSLATER);
    const result = smmu.translate(STREAM, address as Iova, 'write');
    expect(typeof result).not.toBe('number');
  });
});
