import { isKernelError } from '@vfiokit/core';
import type { HostProcess } from '@vfiokit/host';
import {
  VFIO_CHECK_EXTENSION,
  VFIO_DEVICE_GET_INFO,
  VFIO_DEVICE_GET_IRQ_INFO,
  VFIO_DEVICE_GET_REGION_INFO,
  VFIO_DEVICE_RESET,
  VFIO_DEVICE_SET_IRQS,
  VFIO_GET_API_VERSION,
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_GET_STATUS,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_GROUP_UNSET_CONTAINER,
  VFIO_IOMMU_GET_INFO,
  VFIO_IOMMU_MAP_DMA,
  VFIO_IOMMU_UNMAP_DMA,
  VFIO_SET_IOMMU,
  vfioDeviceInfo,
  vfioGroupStatus,
  vfioIommuType1DmaMap,
  vfioIommuType1DmaUnmap,
  vfioIommuType1Info,
  vfioIrqInfo,
  vfioIrqSet,
  vfioRegionInfo,
} from '@vfiokit/vfio/uapi';
import type { NameTable } from './names.js';
import { latin1, ScenarioError, type ScenarioLine, type Token } from './scenario.js';

/** A name, a number, or names joined by `|` (runner.c `named`). */
export interface NamedValue {
  readonly name: string;
  readonly value: number;
}

export const IOMMU_NAMES: readonly NamedValue[] = [
  { name: 'VFIO_TYPE1_IOMMU', value: 1 },
  { name: 'VFIO_SPAPR_TCE_IOMMU', value: 2 },
  { name: 'VFIO_TYPE1v2_IOMMU', value: 3 },
  { name: 'VFIO_DMA_CC_IOMMU', value: 4 },
  { name: 'VFIO_EEH', value: 5 },
  { name: 'VFIO_TYPE1_NESTING_IOMMU', value: 6 },
  { name: 'VFIO_SPAPR_TCE_v2_IOMMU', value: 7 },
  { name: 'VFIO_NOIOMMU_IOMMU', value: 8 },
  { name: 'VFIO_UNMAP_ALL', value: 9 },
  { name: 'VFIO_UPDATE_VADDR', value: 10 },
];

export const IRQ_SET_FLAGS: readonly NamedValue[] = [
  { name: 'DATA_NONE', value: 1 << 0 },
  { name: 'DATA_BOOL', value: 1 << 1 },
  { name: 'DATA_EVENTFD', value: 1 << 2 },
  { name: 'ACTION_MASK', value: 1 << 3 },
  { name: 'ACTION_UNMASK', value: 1 << 4 },
  { name: 'ACTION_TRIGGER', value: 1 << 5 },
];

export const MAP_FLAGS: readonly NamedValue[] = [
  { name: 'READ', value: 1 << 0 },
  { name: 'WRITE', value: 1 << 1 },
  { name: 'VADDR', value: 1 << 2 },
];

export const UNMAP_FLAGS: readonly NamedValue[] = [
  { name: 'GET_DIRTY_BITMAP', value: 1 << 0 },
  { name: 'ALL', value: 1 << 1 },
  { name: 'VADDR', value: 1 << 2 },
];

const DATA_TYPE_MASK = 0x7;

/** runner.c `parse_number`: optional `-`, then decimal or `0x` hex; quoted tokens are not numbers. */
export function parseNumber(token: Token | undefined): bigint | undefined {
  if (token === undefined || token.quoted || token.bytes.length === 0) return undefined;
  let text = latin1(token.bytes);
  const negative = text.startsWith('-');
  if (negative) text = text.slice(1);
  let value: bigint;
  if (/^0[xX]/.test(text)) {
    if (!/^0[xX][0-9a-fA-F]+$/.test(text)) return undefined;
    value = BigInt(`0x${text.slice(2)}`);
  } else {
    if (!/^[0-9]+$/.test(text)) return undefined;
    value = BigInt(text);
  }
  // unsigned long long arithmetic, then the cast to long long
  value = BigInt.asUintN(64, value);
  return BigInt.asIntN(64, negative ? -value : value);
}

/** runner.c `number`. */
export function numberArg(line: ScenarioLine, index: number): bigint {
  const value = parseNumber(line.tokens[index]);
  if (value === undefined) throw new ScenarioError(line.lineno, `token ${index + 1} is not a number`);
  return value;
}

