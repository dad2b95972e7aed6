import { KernelError } from '@vfiokit/core';
import type { IommufdContext } from './context.js';
import { hwptGetDirtyBitmap, hwptInvalidate, hwptSetDirtyTracking } from './device/hwpt-ioctls.js';
import {
  IOMMU_DESTROY,
  IOMMU_GET_HW_INFO,
  IOMMU_HWPT_ALLOC,
  IOMMU_HWPT_GET_DIRTY_BITMAP,
  IOMMU_HWPT_INVALIDATE,
  IOMMU_HWPT_SET_DIRTY_TRACKING,
  IOMMU_IOAS_ALLOC,
  IOMMU_IOAS_ALLOW_IOVAS,
  IOMMU_IOAS_COPY,
  IOMMU_IOAS_IOVA_RANGES,
  IOMMU_IOAS_MAP,
  IOMMU_IOAS_UNMAP,
  IOMMU_OPTION,
  IOMMU_VFIO_IOAS,
  IOMMUFD_CMD_BASE,
  IOMMUFD_CMD_FAULT_QUEUE_ALLOC,
  IOMMUFD_TYPE,
} from './uapi/constants.js';
import {
  decodeStruct,
  encodeStruct,
  IOMMU_DESTROY_STRUCT,
  IOMMU_HW_INFO_STRUCT,
  IOMMU_HWPT_ALLOC_STRUCT,
  IOMMU_HWPT_GET_DIRTY_BITMAP_STRUCT,
  IOMMU_HWPT_INVALIDATE_STRUCT,
  IOMMU_HWPT_SET_DIRTY_TRACKING_STRUCT,
  IOMMU_IOAS_ALLOC_STRUCT,
  IOMMU_IOAS_ALLOW_IOVAS_STRUCT,
  IOMMU_IOAS_COPY_STRUCT,
  IOMMU_IOAS_IOVA_RANGES_STRUCT,
  IOMMU_IOAS_MAP_STRUCT,
  IOMMU_IOAS_UNMAP_STRUCT,
  IOMMU_OPTION_STRUCT,
  IOMMU_VFIO_IOAS_STRUCT,
  type IommufdStruct,
} from './uapi/structs.js';
import { iommufdVfioIoctl } from './vfio-compat.js';

interface Op {
  readonly struct: IommufdStruct;
  /** `offsetofend(struct, last)`: the smallest `size` the kernel accepts. */
  readonly minSize: number;
  readonly execute: (
    ctx: IommufdContext,
    cmd: Record<string, bigint>,
    bytes: Uint8Array,
    arg: Uint8Array,
  ) => Record<string, bigint> | null;
}

const n = (v: bigint | undefined): number => Number(v ?? 0n);
const end = (s: IommufdStruct, field: string): number => {
  const f = s.fields[field];
  if (f === undefined) throw new RangeError(`${s.name} has no ${field}`);
  return f.offset + f.size;
};

// iommufd_ioctl_ops of drivers/iommu/iommufd/main.c (Linux 6.12), for the ioctls the model serves.
/**
 * An ioctl that responded (wrote its struct back) and then failed, as IOMMU_IOAS_IOVA_RANGES
 * does with -EMSGSIZE: the dispatcher copies `reply` out, then throws `error`.
 */
class RespondedError extends Error {
  constructor(
    readonly reply: Record<string, bigint>,
    readonly error: KernelError,
  ) {
    super(error.message);
  }
}

