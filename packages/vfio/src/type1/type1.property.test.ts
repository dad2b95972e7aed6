import { type Iova, isIommuFault, KernelError } from '@vfiokit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { VfioContainer } from '../container/container.js';
import { GUEST_RAM_PHYS, GUEST_RAM_VADDR, type1Fixture } from '../test-support/type1-fixture.js';
import { VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU } from '../uapi/ioctls.js';

// A reference model of type1 MAP/UNMAP (drivers/vfio/vfio_iommu_type1.c) over page indexes:
// what each call must return and which mappings must remain.

const PAGE = 0x1000;
const BASE = 0x4000_0000;

interface RefMap {
  readonly first: number;
  readonly pages: number;
  readonly vpage: number;
}

type Command =
  | { readonly op: 'map'; readonly first: number; readonly pages: number; readonly vpage: number }
  | { readonly op: 'unmap'; readonly first: number; readonly pages: number }
  | { readonly op: 'unmap-all' };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('map' as const),
      first: fc.nat(63),
      pages: fc.integer({ min: 1, max: 8 }),
      vpage: fc.nat(255),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('unmap' as const),
      first: fc.nat(63),
      pages: fc.integer({ min: 1, max: 16 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'unmap-all' as const }) },
);

function outcome(fn: () => unknown): string | number | undefined {
  try {
    const result = fn();
    return typeof result === 'number' ? result : undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

function expectedUnmap(
  ref: RefMap[],
  v2: boolean,
  first: number,
  pages: number,
): { result: string | number; keep: RefMap[] } {
  const end = first + pages;
  const overlapping = ref
    .filter((m) => m.first < end && first < m.first + m.pages)
    .sort((a, b) => a.first - b.first);
  if (v2) {
    const cutsStart = overlapping.some((m) => m.first < first);
    const cutsEnd = overlapping.some((m) => m.first + m.pages > end);
    if (cutsStart || cutsEnd) return { result: 'EINVAL', keep: ref };
  } else if (overlapping[0] !== undefined && overlapping[0].first < first) {
    return { result: 0, keep: ref };
  }
  const bytes = overlapping.reduce((sum, m) => sum + m.pages * PAGE, 0);
  return { result: bytes, keep: ref.filter((m) => !overlapping.includes(m)) };
}

describe.each([
  ['TYPE1v2', VFIO_TYPE1v2_IOMMU, true],
  ['TYPE1', VFIO_TYPE1_IOMMU, false],
] as const)('%s over random MAP/UNMAP sequences', (_name, type, v2) => {
  it('matches the reference model; mappings never overlap; accounting returns to the start after unmap-all', () => {
    fc.assert(
      fc.property(
        fc.array(command, { maxLength: 40, size: 'max' }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 64 }),
        (commands, limit, memlockPages) => {
          // RLIMIT_MEMLOCK in pages: small enough that ENOMEM comes up in most runs.
          const f = type1Fixture({ type, dmaEntryLimit: limit, rlimitMemlock: memlockPages * PAGE });
          const container = f.process.fdget(f.container.fd) as VfioContainer;
          const iommu = container.type1;
          if (iommu === null) throw new KernelError('ENODEV', 'type1 not set');
          const domain = f.iommuGroup.domains[0];
          let ref: RefMap[] = [];
          for (const c of commands) {
            if (c.op === 'map') {
              const overlaps = ref.some((m) => c.first < m.first + m.pages && m.first < c.first + c.pages);
              const locked = ref.reduce((sum, m) => sum + m.pages, 0);
              // vfio_dma_do_map's order: EEXIST, ENOSPC, (IOVA ranges: always valid here), then
              // the pin charges locked_vm and fails ENOMEM past RLIMIT_MEMLOCK.
              const expected = overlaps
                ? 'EEXIST'
                : ref.length >= limit
                  ? 'ENOSPC'
                  : locked + c.pages > memlockPages
                    ? 'ENOMEM'
                    : undefined;
              const got = outcome(() =>
                f.container.mapDma({
                  iova: BASE + c.first * PAGE,
                  size: c.pages * PAGE,
                  vaddr: GUEST_RAM_VADDR + c.vpage * PAGE,
                }),
              );
              expect(got, JSON.stringify(c)).toBe(expected);
              if (expected === undefined) ref.push({ first: c.first, pages: c.pages, vpage: c.vpage });
            } else if (c.op === 'unmap') {
              const { result, keep } = expectedUnmap(ref, v2, c.first, c.pages);
              expect(
                outcome(() =>
                  Number(f.container.unmapDma({ iova: BASE + c.first * PAGE, size: c.pages * PAGE })),
                ),
                JSON.stringify(c),
              ).toBe(result);
              ref = keep;
            } else {
              const bytes = ref.reduce((sum, m) => sum + m.pages * PAGE, 0);
              expect(f.container.unmapDma({ all: true })).toBe(BigInt(bytes));
              ref = [];
            }
            // Invariants: the tree equals the model, is sorted without overlap, accounting adds up.
            const dmas = iommu.dmas.all();
            expect(dmas.map((d) => [d.iova, d.size])).toEqual(
              [...ref].sort((a, b) => a.first - b.first).map((m) => [BASE + m.first * PAGE, m.pages * PAGE]),
            );
            for (let i = 1; i < dmas.length; i++) {
              const prev = dmas[i - 1];
              const cur = dmas[i];
              if (prev !== undefined && cur !== undefined)
                expect(prev.iova + prev.size).toBeLessThanOrEqual(cur.iova);
            }
            const pages = ref.reduce((sum, m) => sum + m.pages, 0);
            expect(f.process.mm.lockedVm).toBe(pages);
            expect(iommu.dmaAvail).toBe(limit - ref.length);
            for (const m of ref) {
              const probe = (BASE + (m.first + m.pages - 1) * PAGE + 8) as Iova;
              expect(domain?.translate(probe, 'read')).toBe(
                GUEST_RAM_PHYS + (m.vpage + m.pages - 1) * PAGE + 8,
              );
            }
          }
          f.container.unmapDma({ all: true });
          expect(f.process.mm.lockedVm).toBe(0);
          expect(iommu.dmaAvail).toBe(limit);
          expect(f.container.iommuInfo().dmaAvail).toBe(limit);
          expect(domain?.mappingCount).toBe(0);
          const hole = domain?.translate(BASE as Iova, 'read');
          expect(hole !== undefined && isIommuFault(hole)).toBe(true);
        },
      ),
    );
  });
});