/** runner.c `named`. */
export function namedArg(line: ScenarioLine, index: number, table: readonly NamedValue[]): bigint {
  const token = line.tokens[index];
  if (token === undefined) throw new ScenarioError(line.lineno, `missing argument ${index + 1}`);
  const number = parseNumber(token);
  if (number !== undefined) return BigInt.asUintN(64, number);
  if (token.quoted)
    throw new ScenarioError(line.lineno, `token ${index + 1}: a name or number, not a string`);
  let out = 0n;
  for (const part of latin1(token.bytes)
    .split('|')
    .filter((p) => p.length > 0)) {
    const entry = table.find((nv) => nv.name === part);
    if (entry === undefined) throw new ScenarioError(line.lineno, `unknown name ${part}`);
    out |= BigInt(entry.value);
  }
  return out;
}

/** runner.c `need_args`. */
export function needArgs(line: ScenarioLine, first: number, count: number): void {
  if (line.tokens.length - first !== count) {
    throw new ScenarioError(
      line.lineno,
      `${latin1(line.tokens[first - 1]?.bytes ?? new Uint8Array())} takes ${count} argument(s)`,
    );
  }
}

/** What an ioctl command needs from the runner. */
export interface IoctlContext {
  readonly line: ScenarioLine;
  /** Index of the FD token (the one after `ioctl`). */
  readonly first: number;
  readonly execute: boolean;
  readonly inBg: boolean;
  readonly names: NameTable;
  readonly process: HostProcess | undefined;
  /** runner.c `fd_of`: the name's fd, or −1 when its defining command failed. */
  readonly fdOf: (index: number) => number;
  /**
   * The ioctls of another table (runner/kvm-ioctls.h `run_kvm_ioctl`): the result text, or
   * undefined when NAME is not one of them. Passed in so this module imports none of them.
   */
  readonly other?: (fd: number, name: string, x: number) => string | undefined;
}

function hex(value: number | bigint): string {
  return `0x${value.toString(16)}`;
}

function errnoOf(error: unknown): string {
  if (isKernelError(error)) return error.code;
  throw error;
}

// ioctl_result(): `ret=N` or the errno name, with fields only after success.
function call(body: () => string): string {
  try {
    return body();
  } catch (error) {
    return errnoOf(error);
  }
}

