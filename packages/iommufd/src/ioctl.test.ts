import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { IommufdFile } from './file.js';
import { iommufdIoctl } from './ioctl.js';
import { testContext, testTask } from './test-support/fixture.js';
import {
  IOMMU_DESTROY,
  IOMMU_IOAS_ALLOC,
  IOMMU_IOAS_IOVA_RANGES,
  IOMMU_IOAS_MAP,
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_UNMAP,
} from './uapi/constants.js';
import {
  decodeStruct,
  encodeStruct,
  IOMMU_DESTROY_STRUCT,
  IOMMU_IOAS_ALLOC_STRUCT,
  IOMMU_IOAS_IOVA_RANGES_STRUCT,
  IOMMU_IOAS_MAP_STRUCT,
  IOMMU_IOAS_UNMAP_STRUCT,
} from './uapi/structs.js';

// iommufd_fops_ioctl (drivers/iommu/iommufd/main.c, Linux 6.12): the size protocol.
describe('iommufdIoctl', () => {
  it('IOMMU_IOAS_ALLOC then IOMMU_IOAS_MAP and IOMMU_IOAS_UNMAP through raw structs', () => {
    const ctx = testContext();
    const alloc = encodeStruct(IOMMU_IOAS_ALLOC_STRUCT, {});
    expect(iommufdIoctl(ctx, IOMMU_IOAS_ALLOC, alloc)).toBe(0);
    const ioas = decodeStruct(IOMMU_IOAS_ALLOC_STRUCT, alloc).out_ioas_id;
    expect(ioas).toBe(1n);
    const map = encodeStruct(IOMMU_IOAS_MAP_STRUCT, {
      flags: IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_FIXED_IOVA,
      ioas_id: ioas ?? 0n,
      user_va: 0x10_0000,
      length: 0x2000,
      iova: 0x4000_0000,
    });
    iommufdIoctl(ctx, IOMMU_IOAS_MAP, map);
    expect(decodeStruct(IOMMU_IOAS_MAP_STRUCT, map).iova).toBe(0x4000_0000n);
    const unmap = encodeStruct(IOMMU_IOAS_UNMAP_STRUCT, {
      ioas_id: ioas ?? 0n,
      iova: 0,
      length: (1n << 64n) - 1n,
    });
    iommufdIoctl(ctx, IOMMU_IOAS_UNMAP, unmap);
    expect(decodeStruct(IOMMU_IOAS_UNMAP_STRUCT, unmap).length).toBe(0x2000n);
  });
  it('main.c:438 a size below the op minimum is EINVAL', () => {
    const ctx = testContext();
    expect(
      thrownErrno(() => iommufdIoctl(ctx, IOMMU_DESTROY, encodeStruct(IOMMU_DESTROY_STRUCT, { size: 4 }))),
    ).toBe('EINVAL');
  });
  it('copy_struct_from_user: a bigger struct is fine when its tail is zero, E2BIG when not', () => {
    const ctx = testContext();
    const bigger = new Uint8Array(24);
    new DataView(bigger.buffer).setUint32(0, 24, true);
    iommufdIoctl(ctx, IOMMU_IOAS_ALLOC, bigger);
    expect(new DataView(bigger.buffer).getUint32(8, true)).toBe(1);
    bigger[20] = 1;
    expect(thrownErrno(() => iommufdIoctl(ctx, IOMMU_IOAS_ALLOC, bigger))).toBe('E2BIG');
  });
  it('main.c:436 a number neither iommufd nor VFIO compat, or a wrong number in range, is ENOTTY; VFIO_GET_API_VERSION is 0', () => {
    const ctx = testContext();
    expect(iommufdIoctl(ctx, 0x3b64, 0)).toBe(0);
    expect(thrownErrno(() => iommufdIoctl(ctx, 0x3b7f, new Uint8Array(16)))).toBe('ENOTTY');
    expect(thrownErrno(() => iommufdIoctl(ctx, 0x3c81, new Uint8Array(16)))).toBe('ENOTTY');
  });
  it('IOMMU_IOAS_IOVA_RANGES writes num_iovas and the alignment back, and the ranges to user memory', () => {
    const ctx = testContext();
    const ioas = ctx.ioasAlloc();
    const cmd = encodeStruct(IOMMU_IOAS_IOVA_RANGES_STRUCT, {
      ioas_id: ioas,
      num_iovas: 4,
      allowed_iovas: 0x10_0000,
    });
    iommufdIoctl(ctx, IOMMU_IOAS_IOVA_RANGES, cmd);
    expect(decodeStruct(IOMMU_IOAS_IOVA_RANGES_STRUCT, cmd)).toMatchObject({
      num_iovas: 1n,
      out_iova_alignment: 1n,
    });
  });

  it('IOMMU_IOAS_IOVA_RANGES with no room: num_iovas written back, then EMSGSIZE (ioas.c iommufd_ioas_iova_ranges)', () => {
    const ctx = testContext();
    const ioas = ctx.ioasAlloc();
    // A fresh IOAS has one span, [0, ULONG_MAX]: asking with room for none tells the count.
    const cmd = encodeStruct(IOMMU_IOAS_IOVA_RANGES_STRUCT, {
      ioas_id: ioas,
      num_iovas: 0,
      allowed_iovas: 0,
    });
    expect(thrownErrno(() => iommufdIoctl(ctx, IOMMU_IOAS_IOVA_RANGES, cmd))).toBe('EMSGSIZE');
    expect(decodeStruct(IOMMU_IOAS_IOVA_RANGES_STRUCT, cmd)).toMatchObject({
      num_iovas: 1n,
      out_iova_alignment: 1n,
    });
  });
});

describe('IommufdFile', () => {
  it('has no read, write or mmap; ioctl needs a struct; release closes the context', () => {
    const file = new IommufdFile({ task: testTask() });
    expect(thrownErrno(() => file.read())).toBe('EINVAL');
    expect(thrownErrno(() => file.write())).toBe('EINVAL');
    expect(thrownErrno(() => file.mmap())).toBe('ENODEV');
    expect(thrownErrno(() => file.ioctl(null, IOMMU_IOAS_ALLOC, 0))).toBe('EFAULT');
    file.release();
    expect(file.iommufd.released).toBe(true);
    expect(thrownErrno(() => file.release())).toBe('EBADF');
  });
});
