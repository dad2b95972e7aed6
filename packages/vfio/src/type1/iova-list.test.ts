import type { IommuReservedRegion, IommuReservedRegionType, Iova } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { aperResize, type IovaRange, iovaDmaValid, resvExclude } from './iova-list.js';

// The IOVA list of drivers/vfio/vfio_iommu_type1.c: what GET_INFO's IOVA_RANGE capability
// reports and what MAP_DMA checks against. Each case sits on one side of a comparison.

const r = (start: number, end: number): IovaRange => ({ start: BigInt(start), end: BigInt(end) });
const resv = (
  start: number,
  size: number,
  type: IommuReservedRegionType = 'reserved',
): IommuReservedRegion => ({
  start: start as Iova,
  size,
  type,
  prot: 0,
});

describe('vfio_iommu_iova_dma_valid', () => {
  it('an empty list (mdev-only container) accepts anything', () => {
    expect(iovaDmaValid([], 0n, 2n ** 64n - 1n)).toBe(true);
  });

  it('the range must lie inside one node, both ends included', () => {
    const list = [r(0x1000, 0x1fff), r(0x3000, 0x3fff)];
    expect(iovaDmaValid(list, 0x1000n, 0x1fffn)).toBe(true);
    expect(iovaDmaValid(list, 0x3000n, 0x3fffn)).toBe(true);
    expect(iovaDmaValid(list, 0xfffn, 0x1fffn)).toBe(false);
    expect(iovaDmaValid(list, 0x1000n, 0x2000n)).toBe(false);
    // Spanning the hole between two nodes is not inside one.
    expect(iovaDmaValid(list, 0x1000n, 0x3fffn)).toBe(false);
  });
});

describe('vfio_iommu_resv_exclude', () => {
  it('a region inside a node splits it around the region', () => {
    expect(resvExclude([r(0, 0xffff)], [resv(0x8000, 0x1000)])).toEqual([r(0, 0x7fff), r(0x9000, 0xffff)]);
  });

  it('a region at either end trims the node; one covering it removes it', () => {
    expect(resvExclude([r(0x1000, 0xffff)], [resv(0x1000, 0x1000)])).toEqual([r(0x2000, 0xffff)]);
    expect(resvExclude([r(0x1000, 0xffff)], [resv(0xf000, 0x1000)])).toEqual([r(0x1000, 0xefff)]);
    expect(resvExclude([r(0x1000, 0x1fff)], [resv(0, 0x10000)])).toEqual([]);
  });

  it('regions just outside a node leave it whole (no overlap: start > n->end || end < n->start)', () => {
    const list = [r(0x2000, 0x2fff)];
    expect(resvExclude(list, [resv(0x1000, 0x1000), resv(0x3000, 0x1000)])).toEqual(list);
    expect(resvExclude(list, [resv(0x8000, 0x1000)])).toEqual(list);
    expect(resvExclude(list, [resv(0, 0x1000)])).toEqual(list);
  });

  it('one byte of overlap at either end still trims the node', () => {
    expect(resvExclude([r(0x1fff, 0x2fff)], [resv(0x1000, 0x1000)])).toEqual([r(0x2000, 0x2fff)]);
    expect(resvExclude([r(0x1000, 0x2fff)], [resv(0x2fff, 0x1000)])).toEqual([r(0x1000, 0x2ffe)]);
  });

  it('IOMMU_RESV_DIRECT_RELAXABLE and empty regions are skipped; every other type is excluded', () => {
    const list = [r(0, 0xffff)];
    expect(resvExclude(list, [resv(0x8000, 0x1000, 'direct-relaxable'), resv(0x4000, 0)])).toEqual(list);
    for (const type of ['direct', 'reserved', 'msi', 'sw-msi'] as const) {
      expect(resvExclude(list, [resv(0x8000, 0x1000, type)])).toEqual([r(0, 0x7fff), r(0x9000, 0xffff)]);
    }
  });

  it('several regions each cut the list left by the previous ones', () => {
    expect(resvExclude([r(0, 0xffff)], [resv(0x2000, 0x1000), resv(0x8000, 0x1000)])).toEqual([
      r(0, 0x1fff),
      r(0x3000, 0x7fff),
      r(0x9000, 0xffff),
    ]);
  });
});

describe('vfio_iommu_aper_resize', () => {
  it('an empty list becomes the aperture', () => {
    expect(aperResize([], r(0x1000, 0xffff))).toEqual([r(0x1000, 0xffff)]);
  });

  it('clips nodes to the aperture and drops those outside it', () => {
    const list = [r(0, 0xfff), r(0x2000, 0x5fff), r(0x8000, 0xbfff), r(0x2_0000, 0x2_ffff)];
    expect(aperResize(list, r(0x3000, 0x9fff))).toEqual([r(0x3000, 0x5fff), r(0x8000, 0x9fff)]);
    expect(aperResize([r(0x3000, 0x3fff)], r(0x1000, 0xffff))).toEqual([r(0x3000, 0x3fff)]);
  });
});
