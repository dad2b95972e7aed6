// The iommufd rows of FORMAT.md's ioctl table on the model (runner/ioctls-iommufd.h
// `run_iommufd_ioctl`): /dev/iommu ioctls and the VFIO device cdev's BIND/ATTACH/DETACH.
import { isKernelError } from '@vfiokit/core';
import type { HostProcess } from '@vfiokit/host';
import {
  decodeStruct,
  encodeStruct,
  IOMMU_DESTROY,
  IOMMU_DESTROY_STRUCT,
  IOMMU_HWPT_GET_DIRTY_BITMAP,
  IOMMU_HWPT_GET_DIRTY_BITMAP_STRUCT,
  IOMMU_HWPT_INVALIDATE,
  IOMMU_HWPT_INVALIDATE_STRUCT,
  IOMMU_HWPT_SET_DIRTY_TRACKING,
  IOMMU_HWPT_SET_DIRTY_TRACKING_STRUCT,
  IOMMU_IOAS_ALLOC,
  IOMMU_IOAS_ALLOC_STRUCT,
  IOMMU_IOAS_ALLOW_IOVAS,
  IOMMU_IOAS_ALLOW_IOVAS_STRUCT,
  IOMMU_IOAS_COPY,
  IOMMU_IOAS_COPY_STRUCT,
  IOMMU_IOAS_IOVA_RANGES,
  IOMMU_IOAS_IOVA_RANGES_STRUCT,
  IOMMU_IOAS_MAP,
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_STRUCT,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_IOAS_UNMAP,
  IOMMU_IOAS_UNMAP_STRUCT,
  IOMMU_OPTION,
  IOMMU_OPTION_STRUCT,
  IOMMU_VFIO_IOAS,
  IOMMU_VFIO_IOAS_STRUCT,
  IommufdFile,
} from '@vfiokit/iommufd';
import {
  VFIO_DEVICE_ATTACH_IOMMUFD_PT,
  VFIO_DEVICE_BIND_IOMMUFD,
  VFIO_DEVICE_DETACH_IOMMUFD_PT,
} from '@vfiokit/vfio/uapi';
import { type IoctlContext, type NamedValue, namedArg, needArgs, numberArg } from './ioctls.js';
import { ScenarioError } from './scenario.js';

const IOAS_MAP_FLAGS: readonly NamedValue[] = [
  { name: 'FIXED_IOVA', value: IOMMU_IOAS_MAP_FIXED_IOVA },
  { name: 'WRITEABLE', value: IOMMU_IOAS_MAP_WRITEABLE },
  { name: 'READABLE', value: IOMMU_IOAS_MAP_READABLE },
];

const hex = (value: bigint | number): string => `0x${value.toString(16)}`;

function call(body: () => string): string {
  try {
    return body();
  } catch (error) {
    if (isKernelError(error)) return error.code;
    throw error;
  }
}

function u32s(...values: number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    view.setUint32(4 * i, v >>> 0, true);
  });
  return bytes;
}

/**
 * The user-memory copies of the iommufd file's task: how the runner's stack buffers are seen
 * (the host model keeps no contents of anonymous memory; `@vfiokit/host` gives the task a
 * byte store). `EBADFD`-like failures surface as the ioctl's own errno first.
 */
function userTask(
  proc: HostProcess,
  fd: number,
): { copyToUser(v: number, b: Uint8Array): void; copyFromUser(v: number, n: number): Uint8Array } {
  const file = proc.fdget(fd);
  const task = file instanceof IommufdFile ? file.iommufd.task : undefined;
  if (task?.copyToUser === undefined || task.copyFromUser === undefined)
    throw new ScenarioError(0, 'the fd is not /dev/iommu with user copies');
  return {
    copyToUser: (v, b) => task.copyToUser?.(v, b),
    copyFromUser: (v, n) => (task.copyFromUser as (v: number, n: number) => Uint8Array)(v, n),
  };
}

const u32At = (bytes: Uint8Array, at: number): number => new DataView(bytes.buffer).getUint32(at, true);