/** One `ioctl FD NAME ARGS...` (runner.c `run_ioctl`); returns the result text. */
export function runIoctl(ctx: IoctlContext): string {
  const { line, first: a, execute } = ctx;
  if (line.tokens.length < a + 2) throw new ScenarioError(line.lineno, 'ioctl FD NAME ARGS...');
  const fd = ctx.fdOf(a);
  const name = latin1(line.tokens[a + 1]?.bytes ?? new Uint8Array());
  const x = a + 2;
  const proc = (): HostProcess => {
    if (ctx.process === undefined) throw new ScenarioError(line.lineno, 'no process');
    return ctx.process;
  };
  switch (name) {
    case 'VFIO_GET_API_VERSION': {
      needArgs(line, x, 0);
      return execute ? call(() => `ret=${proc().ioctl(fd, VFIO_GET_API_VERSION)}`) : '';
    }
    case 'VFIO_CHECK_EXTENSION':
    case 'VFIO_SET_IOMMU': {
      needArgs(line, x, 1);
      const value = namedArg(line, x, IOMMU_NAMES);
      const request = name === 'VFIO_CHECK_EXTENSION' ? VFIO_CHECK_EXTENSION : VFIO_SET_IOMMU;
      return execute ? call(() => `ret=${proc().ioctl(fd, request, Number(value))}`) : '';
    }
    case 'VFIO_GROUP_GET_STATUS': {
      needArgs(line, x, 0);
      if (!execute) return '';
      return call(() => {
        const bytes = vfioGroupStatus.encode({ argsz: vfioGroupStatus.size, flags: 0 });
        const ret = proc().ioctl(fd, VFIO_GROUP_GET_STATUS, bytes);
        return `ret=${ret} flags=${hex(vfioGroupStatus.decode(bytes).flags)}`;
      });
    }
    case 'VFIO_GROUP_SET_CONTAINER': {
      needArgs(line, x, 1);
      const container = ctx.fdOf(x);
      if (!execute) return '';
      return call(() => {
        const bytes = new Uint8Array(4);
        new DataView(bytes.buffer).setInt32(0, container, true);
        return `ret=${proc().ioctl(fd, VFIO_GROUP_SET_CONTAINER, bytes)}`;
      });
    }
    case 'VFIO_GROUP_UNSET_CONTAINER': {
      needArgs(line, x, 0);
      return execute ? call(() => `ret=${proc().ioctl(fd, VFIO_GROUP_UNSET_CONTAINER)}`) : '';
    }
    case 'VFIO_GROUP_GET_DEVICE_FD': {
      needArgs(line, x, 2);
      if (ctx.inBg) throw new ScenarioError(line.lineno, 'a background job cannot define names');
      const device = cstr(line, x);
      const entry = ctx.names.define(line, x + 1, 'fd');
      if (!execute) return '';
      try {
        const arg = new Uint8Array(device.length + 1);
        for (let i = 0; i < device.length; i++) arg[i] = device.charCodeAt(i);
        entry.fd = proc().ioctl(fd, VFIO_GROUP_GET_DEVICE_FD, arg);
        return 'ret=fd';
      } catch (error) {
        entry.failed = true;
        return errnoOf(error);
      }
    }
    case 'VFIO_DEVICE_GET_INFO': {
      needArgs(line, x, 0);
      if (!execute) return '';
      return call(() => {
        const bytes = vfioDeviceInfo.encode({
          argsz: vfioDeviceInfo.size,
          flags: 0,
          num_regions: 0,
          num_irqs: 0,
          cap_offset: 0,
          pad: 0,
        });
        const ret = proc().ioctl(fd, VFIO_DEVICE_GET_INFO, bytes);
        const info = vfioDeviceInfo.decode(bytes);
        return `ret=${ret} flags=${hex(info.flags)} num_regions=${hex(info.num_regions)} num_irqs=${hex(info.num_irqs)}`;
      });
    }
    case 'VFIO_DEVICE_GET_REGION_INFO': {
      needArgs(line, x, 1);
      const index = numberArg(line, x);
      if (!execute) return '';
      return call(() => {
        const bytes = vfioRegionInfo.encode({
          argsz: vfioRegionInfo.size,
          flags: 0,
          index: Number(BigInt.asUintN(32, index)),
          cap_offset: 0,
          size: 0,
          offset: 0,
        });
        const ret = proc().ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, bytes);
        const info = vfioRegionInfo.decode(bytes);
        const offset = BigInt(info.offset);
        const printed = offset % (1n << 40n) === 0n ? `idx:${offset >> 40n}` : hex(offset);
        return `ret=${ret} flags=${hex(info.flags)} index=${hex(info.index)} size=${hex(info.size)} offset=${printed}`;
      });
    }
    case 'VFIO_DEVICE_GET_IRQ_INFO': {
      needArgs(line, x, 1);
      const index = numberArg(line, x);
      if (!execute) return '';
      return call(() => {
        const bytes = vfioIrqInfo.encode({
          argsz: vfioIrqInfo.size,
          flags: 0,
          index: Number(BigInt.asUintN(32, index)),
          count: 0,
        });
        const ret = proc().ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, bytes);
        const info = vfioIrqInfo.decode(bytes);
        return `ret=${ret} flags=${hex(info.flags)} index=${hex(info.index)} count=${hex(info.count)}`;
      });
    }
    case 'VFIO_DEVICE_SET_IRQS':
      return setIrqs(ctx, fd, x, proc);
    case 'VFIO_DEVICE_RESET': {
      needArgs(line, x, 0);
      return execute ? call(() => `ret=${proc().ioctl(fd, VFIO_DEVICE_RESET)}`) : '';
    }
    case 'VFIO_IOMMU_GET_INFO': {
      needArgs(line, x, 0);
      if (!execute) return '';
      return call(() => {
        const bytes = vfioIommuType1Info.encode({
          argsz: vfioIommuType1Info.size,
          flags: 0,
          iova_pgsizes: 0,
          cap_offset: 0,
          pad: 0,
        });
        const ret = proc().ioctl(fd, VFIO_IOMMU_GET_INFO, bytes);
        const info = vfioIommuType1Info.decode(bytes);
        return `ret=${ret} flags=${hex(info.flags)} iova_pgsizes=${hex(info.iova_pgsizes)}`;
      });
    }
    case 'VFIO_IOMMU_MAP_DMA': {
      needArgs(line, x, 3);
      const iova = numberArg(line, x);
      const size = numberArg(line, x + 1);
      const flags = namedArg(line, x + 2, MAP_FLAGS);
      if (size <= 0n) throw new ScenarioError(line.lineno, 'MAP_DMA SIZE must be > 0');
      if (!execute) return '';
      // The runner maps fresh anonymous memory as vaddr; it stays mapped.
      const vaddr = proc().mmapAnonymous(Number(size));
      return call(() => {
        const bytes = vfioIommuType1DmaMap.encode({
          argsz: vfioIommuType1DmaMap.size,
          flags: Number(BigInt.asUintN(32, flags)),
          vaddr: BigInt(vaddr),
          iova: BigInt.asUintN(64, iova),
          size: BigInt.asUintN(64, size),
        });
        return `ret=${proc().ioctl(fd, VFIO_IOMMU_MAP_DMA, bytes)}`;
      });
    }
    case 'VFIO_IOMMU_UNMAP_DMA': {
      needArgs(line, x, 3);
      const iova = numberArg(line, x);
      const size = numberArg(line, x + 1);
      const flags = namedArg(line, x + 2, UNMAP_FLAGS);
      if (!execute) return '';
      return call(() => {
        const bytes = vfioIommuType1DmaUnmap.encode({
          argsz: vfioIommuType1DmaUnmap.size,
          flags: Number(BigInt.asUintN(32, flags)),
          iova: BigInt.asUintN(64, iova),
          size: BigInt.asUintN(64, size),
        });
        const ret = proc().ioctl(fd, VFIO_IOMMU_UNMAP_DMA, bytes);
        return `ret=${ret} size=${hex(vfioIommuType1DmaUnmap.decode(bytes).size)}`;
      });
    }
    default: {
      const result = ctx.other?.(fd, name, x);
      if (result === undefined) throw new ScenarioError(line.lineno, `unknown ioctl ${name}`);
      return result;
    }
  }
}

