import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { testContext, testGroup } from '../test-support/fixture.js';
import {
  hwptGetDirtyBitmap,
  hwptInvalidate,
  hwptSetDirtyTracking,
  IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX,
} from './hwpt-ioctls.js';

// hw_pagetable.c / io_pagetable.c (Linux 6.12) for a domain without dirty_ops or nesting.
function withHwpt() {
  const ctx = testContext();
  const ioas = ctx.ioasAlloc();
  const idev = ctx.deviceBind({ group: testGroup(), device: 'dev0' });
  const hwpt = ctx.hwptAlloc({ dev_id: idev.id, pt_id: ioas });
  return { ctx, ioas, hwpt };
}

describe('HWPT dirty tracking and invalidation on the modelled domains', () => {
  it('SET_DIRTY_TRACKING: hw_pagetable.c a flag past ENABLE is EOPNOTSUPP, an IOAS id ENOENT, no dirty_ops EOPNOTSUPP', () => {
    const { ctx, ioas, hwpt } = withHwpt();
    expect(thrownErrno(() => hwptSetDirtyTracking(ctx, { flags: 2, hwpt_id: hwpt }))).toBe('EOPNOTSUPP');
    expect(thrownErrno(() => hwptSetDirtyTracking(ctx, { flags: 1, hwpt_id: ioas }))).toBe('ENOENT');
    expect(thrownErrno(() => hwptSetDirtyTracking(ctx, { flags: 1, hwpt_id: hwpt }))).toBe('EOPNOTSUPP');
  });
  it('GET_DIRTY_BITMAP: iommufd_check_iova_range errnos come before the missing dirty_ops', () => {
    const { ctx, hwpt } = withHwpt();
    const base = { hwpt_id: hwpt, flags: 0, iova: 0x1000n, length: 0x1000n, page_size: 0x1000n };
    expect(thrownErrno(() => hwptGetDirtyBitmap(ctx, { ...base, flags: 2 }))).toBe('EOPNOTSUPP');
    expect(thrownErrno(() => hwptGetDirtyBitmap(ctx, { ...base, length: 0n }))).toBe('EINVAL');
    expect(
      thrownErrno(() => hwptGetDirtyBitmap(ctx, { ...base, iova: (1n << 64n) - 0x1000n, length: 0x2000n })),
    ).toBe('EOVERFLOW');
    expect(thrownErrno(() => hwptGetDirtyBitmap(ctx, { ...base, iova: 0x1800n }))).toBe('EINVAL');
    expect(thrownErrno(() => hwptGetDirtyBitmap(ctx, { ...base, page_size: 0n }))).toBe('EINVAL');
    expect(thrownErrno(() => hwptGetDirtyBitmap(ctx, base))).toBe('EOPNOTSUPP');
  });
  it('INVALIDATE: bad arrays are EINVAL, and a paging HWPT is ENOENT (only nested ones take it)', () => {
    const { ctx, hwpt } = withHwpt();
    const base = { hwpt_id: hwpt, data_uptr: 0x1000n, entry_len: 16, entry_num: 1 };
    expect(thrownErrno(() => hwptInvalidate(ctx, { ...base, __reserved: 1 }))).toBe('EOPNOTSUPP');
    expect(thrownErrno(() => hwptInvalidate(ctx, { ...base, data_uptr: 0n }))).toBe('EINVAL');
    expect(thrownErrno(() => hwptInvalidate(ctx, { ...base, entry_len: 0x1001 }))).toBe('EINVAL');
    expect(
      thrownErrno(() => hwptInvalidate(ctx, { ...base, entry_num: IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX + 1 })),
    ).toBe('EINVAL');
    expect(thrownErrno(() => hwptInvalidate(ctx, base))).toBe('ENOENT');
    expect(thrownErrno(() => hwptInvalidate(ctx, { ...base, entry_num: 0, hwpt_id: 99 }))).toBe('ENOENT');
  });
});
