import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { testContext } from './test-support/fixture.js';
import {
  iommufdVfioIoctl,
  VFIO_COMPAT_CHECK_EXTENSION,
  VFIO_COMPAT_IOMMU_GET_INFO,
  VFIO_COMPAT_IOMMU_MAP_DMA,
  VFIO_COMPAT_IOMMU_UNMAP_DMA,
  VFIO_COMPAT_SET_IOMMU,
} from './vfio-compat.js';

// drivers/iommu/iommufd/vfio_compat.c (Linux 6.12): the VFIO container ioctls on /dev/iommu.
// The oracle scenario iommufd-vfio-compat checks the same rows on the real kernel.
const CONFIG = { vfioNoiommu: true };

function map(argsz: number, flags: number, vaddr: number, iova: number, size: number): Uint8Array {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  v.setUint32(0, argsz, true);
  v.setUint32(4, flags, true);
  v.setBigUint64(8, BigInt(vaddr), true);
  v.setBigUint64(16, BigInt(iova), true);
  v.setBigUint64(24, BigInt(size), true);
  return b;
}

function unmap(flags: number, iova: number, size: number): Uint8Array {
  const b = new Uint8Array(24);
  const v = new DataView(b.buffer);
  v.setUint32(0, 24, true);
  v.setUint32(4, flags, true);
  v.setBigUint64(8, BigInt(iova), true);
  v.setBigUint64(16, BigInt(size), true);
  return b;
}

describe('VFIO container ioctls on /dev/iommu', () => {
  it('without a compat IOAS: GET_INFO, MAP/UNMAP, SET_IOMMU type1 and DMA_CC are ENODEV (get_compat_ioas); SET_IOMMU SPAPR is EINVAL', () => {
    const ctx = testContext();
    const info = new Uint8Array(24);
    new DataView(info.buffer).setUint32(0, 24, true);
    expect(thrownErrno(() => iommufdVfioIoctl(ctx, VFIO_COMPAT_IOMMU_GET_INFO, info, CONFIG))).toBe('ENODEV');
    expect(
      thrownErrno(() =>
        iommufdVfioIoctl(ctx, VFIO_COMPAT_IOMMU_MAP_DMA, map(32, 1, 0x10_0000, 0, 0x1000), CONFIG),
      ),
    ).toBe('ENODEV');
    expect(thrownErrno(() => iommufdVfioIoctl(ctx, VFIO_COMPAT_SET_IOMMU, 3, CONFIG))).toBe('ENODEV');
    expect(thrownErrno(() => iommufdVfioIoctl(ctx, VFIO_COMPAT_SET_IOMMU, 2, CONFIG))).toBe('EINVAL');
    expect(thrownErrno(() => iommufdVfioIoctl(ctx, VFIO_COMPAT_CHECK_EXTENSION, 4, CONFIG))).toBe('ENODEV');
    expect(iommufdVfioIoctl(ctx, VFIO_COMPAT_CHECK_EXTENSION, 8, CONFIG)).toBe(1);
    expect(iommufdVfioIoctl(ctx, VFIO_COMPAT_CHECK_EXTENSION, 8, { vfioNoiommu: false })).toBe(0);
  });
  it('MAP_DMA: a short argsz or an unknown flag (VADDR) is EINVAL; flags 0 maps (unlike type1)', () => {
    const ctx = testContext();
    ctx.vfioIoas({ op: 1, ioas_id: ctx.ioasAlloc() });
    expect(
      thrownErrno(() =>
        iommufdVfioIoctl(ctx, VFIO_COMPAT_IOMMU_MAP_DMA, map(24, 1, 0x10_0000, 0, 0x1000), CONFIG),
      ),
    ).toBe('EINVAL');
    expect(
      thrownErrno(() =>
        iommufdVfioIoctl(ctx, VFIO_COMPAT_IOMMU_MAP_DMA, map(32, 4, 0x10_0000, 0, 0x1000), CONFIG),
      ),
    ).toBe('EINVAL');
    expect(
      iommufdVfioIoctl(ctx, VFIO_COMPAT_IOMMU_MAP_DMA, map(32, 0, 0x10_0000, 0x20_0000, 0x1000), CONFIG),
    ).toBe(0);
  });
  it('UNMAP_DMA: nothing mapped is size 0 (not ENOENT); ALL with an iova is EINVAL; VFIO_TYPE1_IOMMU lets an unmap cut a mapping', () => {
    const ctx = testContext();
    ctx.vfioIoas({ op: 1, ioas_id: ctx.ioasAlloc() });
    const none = unmap(0, 0x10_0000, 0x1000);
    iommufdVfioIoctl(ctx, VFIO_COMPAT_IOMMU_UNMAP_DMA, none, CONFIG);
    expect(new DataView(none.buffer).getBigUint64(16, true)).toBe(0n);
    expect(
      thrownErrno(() => iommufdVfioIoctl(ctx, VFIO_COMPAT_IOMMU_UNMAP_DMA, unmap(2, 0x1000, 0), CONFIG)),
    ).toBe('EINVAL');
    iommufdVfioIoctl(ctx, VFIO_COMPAT_SET_IOMMU, 1, CONFIG);
    iommufdVfioIoctl(ctx, VFIO_COMPAT_IOMMU_MAP_DMA, map(32, 1, 0x10_0000, 0x60_0000, 0x3000), CONFIG);
    const middle = unmap(0, 0x60_1000, 0x1000);
    iommufdVfioIoctl(ctx, VFIO_COMPAT_IOMMU_UNMAP_DMA, middle, CONFIG);
    expect(new DataView(middle.buffer).getBigUint64(16, true)).toBe(0x1000n);
    expect(ctx.ioasUnmap({ ioas_id: 1, iova: 0, length: (1n << 64n) - 1n })).toBe(0x2000n);
  });
  it('destroying the compat IOAS forgets it (iommufd_object_remove)', () => {
    const ctx = testContext();
    const id = ctx.ioasAlloc();
    ctx.vfioIoas({ op: 1, ioas_id: id });
    ctx.destroy(id);
    expect(thrownErrno(() => ctx.vfioIoas({ op: 0 }))).toBe('ENODEV');
  });
});
