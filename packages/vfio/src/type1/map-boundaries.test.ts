import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { GUEST_RAM_VADDR, type1Fixture } from '../test-support/type1-fixture.js';

// vfio_dma_do_map / vfio_dma_do_unmap (drivers/vfio/vfio_iommu_type1.c) at the last byte of
// each space: the checks are `iova + size - 1 < iova` (wrap), not "reaches the top".

describe('MAP_DMA at the top of a space', () => {
  it('a mapping on the last page of the 48-bit aperture is inside it (vfio_iommu_iova_dma_valid, inclusive end)', () => {
    const f = type1Fixture();
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 2 ** 48 - 0x1000, size: 0x1000 });
    expect(f.container.unmapDma({ iova: 2 ** 48 - 0x1000, size: 0x1000 })).toBe(0x1000n);
  });

  it('a user range ending at 2^64 - 1 does not wrap: it fails later, as an unmapped address (EFAULT)', () => {
    const f = type1Fixture();
    expect(
      thrownErrno(() =>
        f.container.mapDma({ vaddr: 0xffff_ffff_ffff_f000n, iova: 0x4000_0000, size: 0x1000 }),
      ),
    ).toBe('EFAULT');
  });
});