/** One iommufd ioctl: the result text, or undefined when NAME is not one of them. */
export function runIommufdIoctl(ctx: IoctlContext, fd: number, name: string, x: number): string | undefined {
  const { line, execute } = ctx;
  const proc = (): HostProcess => {
    if (ctx.process === undefined) throw new ScenarioError(line.lineno, 'no process');
    return ctx.process;
  };
  switch (name) {
    case 'IOMMU_IOAS_ALLOC': {
      needArgs(line, x, 0);
      if (!execute) return '';
      return call(() => {
        const bytes = encodeStruct(IOMMU_IOAS_ALLOC_STRUCT, {});
        const ret = proc().ioctl(fd, IOMMU_IOAS_ALLOC, bytes);
        return `ret=${ret} out_ioas_id=${hex(decodeStruct(IOMMU_IOAS_ALLOC_STRUCT, bytes).out_ioas_id ?? 0n)}`;
      });
    }
    case 'IOMMU_IOAS_MAP': {
      needArgs(line, x, 4);
      const ioas = numberArg(line, x);
      const iova = numberArg(line, x + 1);
      const length = numberArg(line, x + 2);
      const flags = namedArg(line, x + 3, IOAS_MAP_FLAGS);
      if (!execute) return '';
      // The runner maps LENGTH bytes (one page for 0) of fresh anonymous memory as user_va.
      const va = proc().mmapAnonymous(length > 0n ? Number(length) : 4096);
      return call(() => {
        const bytes = encodeStruct(IOMMU_IOAS_MAP_STRUCT, {
          flags: BigInt.asUintN(32, flags),
          ioas_id: BigInt.asUintN(32, ioas),
          user_va: BigInt(va),
          length: BigInt.asUintN(64, length),
          iova: BigInt.asUintN(64, iova),
        });
        const ret = proc().ioctl(fd, IOMMU_IOAS_MAP, bytes);
        return `ret=${ret} iova=${hex(decodeStruct(IOMMU_IOAS_MAP_STRUCT, bytes).iova ?? 0n)}`;
      });
    }
    case 'IOMMU_IOAS_UNMAP': {
      needArgs(line, x, 3);
      const ioas = numberArg(line, x);
      const iova = numberArg(line, x + 1);
      const length = numberArg(line, x + 2);
      if (!execute) return '';
      return call(() => {
        const bytes = encodeStruct(IOMMU_IOAS_UNMAP_STRUCT, {
          ioas_id: BigInt.asUintN(32, ioas),
          iova: BigInt.asUintN(64, iova),
          length: BigInt.asUintN(64, length),
        });
        const ret = proc().ioctl(fd, IOMMU_IOAS_UNMAP, bytes);
        return `ret=${ret} length=${hex(decodeStruct(IOMMU_IOAS_UNMAP_STRUCT, bytes).length ?? 0n)}`;
      });
    }
    case 'IOMMU_IOAS_IOVA_RANGES': {
      needArgs(line, x, 1);
      const ioas = numberArg(line, x);
      if (!execute) return '';
      // The runner passes a 16-entry array on its stack; here, a page of the process.
      const va = proc().mmapAnonymous(4096);
      return call(() => {
        const bytes = encodeStruct(IOMMU_IOAS_IOVA_RANGES_STRUCT, {
          ioas_id: BigInt.asUintN(32, ioas),
          num_iovas: 16,
          allowed_iovas: BigInt(va),
        });
        const ret = proc().ioctl(fd, IOMMU_IOAS_IOVA_RANGES, bytes);
        const out = decodeStruct(IOMMU_IOAS_IOVA_RANGES_STRUCT, bytes);
        const n = Math.min(Number(out.num_iovas ?? 0n), 16);
        const ranges = userTask(proc(), fd).copyFromUser(va, 16 * n);
        const view = new DataView(ranges.buffer);
        let text = `ret=${ret} num_iovas=${hex(out.num_iovas ?? 0n)} out_iova_alignment=${hex(out.out_iova_alignment ?? 0n)}`;
        for (let i = 0; i < n; i++)
          text += ` [${hex(view.getBigUint64(16 * i, true))},${hex(view.getBigUint64(16 * i + 8, true))}]`;
        return text;
      });
    }
    case 'IOMMU_IOAS_ALLOW_IOVAS': {
      needArgs(line, x, 3);
      const ioas = numberArg(line, x);
      const start = numberArg(line, x + 1);
      const last = numberArg(line, x + 2);
      if (!execute) return '';
      const va = proc().mmapAnonymous(4096);
      return call(() => {
        const range = new Uint8Array(16);
        const view = new DataView(range.buffer);
        view.setBigUint64(0, BigInt.asUintN(64, start), true);
        view.setBigUint64(8, BigInt.asUintN(64, last), true);
        userTask(proc(), fd).copyToUser(va, range);
        const bytes = encodeStruct(IOMMU_IOAS_ALLOW_IOVAS_STRUCT, {
          ioas_id: BigInt.asUintN(32, ioas),
          num_iovas: 1,
          allowed_iovas: BigInt(va),
        });
        return `ret=${proc().ioctl(fd, IOMMU_IOAS_ALLOW_IOVAS, bytes)}`;
      });
    }
    case 'IOMMU_IOAS_COPY': {
      needArgs(line, x, 6);
      const dst = numberArg(line, x);
      const src = numberArg(line, x + 1);
      const srcIova = numberArg(line, x + 2);
      const dstIova = numberArg(line, x + 3);
      const length = numberArg(line, x + 4);
      const flags = namedArg(line, x + 5, IOAS_MAP_FLAGS);
      if (!execute) return '';
      return call(() => {
        const bytes = encodeStruct(IOMMU_IOAS_COPY_STRUCT, {
          flags: BigInt.asUintN(32, flags),
          dst_ioas_id: BigInt.asUintN(32, dst),
          src_ioas_id: BigInt.asUintN(32, src),
          length: BigInt.asUintN(64, length),
          dst_iova: BigInt.asUintN(64, dstIova),
          src_iova: BigInt.asUintN(64, srcIova),
        });
        const ret = proc().ioctl(fd, IOMMU_IOAS_COPY, bytes);
        return `ret=${ret} dst_iova=${hex(decodeStruct(IOMMU_IOAS_COPY_STRUCT, bytes).dst_iova ?? 0n)}`;
      });
    }
    case 'IOMMU_OPTION': {
      needArgs(line, x, 4);
      const option = numberArg(line, x);
      const op = numberArg(line, x + 1);
      const object = numberArg(line, x + 2);
      const val = numberArg(line, x + 3);
      if (!execute) return '';
      return call(() => {
        const bytes = encodeStruct(IOMMU_OPTION_STRUCT, {
          option_id: BigInt.asUintN(32, option),
          op: BigInt.asUintN(16, op),
          object_id: BigInt.asUintN(32, object),
          val64: BigInt.asUintN(64, val),
        });
        const ret = proc().ioctl(fd, IOMMU_OPTION, bytes);
        return `ret=${ret} val64=${hex(decodeStruct(IOMMU_OPTION_STRUCT, bytes).val64 ?? 0n)}`;
      });
    }
    case 'IOMMU_VFIO_IOAS': {
      needArgs(line, x, 2);
      const op = numberArg(line, x);
      const ioas = numberArg(line, x + 1);
      if (!execute) return '';
      return call(() => {
        const bytes = encodeStruct(IOMMU_VFIO_IOAS_STRUCT, {
          op: BigInt.asUintN(16, op),
          ioas_id: BigInt.asUintN(32, ioas),
        });
        const ret = proc().ioctl(fd, IOMMU_VFIO_IOAS, bytes);
        return `ret=${ret} ioas_id=${hex(decodeStruct(IOMMU_VFIO_IOAS_STRUCT, bytes).ioas_id ?? 0n)}`;
      });
    }
    case 'IOMMU_HWPT_SET_DIRTY_TRACKING': {
      needArgs(line, x, 2);
      const hwpt = numberArg(line, x);
      const flags = numberArg(line, x + 1);
      if (!execute) return '';
      return call(() => {
        const bytes = encodeStruct(IOMMU_HWPT_SET_DIRTY_TRACKING_STRUCT, {
          flags: BigInt.asUintN(32, flags),
          hwpt_id: BigInt.asUintN(32, hwpt),
        });
        return `ret=${proc().ioctl(fd, IOMMU_HWPT_SET_DIRTY_TRACKING, bytes)}`;
      });
    }
    case 'IOMMU_HWPT_GET_DIRTY_BITMAP': {
      needArgs(line, x, 5);
      const [hwpt, flags, iova, length, pageSize] = [0, 1, 2, 3, 4].map((i) => numberArg(line, x + i));
      if (!execute) return '';
      const data = proc().mmapAnonymous(512);
      return call(() => {
        const bytes = encodeStruct(IOMMU_HWPT_GET_DIRTY_BITMAP_STRUCT, {
          hwpt_id: BigInt.asUintN(32, hwpt ?? 0n),
          flags: BigInt.asUintN(32, flags ?? 0n),
          iova: BigInt.asUintN(64, iova ?? 0n),
          length: BigInt.asUintN(64, length ?? 0n),
          page_size: BigInt.asUintN(64, pageSize ?? 0n),
          data: BigInt(data),
        });
        return `ret=${proc().ioctl(fd, IOMMU_HWPT_GET_DIRTY_BITMAP, bytes)}`;
      });
    }
    case 'IOMMU_HWPT_INVALIDATE': {
      needArgs(line, x, 3);
      const hwpt = numberArg(line, x);
      const entryLen = numberArg(line, x + 1);
      const entryNum = numberArg(line, x + 2);
      if (!execute) return '';
      const entries = proc().mmapAnonymous(4096);
      return call(() => {
        const bytes = encodeStruct(IOMMU_HWPT_INVALIDATE_STRUCT, {
          hwpt_id: BigInt.asUintN(32, hwpt),
          data_uptr: entryNum === 0n ? 0n : BigInt(entries),
          entry_len: BigInt.asUintN(32, entryLen),
          entry_num: BigInt.asUintN(32, entryNum),
        });
        const ret = proc().ioctl(fd, IOMMU_HWPT_INVALIDATE, bytes);
        return `ret=${ret} entry_num=${hex(decodeStruct(IOMMU_HWPT_INVALIDATE_STRUCT, bytes).entry_num ?? 0n)}`;
      });
    }
    case 'IOMMU_DESTROY': {
      needArgs(line, x, 1);
      const id = numberArg(line, x);
      if (!execute) return '';
      return call(
        () =>
          `ret=${proc().ioctl(fd, IOMMU_DESTROY, encodeStruct(IOMMU_DESTROY_STRUCT, { id: BigInt.asUintN(32, id) }))}`,
      );
    }
    case 'VFIO_DEVICE_BIND_IOMMUFD': {
      needArgs(line, x, 1);
      const iommufd = ctx.fdOf(x);
      if (!execute) return '';
      return call(() => {
        const bytes = u32s(16, 0, iommufd, 0);
        const ret = proc().ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, bytes);
        return `ret=${ret} out_devid=${hex(u32At(bytes, 12))}`;
      });
    }
    case 'VFIO_DEVICE_ATTACH_IOMMUFD_PT': {
      needArgs(line, x, 1);
      const pt = numberArg(line, x);
      if (!execute) return '';
      return call(() => {
        const bytes = u32s(12, 0, Number(BigInt.asUintN(32, pt)));
        const ret = proc().ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, bytes);
        return `ret=${ret} pt_id=${hex(u32At(bytes, 8))}`;
      });
    }
    case 'VFIO_DEVICE_DETACH_IOMMUFD_PT': {
      needArgs(line, x, 0);
      if (!execute) return '';
      return call(() => `ret=${proc().ioctl(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, u32s(8, 0))}`);
    }
    default:
      return undefined;
  }
}