const OPS = new Map<number, Op>([
  [
    IOMMU_DESTROY,
    {
      struct: IOMMU_DESTROY_STRUCT,
      minSize: end(IOMMU_DESTROY_STRUCT, 'id'),
      execute: (ctx, c) => {
        ctx.destroy(n(c.id));
        return null;
      },
    },
  ],
  [
    IOMMU_IOAS_ALLOC,
    {
      struct: IOMMU_IOAS_ALLOC_STRUCT,
      minSize: end(IOMMU_IOAS_ALLOC_STRUCT, 'out_ioas_id'),
      execute: (ctx, c) => ({ out_ioas_id: BigInt(ctx.ioasAlloc({ flags: n(c.flags) })) }),
    },
  ],
  [
    IOMMU_IOAS_MAP,
    {
      struct: IOMMU_IOAS_MAP_STRUCT,
      minSize: end(IOMMU_IOAS_MAP_STRUCT, 'iova'),
      execute: (ctx, c) => ({
        iova: ctx.ioasMap({
          flags: n(c.flags),
          ioas_id: n(c.ioas_id),
          user_va: c.user_va ?? 0n,
          length: c.length ?? 0n,
          iova: c.iova ?? 0n,
          __reserved: n(c.__reserved),
        }),
      }),
    },
  ],
  [
    IOMMU_IOAS_UNMAP,
    {
      struct: IOMMU_IOAS_UNMAP_STRUCT,
      minSize: end(IOMMU_IOAS_UNMAP_STRUCT, 'length'),
      execute: (ctx, c) => ({
        length: ctx.ioasUnmap({ ioas_id: n(c.ioas_id), iova: c.iova ?? 0n, length: c.length ?? 0n }),
      }),
    },
  ],
  [
    IOMMU_IOAS_COPY,
    {
      struct: IOMMU_IOAS_COPY_STRUCT,
      minSize: end(IOMMU_IOAS_COPY_STRUCT, 'src_iova'),
      execute: (ctx, c) => ({
        dst_iova: ctx.ioasCopy({
          flags: n(c.flags),
          dst_ioas_id: n(c.dst_ioas_id),
          src_ioas_id: n(c.src_ioas_id),
          length: c.length ?? 0n,
          dst_iova: c.dst_iova ?? 0n,
          src_iova: c.src_iova ?? 0n,
        }),
      }),
    },
  ],
  [
    IOMMU_IOAS_IOVA_RANGES,
    {
      struct: IOMMU_IOAS_IOVA_RANGES_STRUCT,
      minSize: end(IOMMU_IOAS_IOVA_RANGES_STRUCT, 'out_iova_alignment'),
      execute: (ctx, c) => {
        const { ranges, out_iova_alignment } = ctx.ioasIovaRanges({
          ioas_id: n(c.ioas_id),
          __reserved: n(c.__reserved),
        });
        const max = n(c.num_iovas);
        if (max > 0) {
          const copy = ctx.task.copyToUser;
          if (copy === undefined) throw new KernelError('EFAULT', 'cannot copy the ranges out');
          const out = new Uint8Array(16 * Math.min(max, ranges.length));
          const view = new DataView(out.buffer);
          ranges.slice(0, max).forEach((r, i) => {
            view.setBigUint64(16 * i, r.start, true);
            view.setBigUint64(16 * i + 8, r.last, true);
          });
          if (out.length > 0) copy.call(ctx.task, n(c.allowed_iovas), out);
        }
        // ioas.c: iommufd_ucmd_respond writes num_iovas (the real count) back, then
        // `if (cmd->num_iovas > max_iovas) rc = -EMSGSIZE`: the caller learns the size it needs.
        const reply = { num_iovas: BigInt(ranges.length), out_iova_alignment };
        if (ranges.length > max)
          throw new RespondedError(
            reply,
            new KernelError('EMSGSIZE', `${ranges.length} ranges, room for ${max}`),
          );
        return reply;
      },
    },
  ],
  [
    IOMMU_IOAS_ALLOW_IOVAS,
    {
      struct: IOMMU_IOAS_ALLOW_IOVAS_STRUCT,
      minSize: end(IOMMU_IOAS_ALLOW_IOVAS_STRUCT, 'allowed_iovas'),
      execute: (ctx, c) => {
        const count = n(c.num_iovas);
        const ranges: { start: bigint; last: bigint }[] = [];
        if (count > 0) {
          const from = ctx.task.copyFromUser;
          if (from === undefined) throw new KernelError('EFAULT', 'cannot read the ranges');
          const bytes = from.call(ctx.task, n(c.allowed_iovas), 16 * count);
          const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          for (let i = 0; i < count; i++)
            ranges.push({
              start: view.getBigUint64(16 * i, true),
              last: view.getBigUint64(16 * i + 8, true),
            });
        }
        ctx.ioasAllowIovas({ ioas_id: n(c.ioas_id), allowed_iovas: ranges, __reserved: n(c.__reserved) });
        return null;
      },
    },
  ],
  [
    IOMMU_VFIO_IOAS,
    {
      struct: IOMMU_VFIO_IOAS_STRUCT,
      minSize: end(IOMMU_VFIO_IOAS_STRUCT, '__reserved'),
      execute: (ctx, c) => {
        const id = ctx.vfioIoas({ op: n(c.op), ioas_id: n(c.ioas_id), __reserved: n(c.__reserved) });
        // Only GET responds (iommufd_ucmd_respond); SET and CLEAR write nothing back.
        return n(c.op) === 0 ? { ioas_id: BigInt(id) } : null;
      },
    },
  ],
  [
    IOMMU_OPTION,
    {
      struct: IOMMU_OPTION_STRUCT,
      minSize: end(IOMMU_OPTION_STRUCT, 'val64'),
      execute: (ctx, c) => ({
        val64: ctx.option({
          option_id: n(c.option_id),
          op: n(c.op),
          object_id: n(c.object_id),
          val64: c.val64 ?? 0n,
          __reserved: n(c.__reserved),
        }),
      }),
    },
  ],
  [
    IOMMU_HWPT_ALLOC,
    {
      struct: IOMMU_HWPT_ALLOC_STRUCT,
      minSize: end(IOMMU_HWPT_ALLOC_STRUCT, '__reserved'),
      execute: (ctx, c) => ({
        out_hwpt_id: BigInt(
          ctx.hwptAlloc({
            flags: n(c.flags),
            dev_id: n(c.dev_id),
            pt_id: n(c.pt_id),
            data_type: n(c.data_type),
            data_len: n(c.data_len),
            __reserved: n(c.__reserved),
          }),
        ),
      }),
    },
  ],
  [
    IOMMU_HWPT_SET_DIRTY_TRACKING,
    {
      struct: IOMMU_HWPT_SET_DIRTY_TRACKING_STRUCT,
      minSize: end(IOMMU_HWPT_SET_DIRTY_TRACKING_STRUCT, '__reserved'),
      execute: (ctx, c) => {
        hwptSetDirtyTracking(ctx, { flags: n(c.flags), hwpt_id: n(c.hwpt_id) });
        return null;
      },
    },
  ],
  [
    IOMMU_HWPT_GET_DIRTY_BITMAP,
    {
      struct: IOMMU_HWPT_GET_DIRTY_BITMAP_STRUCT,
      minSize: end(IOMMU_HWPT_GET_DIRTY_BITMAP_STRUCT, 'data'),
      execute: (ctx, c) => {
        hwptGetDirtyBitmap(ctx, {
          hwpt_id: n(c.hwpt_id),
          flags: n(c.flags),
          __reserved: n(c.__reserved),
          iova: c.iova ?? 0n,
          length: c.length ?? 0n,
          page_size: c.page_size ?? 0n,
        });
        return null;
      },
    },
  ],
  [
    IOMMU_HWPT_INVALIDATE,
    {
      struct: IOMMU_HWPT_INVALIDATE_STRUCT,
      minSize: end(IOMMU_HWPT_INVALIDATE_STRUCT, '__reserved'),
      execute: (ctx, c, _kernel, arg) => {
        try {
          hwptInvalidate(ctx, {
            hwpt_id: n(c.hwpt_id),
            data_uptr: c.data_uptr ?? 0n,
            entry_len: n(c.entry_len),
            entry_num: n(c.entry_num),
            __reserved: n(c.__reserved),
          });
          return null;
        } finally {
          // out: cmd->entry_num = done_num (0) is written back even when the call fails.
          if (arg.length >= 28)
            new DataView(arg.buffer, arg.byteOffset, arg.byteLength).setUint32(24, 0, true);
        }
      },
    },
  ],
  [
    IOMMU_GET_HW_INFO,
    {
      struct: IOMMU_HW_INFO_STRUCT,
      minSize: end(IOMMU_HW_INFO_STRUCT, 'out_capabilities'),
      execute: (ctx, c, bytes) => {
        const reserved = bytes[29] !== 0 || bytes[30] !== 0 || bytes[31] !== 0;
        const info = ctx.getHwInfo({
          flags: n(c.flags),
          dev_id: n(c.dev_id),
          data_len: n(c.data_len),
          data_uptr: c.data_uptr ?? 0n,
          __reserved: reserved ? 1 : 0,
        });
        return {
          data_len: BigInt(info.data_len),
          out_data_type: BigInt(info.out_data_type),
          out_max_pasid_log2: BigInt(info.out_max_pasid_log2),
          out_capabilities: info.out_capabilities,
        };
      },
    },
  ],
]);

