import type { IommuDomain, Iova, PhysAddr } from '@vfiokit/core';
import { physAddr } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { errno } from '../testing/errno.js';
import { Gicv2mFrame } from './gicv2m.js';
import { GicIts } from './its.js';
import { iommuDmaPrepareMsi, MSI_IOVA_BASE, MsiCookie } from './msi-cookie.js';

function domain(
  type: IommuDomain['type'] = 'unmanaged',
  fail = false,
): IommuDomain & { maps: Array<[number, number, number]> } {
  const maps: Array<[number, number, number]> = [];
  return {
    type,
    pgsizeBitmap: 0x1000,
    aperture: { start: 0 as Iova, end: (2 ** 48 - 1) as Iova },
    endpoints: [],
    attach: () => {},
    detach: () => {},
    map: (iova: Iova, paddr: PhysAddr, size: number) => {
      if (fail) throw new RangeError('page table allocation failed');
      maps.push([iova, paddr, size]);
    },
    unmap: () => 0,
    translate: () => 0 as PhysAddr,
    reservedRegions: () => [],
    maps,
  };
}

describe('iommu_dma_prepare_msi (drivers/iommu/dma-iommu.c)', () => {
  it('maps each doorbell page once at the next IOVA of the SW_MSI window; the offset is kept', () => {
    const d = domain();
    const cookie = new MsiCookie(d);
    const v2m = new Gicv2mFrame({ name: 'v2m', base: 0x2c1c_0000, typer: (224 << 16) | 32 });
    const its = new GicIts({ name: 'its', base: 0x0808_0000 });
    expect(iommuDmaPrepareMsi(cookie, physAddr(v2m.doorbell))).toBe(MSI_IOVA_BASE + 0x40);
    expect(iommuDmaPrepareMsi(cookie, physAddr(v2m.doorbell))).toBe(MSI_IOVA_BASE + 0x40);
    expect(iommuDmaPrepareMsi(cookie, physAddr(its.doorbell))).toBe(MSI_IOVA_BASE + 0x1000 + 0x40);
    expect(d.maps).toEqual([
      [MSI_IOVA_BASE, 0x2c1c_0000, 0x1000],
      [MSI_IOVA_BASE + 0x1000, 0x0809_0000, 0x1000],
    ]);
  });

  it('no cookie → the doorbell unchanged; a failed map → ENOMEM; only UNMANAGED domains (EINVAL), once (EEXIST)', () => {
    expect(iommuDmaPrepareMsi(undefined, physAddr(0x2c1c_0040))).toBe(0x2c1c_0040);
    expect(
      errno(() => iommuDmaPrepareMsi(new MsiCookie(domain('unmanaged', true)), physAddr(0x2c1c_0040))),
    ).toBe('ENOMEM');
    expect(errno(() => new MsiCookie(domain('dma')))).toBe('EINVAL');
    const d = domain();
    expect(errno(() => new MsiCookie(d, {}, new MsiCookie(d)))).toBe('EEXIST');
  });
});
