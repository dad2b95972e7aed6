import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Iova } from '../address.js';
import type { IommuReservedRegion, IommuReservedRegionType } from './iommu-domain.js';
import { groupReservedRegions, insertReservedRegion, MSI_IOVA_BASE, swMsiRegion } from './resv-regions.js';

const r = (start: number, size: number, type: IommuReservedRegionType = 'reserved'): IommuReservedRegion => ({
  start: start as Iova,
  size,
  type,
  prot: 0,
});

describe('reserved regions: iommu_insert_resv_region (drivers/iommu/iommu.c)', () => {
  it('the software MSI window of the Arm SMMU drivers', () => {
    expect(swMsiRegion()).toMatchObject({ start: MSI_IOVA_BASE, size: 0x10_0000, type: 'sw-msi' });
  });

  it('overlapping and adjacent regions of one type merge; other types stay apart', () => {
    const list = groupReservedRegions([
      [r(0x1000, 0x1000), r(0x8000, 0x1000, 'msi')],
      [r(0x2000, 0x1000), r(0x8800, 0x1000, 'direct')],
    ]);
    expect(list.map((x) => [x.start, x.size, x.type])).toEqual([
      [0x1000, 0x2000, 'reserved'],
      [0x8000, 0x1000, 'msi'],
      [0x8800, 0x1000, 'direct'],
    ]);
  });

  it('two members with the same SW_MSI window report it once', () => {
    expect(groupReservedRegions([[swMsiRegion()], [swMsiRegion()]])).toHaveLength(1);
  });

  // Independent oracle: per type, the set of covered addresses (as unit cells) must be the
  // same before and after, and same-type regions must neither overlap nor touch.
  it("property: merging keeps every type's coverage and leaves no touching same-type regions", () => {
    const types: IommuReservedRegionType[] = ['direct', 'reserved', 'msi'];
    const region = fc
      .record({
        start: fc.integer({ min: 0, max: 60 }),
        size: fc.integer({ min: 1, max: 8 }),
        t: fc.constantFrom(...types),
      })
      .map(({ start, size, t }) => r(start, size, t));
    fc.assert(
      fc.property(fc.array(region, { maxLength: 20 }), (regions) => {
        let list: IommuReservedRegion[] = [];
        for (const x of regions) list = insertReservedRegion(list, x);
        for (const t of types) {
          const cells = (xs: readonly IommuReservedRegion[]) => {
            const s = new Set<number>();
            for (const x of xs) if (x.type === t) for (let a = x.start; a < x.start + x.size; a++) s.add(a);
            return [...s].sort((p, q) => p - q);
          };
          expect(cells(list)).toEqual(cells(regions));
          const same = list.filter((x) => x.type === t).sort((p, q) => p.start - q.start);
          for (let i = 1; i < same.length; i++) {
            const prev = same[i - 1] as IommuReservedRegion;
            expect((same[i] as IommuReservedRegion).start).toBeGreaterThan(prev.start + prev.size);
          }
        }
      }),
    );
  });
});