/**
 * `iommufd_fops_ioctl` (drivers/iommu/iommufd/main.c): `arg` is the user's struct, updated in
 * place. A number outside iommufd's range goes to the VFIO container ioctls
 * (`iommufd_vfio_ioctl`, vfio-compat.ts), which answer `ENOTTY` for anything else, as does a
 * number in range that is not the op's exact ioctl (`ENOIOCTLCMD`). `size` below the op's
 * minimum is `EINVAL`; a larger `size` with non-zero bytes past the kernel's struct is `E2BIG`
 * (`copy_struct_from_user`); the reply is copied back up to the user's `size`. Returns the
 * ioctl's return value.
 */
export function iommufdIoctl(
  ctx: IommufdContext,
  request: number,
  arg: Uint8Array | number | undefined,
): number {
  const nr = request & 0xff;
  if (nr < IOMMUFD_CMD_BASE || nr > IOMMUFD_CMD_FAULT_QUEUE_ALLOC || request >> 8 !== IOMMUFD_TYPE)
    return iommufdVfioIoctl(ctx, request, arg, { vfioNoiommu: ctx.vfioNoiommu });
  if (!(arg instanceof Uint8Array)) throw new KernelError('EFAULT', 'iommufd ioctls take a struct pointer');
  const op = OPS.get(request);
  if (op === undefined)
    throw new KernelError('ENOTTY', `iommufd ioctl 0x${request.toString(16)} is not modelled`);
  if (arg.length < 4) throw new KernelError('EFAULT', 'no size to read');
  const view = new DataView(arg.buffer, arg.byteOffset, arg.byteLength);
  const userSize = view.getUint32(0, true);
  if (userSize < op.minSize) throw new KernelError('EINVAL', `size ${userSize} < ${op.minSize}`);
  if (userSize > arg.length) throw new KernelError('EFAULT', `size ${userSize} is past the buffer`);
  const kernel = new Uint8Array(op.struct.size);
  kernel.set(arg.subarray(0, Math.min(userSize, op.struct.size)));
  for (let i = op.struct.size; i < userSize; i++)
    if (arg[i] !== 0) throw new KernelError('E2BIG', `byte ${i} past the kernel's struct is not zero`);
  const cmd = decodeStruct(op.struct, kernel);
  let out: ReturnType<Op['execute']>;
  let failure: KernelError | undefined;
  try {
    out = op.execute(ctx, cmd, kernel, arg);
  } catch (error) {
    if (!(error instanceof RespondedError)) throw error;
    out = error.reply;
    failure = error.error;
  }
  if (out !== null) {
    // iommufd_ucmd_respond: copy_to_user(ubuffer, cmd, min(user_size, sizeof(cmd))).
    const reply = encodeStruct(op.struct, { ...cmd, ...out });
    arg.set(reply.subarray(0, Math.min(userSize, op.struct.size)));
  }
  if (failure !== undefined) throw failure;
  return 0;
}