function setIrqs(ctx: IoctlContext, fd: number, x: number, proc: () => HostProcess): string {
  const { line } = ctx;
  if (line.tokens.length < x + 4)
    throw new ScenarioError(line.lineno, 'VFIO_DEVICE_SET_IRQS FLAGS INDEX START COUNT [DATA...]');
  const flags = Number(BigInt.asUintN(32, namedArg(line, x, IRQ_SET_FLAGS)));
  const index = numberArg(line, x + 1);
  const start = numberArg(line, x + 2);
  const count = numberArg(line, x + 3);
  const ndata = line.tokens.length - (x + 4);
  const type = flags & DATA_TYPE_MASK;
  const elem = type === 1 << 2 ? 4 : type === 1 << 1 ? 1 : 0;
  if (elem === 0 && ndata > 0) throw new ScenarioError(line.lineno, 'DATA_NONE takes no data arguments');
  const bytes = new Uint8Array(vfioIrqSet.size + elem * ndata);
  vfioIrqSet.encode(
    {
      argsz: bytes.length,
      flags,
      index: Number(BigInt.asUintN(32, index)),
      start: Number(BigInt.asUintN(32, start)),
      count: Number(BigInt.asUintN(32, count)),
    },
    bytes,
  );
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < ndata; i++) {
    const token = line.tokens[x + 4 + i];
    const value = parseNumber(token);
    if (elem === 4) {
      const efd = value === -1n ? -1 : ctx.fdOf(x + 4 + i);
      view.setInt32(vfioIrqSet.size + 4 * i, efd, true);
    } else {
      if (value !== 0n && value !== 1n)
        throw new ScenarioError(line.lineno, 'DATA_BOOL arguments are 0 or 1');
      view.setUint8(vfioIrqSet.size + i, Number(value));
    }
  }
  if (!ctx.execute) return '';
  return call(() => `ret=${proc().ioctl(fd, VFIO_DEVICE_SET_IRQS, bytes)}`);
}

/** runner.c `cstr`: a token used as a C string (no NUL inside). */
export function cstr(line: ScenarioLine, index: number): string {
  const token = line.tokens[index];
  if (token === undefined) throw new ScenarioError(line.lineno, `missing argument ${index + 1}`);
  if (token.bytes.includes(0)) throw new ScenarioError(line.lineno, 'NUL byte in a path or name');
  return latin1(token.bytes);
}
