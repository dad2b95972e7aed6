import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Iova, PhysAddr } from '../address.js';
import { IOMMU_READ, IOMMU_WRITE, isIommuFault, minPageSize } from '../iommu/iommu-domain.js';
import { FlatIommuDomain } from './flat-iommu-domain.js';
import { thrownErrno } from './thrown-errno.js';

const io = (value: number) => value as Iova;
const pa = (value: number) => value as PhysAddr;
const RW = IOMMU_READ | IOMMU_WRITE;

describe('FlatIommuDomain (drivers/iommu/iommu.c rules)', () => {
  it('refuses unaligned maps (EINVAL), overlaps (EEXIST) and IOVAs past the aperture (ERANGE)', () => {
    const domain = new FlatIommuDomain({ inputBits: 32 });
    domain.map(io(0x10000), pa(0x8000_0000), 0x4000, RW);
    expect(thrownErrno(() => domain.map(io(0x1001), pa(0), 0x1000, RW))).toBe('EINVAL');
    expect(thrownErrno(() => domain.map(io(0x1000), pa(0x10), 0x1000, RW))).toBe('EINVAL');
    expect(thrownErrno(() => domain.map(io(0x1000), pa(0), 0x800, RW))).toBe('EINVAL');
    expect(thrownErrno(() => domain.map(io(0xf000), pa(0), 0x2000, RW))).toBe('EEXIST');
    expect(thrownErrno(() => domain.map(io(0x13000), pa(0), 0x1000, RW))).toBe('EEXIST');
    expect(thrownErrno(() => domain.map(io(0xffff_f000), pa(0), 0x2000, RW))).toBe('ERANGE');
  });

  it('unmap splits mappings, returns the bytes unmapped and stops at the first hole', () => {
    const domain = new FlatIommuDomain();
    domain.map(io(0x1000), pa(0x10_0000), 0x3000, RW);
    domain.map(io(0x5000), pa(0x20_0000), 0x1000, RW);
    expect(domain.unmap(io(0x2000), 0x1000)).toBe(0x1000);
    expect(domain.translate(io(0x1000), 'read')).toBe(0x10_0000);
    expect(isIommuFault(domain.translate(io(0x2000), 'read'))).toBe(true);
    expect(domain.translate(io(0x3abc), 'write')).toBe(0x10_2abc);
    expect(domain.unmap(io(0x3000), 0x3000)).toBe(0x1000);
    expect(domain.translate(io(0x5000), 'read')).toBe(0x20_0000);
    expect(domain.unmap(io(0x8000), 0x1000)).toBe(0);
  });

  it('attaches each endpoint once', () => {
    const domain = new FlatIommuDomain();
    const endpoint = { device: '7ff00000.dma-controller', streamIds: [0, 1] };
    domain.attach(endpoint);
    expect(thrownErrno(() => domain.attach(endpoint))).toBe('EBUSY');
    domain.detach(endpoint);
    expect(thrownErrno(() => domain.detach(endpoint))).toBe('ENODEV');
  });

  it('a blocked domain translates nothing', () => {
    const domain = new FlatIommuDomain({ type: 'blocked' });
    expect(domain.translate(io(0), 'read')).toMatchObject({ kind: 'blocked' });
  });

  it('minPageSize is the lowest set bit of the bitmap', () => {
    expect(minPageSize(0x1000 | 0x20_0000 | 0x4000_0000)).toBe(0x1000);
    expect(minPageSize(0x1_0000 | 0x2000_0000)).toBe(0x1_0000);
    expect(minPageSize(0)).toBe(0);
  });

  it('translates exactly like a page-by-page reference map (property)', () => {
    const command = fc.oneof(
      fc.record({
        kind: fc.constant('map' as const),
        page: fc.nat(31),
        pages: fc.integer({ min: 1, max: 4 }),
        target: fc.nat(255),
      }),
      fc.record({
        kind: fc.constant('unmap' as const),
        page: fc.nat(31),
        pages: fc.integer({ min: 1, max: 6 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(command, { maxLength: 30 }), (commands) => {
        const domain = new FlatIommuDomain();
        const reference = new Map<number, number>();
        for (const c of commands) {
          if (c.kind === 'map') {
            const clash = Array.from({ length: c.pages }, (_, i) => c.page + i).some((p) => reference.has(p));
            const code = thrownErrno(() =>
              domain.map(io(c.page * 0x1000), pa(c.target * 0x1000), c.pages * 0x1000, RW),
            );
            expect(code).toBe(clash ? 'EEXIST' : undefined);
            if (!clash) for (let i = 0; i < c.pages; i++) reference.set(c.page + i, c.target + i);
          } else {
            let expected = 0;
            while (expected < c.pages && reference.has(c.page + expected))
              reference.delete(c.page + expected++);
            expect(domain.unmap(io(c.page * 0x1000), c.pages * 0x1000)).toBe(expected * 0x1000);
          }
        }
        for (let p = 0; p < 40; p++) {
          const result = domain.translate(io(p * 0x1000 + 0x10), 'read');
          const target = reference.get(p);
          if (target === undefined) expect(isIommuFault(result)).toBe(true);
          else expect(result).toBe(target * 0x1000 + 0x10);
        }
      }),
    );
  });
});
