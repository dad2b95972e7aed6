import { KernelError } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VfioContainerHandle } from '../api/container-handle.js';
import { VfioGroupHandle } from '../api/group-handle.js';
import { countingDeviceOps } from '../testing/counting-device.js';
import { testIommuGroup } from '../testing/test-group.js';
import { VFIO_TYPE1v2_IOMMU } from '../uapi/ioctls.js';
import { UserProcess } from '../user/process.js';
import { Vfio } from '../vfio.js';

// IOVAs are u64 in <linux/vfio.h>: nothing in the UAPI may narrow them to 53 bits
// (vfio_iommu_type1.c works in dma_addr_t; vfio_iommu_iova_build_caps reports __u64 ranges).

function withAperture(inputBits: number) {
  const vfio = new Vfio({ allowUnsafeInterrupts: true });
  const iommuGroup = testIommuGroup({ id: 5, devices: [{ name: 'dev0' }], inputBits, reservedRegions: [] });
  vfio.registerGroupDevice({ name: 'dev0', ops: countingDeviceOps(), iommuGroup });
  const process = new UserProcess({ vfio });
  const container = VfioContainerHandle.open(process);
  VfioGroupHandle.open(process, 5).setContainer(container);
  container.setIommu(VFIO_TYPE1v2_IOMMU);
  return container;
}

function emulatedOnly() {
  const vfio = new Vfio();
  const ops = { ...countingDeviceOps(), dmaUnmap: () => undefined };
  vfio.registerEmulatedIommuDevice({ name: 'mdev0', ops });
  const process = new UserProcess({ vfio });
  const container = VfioContainerHandle.open(process);
  VfioGroupHandle.open(process, [...vfio.groups.keys()][0] ?? '').setContainer(container);
  container.setIommu(VFIO_TYPE1v2_IOMMU);
  return container;
}

describe('IOVAs up to 2^64', () => {
  it.each([
    [48, 2n ** 48n - 1n],
    [56, 2n ** 56n - 1n],
    [64, 2n ** 64n - 1n],
  ])('GET_INFO on a %i-bit aperture reports its exact end', (bits, end) => {
    expect(withAperture(bits).iommuInfo().iovaRanges).toEqual([{ start: 0n, end }]);
  });

  it('MAP_DMA past 2^53 on an emulated-only container is recorded, refuses overlaps and unmaps exactly', () => {
    const container = emulatedOnly();
    const high = 2n ** 60n + 0x1000n;
    container.mapDma({ vaddr: 0x10_0000, iova: high, size: 0x2000 });
    expect(
      thrownErrno(() => container.mapDma({ vaddr: 0x10_0000, iova: high + 0x1000n, size: 0x1000 })),
    ).toBe('EEXIST');
    // Adjacent, one page apart: neither is mistaken for the other (no rounding at 2^60).
    container.mapDma({ vaddr: 0x10_0000, iova: high + 0x2000n, size: 0x1000 });
    container.mapDma({ vaddr: 0x10_0000, iova: 2n ** 64n - 0x1000n, size: 0x1000 });
    expect(
      thrownErrno(() => container.mapDma({ vaddr: 0x10_0000, iova: 2n ** 64n - 0x1000n, size: 0x2000 })),
    ).toBe('EINVAL');
    // v2 refuses to split the first mapping.
    expect(thrownErrno(() => container.unmapDma({ iova: high + 0x1000n, size: 0x1000 }))).toBe('EINVAL');
    expect(container.unmapDma({ iova: high, size: 0x3000 })).toBe(0x3000n);
    expect(container.unmapDma({ all: true })).toBe(0x1000n);
  });

  it('property: page-aligned mappings anywhere in the u64 space map and unmap back exactly', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 52n - 2n }),
        fc.integer({ min: 1, max: 4 }),
        (page, pages) => {
          const container = emulatedOnly();
          const iova = page * 0x1000n;
          const size = BigInt(pages) * 0x1000n;
          const fits = iova + size <= 2n ** 64n;
          const got = thrownErrno(() => container.mapDma({ vaddr: 0, iova, size }));
          if (!fits) {
            expect(got).toBe('EINVAL');
            return;
          }
          if (got !== undefined) throw new KernelError('EINVAL', `map failed with ${got}`);
          expect(container.unmapDma({ iova, size })).toBe(size);
        },
      ),
    );
  });
});
