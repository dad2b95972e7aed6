import { KernelError } from '@vfiokit/core';
import type { IommufdContext } from '../context.js';
import { PAGE_SIZE, ULONG_MAX } from '../ioas/bits.js';
import type { IommufdHwptPaging } from './hwpt.js';

// The HWPT ioctls a domain without dirty-tracking ops and without nesting answers
// (drivers/iommu/iommufd/hw_pagetable.c, io_pagetable.c, Linux 6.12): the modelled domains
// (FlatIommuDomain, @vfiokit/smmu's ArmLpaeDomain) have neither, so after the argument checks
// these end in EOPNOTSUPP or ENOENT as the kernel's would for such a domain.

/** `IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX` (hw_pagetable.c). */
export const IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX: number = 1 << 19;

function hwptPaging(ctx: IommufdContext, id: number): IommufdHwptPaging {
  const obj = ctx.object(id);
  // iommufd_get_hwpt_paging: another type is ENOENT.
  if (obj.type !== 'hwpt_paging') throw new KernelError('ENOENT', `object ${id} is not a paging HWPT`);
  return obj as IommufdHwptPaging;
}

/**
 * IOMMU_HWPT_SET_DIRTY_TRACKING (`iommufd_hwpt_set_dirty_tracking`): `EOPNOTSUPP` for a flag
 * other than ENABLE, `ENOENT` for no paging HWPT, `EOPNOTSUPP` for a domain without
 * `dirty_ops` (`iopt_set_dirty_tracking`).
 */
export function hwptSetDirtyTracking(
  ctx: IommufdContext,
  args: { readonly flags: number; readonly hwpt_id: number },
): void {
  if ((args.flags & ~1) !== 0)
    throw new KernelError('EOPNOTSUPP', `dirty tracking flags 0x${args.flags.toString(16)}`);
  hwptPaging(ctx, args.hwpt_id);
  throw new KernelError('EOPNOTSUPP', 'the domain has no dirty_ops');
}

/**
 * IOMMU_HWPT_GET_DIRTY_BITMAP (`iommufd_hwpt_get_dirty_bitmap`): `EOPNOTSUPP` for a flag other
 * than NO_CLEAR or `__reserved`, `ENOENT` for no paging HWPT, then `iommufd_check_iova_range`
 * (`EINVAL` length 0, `EOVERFLOW` on wrap, `EINVAL` unaligned to the IOAS or to page_size, or
 * page_size 0), then `EOPNOTSUPP` for a domain without `dirty_ops`.
 */
export function hwptGetDirtyBitmap(
  ctx: IommufdContext,
  args: {
    readonly hwpt_id: number;
    readonly flags: number;
    readonly __reserved?: number;
    readonly iova: bigint;
    readonly length: bigint;
    readonly page_size: bigint;
  },
): void {
  if ((args.flags & ~1) !== 0 || (args.__reserved ?? 0) !== 0)
    throw new KernelError('EOPNOTSUPP', 'bad dirty bitmap flags or __reserved');
  const hwpt = hwptPaging(ctx, args.hwpt_id);
  const pgsize = hwpt.ioas.iopt.iovaAlignment;
  if (args.length === 0n) throw new KernelError('EINVAL', 'length 0');
  const last = args.iova + args.length - 1n;
  if (last >= 1n << 64n || args.iova > ULONG_MAX || last > ULONG_MAX)
    throw new KernelError('EOVERFLOW', 'iova + length wraps');
  if ((args.iova & (pgsize - 1n)) !== 0n || ((last + 1n) & (pgsize - 1n)) !== 0n)
    throw new KernelError('EINVAL', 'range not aligned to the IOAS');
  if (args.page_size === 0n) throw new KernelError('EINVAL', 'page_size 0');
  if ((args.iova & (args.page_size - 1n)) !== 0n || ((last + 1n) & (args.page_size - 1n)) !== 0n)
    throw new KernelError('EINVAL', 'range not aligned to page_size');
  throw new KernelError('EOPNOTSUPP', 'the domain has no dirty_ops');
}

/**
 * IOMMU_HWPT_INVALIDATE (`iommufd_hwpt_invalidate`): `EOPNOTSUPP` for `__reserved`, `EINVAL`
 * for entries without a pointer or length, longer than a page or too many, then `ENOENT`: only
 * nested HWPTs take invalidations, and the model has none. `entry_num` is written back as 0.
 */
export function hwptInvalidate(
  ctx: IommufdContext,
  args: {
    readonly hwpt_id: number;
    readonly data_uptr: bigint;
    readonly entry_len: number;
    readonly entry_num: number;
    readonly __reserved?: number;
  },
): void {
  if ((args.__reserved ?? 0) !== 0) throw new KernelError('EOPNOTSUPP', '__reserved is set');
  if (
    args.entry_num !== 0 &&
    (args.data_uptr === 0n ||
      args.entry_len === 0 ||
      BigInt(args.entry_len) > PAGE_SIZE ||
      args.entry_num > IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX)
  )
    throw new KernelError('EINVAL', 'bad invalidation array');
  const obj = ctx.object(args.hwpt_id);
  throw new KernelError('ENOENT', `object ${obj.id} is not a nested HWPT`);
}
