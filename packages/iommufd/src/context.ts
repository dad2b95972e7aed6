import {
  IOMMU_CACHE,
  IOMMU_READ,
  IOMMU_WRITE,
  type IommuGroup,
  isKernelError,
  KernelError,
  type PhysAddr,
  type PhysicalMemory,
  rejectUnknownOptions,
} from '@vfiokit/core';
import { IOMMUFD_ACCESS_RW_WRITE, IommufdAccess, type IommufdAccessOps } from './device/access.js';
import { IommufdDevice, type IommufdGroupState } from './device/device.js';
import { IommufdHwptPaging } from './device/hwpt.js';
import { hex, PAGE_SIZE, type U64, U64_MAX, ULONG_MAX, u64 } from './ioas/bits.js';
import type { Interval } from './ioas/intervals.js';
import { IommufdIoas } from './ioas/ioas.js';
import { type IommufdObject, ObjectTable } from './objects/object-table.js';
import type { IommufdTask } from './task.js';
import {
  IOMMU_HW_INFO_TYPE_NONE,
  IOMMU_HWPT_DATA_NONE,
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_GET,
  IOMMU_OPTION_OP_SET,
  IOMMU_OPTION_RLIMIT_MODE,
} from './uapi/constants.js';

/** Module parameters and platform facts a context sees. */
export interface IommufdContextOptions {
  /** `current` for every ioctl of this file (the opener). */
  readonly task: IommufdTask;
  /** `iommufd.allow_unsafe_interrupts` (default false). */
  readonly allowUnsafeInterrupts?: boolean;
  /** Host memory, for `iommufd_access_rw` (absent: every access rw faults `EFAULT`). */
  readonly memory?: PhysicalMemory;
  /** CONFIG_VFIO_NOIOMMU, which VFIO_CHECK_EXTENSION(VFIO_NOIOMMU_IOMMU) reports (default true, as the oracle's kernel). */
  readonly vfioNoiommu?: boolean;
}

const CONTEXT_KEYS = ['task', 'allowUnsafeInterrupts', 'memory', 'vfioNoiommu'] as const;

/** What `iommufd_device_bind` needs to know about a device. */
export interface IommufdBindOptions {
  /** The device's IOMMU group (`iommu_group_get`); null: `ENODEV`. */
  readonly group: IommuGroup | null;
  /** The device's name in the group. */
  readonly device: string;
  /** `iommu_group_has_isolated_msi`: an MSI controller that isolates (ITS) or none needed. Default false. */
  readonly isolatedMsi?: boolean;
  /** `device_iommu_capable(dev, IOMMU_CAP_DIRTY_TRACKING)`. Default false (SMMUv3 without HTTU). */
  readonly dirtyTracking?: boolean;
}

const BIND_KEYS = ['group', 'device', 'isolatedMsi', 'dirtyTracking'] as const;

/** IOMMU_IOAS_MAP's input (struct iommu_ioas_map, `size` implied). */
export interface IoasMapArgs {
  readonly flags: number;
  readonly ioas_id: number;
  readonly user_va: U64;
  readonly length: U64;
  readonly iova?: U64;
  readonly __reserved?: number;
}

/** IOMMU_IOAS_COPY's input. */
export interface IoasCopyArgs {
  readonly flags: number;
  readonly dst_ioas_id: number;
  readonly src_ioas_id: number;
  readonly length: U64;
  readonly dst_iova?: U64;
  readonly src_iova: U64;
}

/** IOMMU_OPTION's input. */
export interface OptionArgs {
  readonly option_id: number;
  readonly op: number;
  readonly object_id?: number;
  readonly val64?: U64;
  readonly __reserved?: number;
}

/** IOMMU_HWPT_ALLOC's input. */
export interface HwptAllocArgs {
  readonly flags?: number;
  readonly dev_id: number;
  readonly pt_id: number;
  readonly data_type?: number;
  readonly data_len?: number;
  readonly fault_id?: number;
  readonly __reserved?: number;
}

/** IOMMU_GET_HW_INFO's input. */
export interface HwInfoArgs {
  readonly flags?: number;
  readonly dev_id: number;
  readonly data_len?: number;
  readonly data_uptr?: U64;
  readonly __reserved?: number;
}

/** IOMMU_GET_HW_INFO's output. */
export interface HwInfo {
  readonly data_len: number;
  readonly out_data_type: number;
  readonly out_capabilities: bigint;
  readonly out_max_pasid_log2: number;
}

/** IOMMU_IOAS_IOVA_RANGES's output. */
export interface IovaRanges {
  /** Every usable range (the kernel copies at most the caller's `num_iovas` of them). */
  readonly ranges: readonly Interval[];
  readonly out_iova_alignment: bigint;
}

const MAP_FLAGS = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE;
const DEVICE_OWNER = Symbol('iommufd');

/** `conv_iommu_prot`: always IOMMU_CACHE (iommufd requires coherent DMA at bind). */
function convIommuProt(flags: number): number {
  let prot = IOMMU_CACHE;
  if (flags & IOMMU_IOAS_MAP_WRITEABLE) prot |= IOMMU_WRITE;
  if (flags & IOMMU_IOAS_MAP_READABLE) prot |= IOMMU_READ;
  return prot;
}

/**
 * An open `/dev/iommu` (`struct iommufd_ctx`, drivers/iommu/iommufd/main.c, Linux 6.12): its
 * objects by id, the ioctls of `<linux/iommufd.h>` as methods taking the structs' fields
 * (checked in the kernel's order, with its errnos), and the in-kernel API that VFIO uses
 * (`iommufd_device_bind` …, `iommufd_access_create` …; also as free functions of the same
 * names). The file stays alive while bound devices and accesses hold it (`iommufd_ctx_get`).
 */
export class IommufdContext {
  readonly task: IommufdTask;
  private readonly objects = new ObjectTable();
  private readonly groups = new Map<number, IommufdGroupState>();
  private readonly allowUnsafeInterrupts: boolean;
  private readonly memory: PhysicalMemory | undefined;
  /** `ictx->account_mode`: IOPT_PAGES_ACCOUNT_USER unless IOMMU_OPTION_RLIMIT_MODE set MM. */
  private accountMm = false;
  /** References on the file: the fd plus each bound device and access (`iommufd_ctx_get`). */
  private fileRefs = 1;
  private fdOpen = true;
  /** Objects a broken refcount left behind at release (the kernel WARNs). */
  leaked: readonly IommufdObject[] = [];

  /** `iommufd_fops_open`. */
  constructor(options: IommufdContextOptions) {
    rejectUnknownOptions(options, CONTEXT_KEYS, 'IommufdContext');
    this.task = options.task;
    this.allowUnsafeInterrupts = options.allowUnsafeInterrupts ?? false;
    this.memory = options.memory;
    this.vfioNoiommu = options.vfioNoiommu ?? true;
  }

  /** CONFIG_VFIO_NOIOMMU. */
  readonly vfioNoiommu: boolean;

  /** Whether the fd is still open. */
  get open(): boolean {
    return this.fdOpen;
  }

  /** Whether the file has been released (its objects destroyed). */
  get released(): boolean {
    return this.fileRefs === 0;
  }

  /** Objects by id (published ones), for reports and tests. */
  objectIds(): number[] {
    return this.objects.list().map((o) => o.id);
  }

  /** The object behind `id` (any type), `ENOENT` when none. */
  object(id: number): IommufdObject {
    return this.objects.get(id);
  }

  /** Pages pinned by every IOAS of the context (distinct `iopt_pages`). */
  pinnedPages(): number {
    return this.objects
      .list()
      .filter((o): o is IommufdIoas => o.type === 'ioas')
      .reduce((n, ioas) => n + ioas.iopt.pinnedPages(), 0);
  }

  /** `close(fd)`: the release runs when the last reference (bound devices, accesses) goes. */
  close(): void {
    if (!this.fdOpen) throw new KernelError('EBADF', '/dev/iommu is already closed');
    this.fdOpen = false;
    this.put();
  }

  private get(): void {
    this.fileRefs++;
  }

  private put(): void {
    this.fileRefs--;
    if (this.fileRefs === 0) this.leaked = this.objects.release();
  }

  private checkOpen(): void {
    if (!this.fdOpen) throw new KernelError('EBADF', '/dev/iommu is closed');
  }

  // --- ioctls -----------------------------------------------------------------------------

  /** IOMMU_DESTROY: `ENOENT` for no object, `EBUSY` while anything else uses it. */
  destroy(id: number): void {
    this.checkOpen();
    this.objects.destroyById(id);
    // iommufd_object_remove: destroying the compat IOAS forgets it.
    if (this.vfioIoasId === id) this.vfioIoasId = null;
  }

  // --- the VFIO compat IOAS (drivers/iommu/iommufd/vfio_compat.c) -------------------------

  /** `ictx->vfio_ioas`: the IOAS the VFIO container ioctls on this file act on, by id. */
  vfioIoasId: number | null = null;
  /** `ictx->no_iommu_mode`: a no-IOMMU VFIO group was attached (`iommufd_vfio_compat_set_no_iommu`). */
  noIommuMode = false;

  /** `get_compat_ioas`: `ENODEV` without one (or once it was destroyed). */
  compatIoas(): IommufdIoas {
    const id = this.vfioIoasId;
    if (id === null)
      throw new KernelError('ENODEV', 'no compat IOAS (IOMMU_VFIO_IOAS or a VFIO group sets one)');
    return this.objects.get<IommufdIoas>(id, 'ioas');
  }

  /**
   * IOMMU_VFIO_IOAS (`iommufd_vfio_ioas`): `EOPNOTSUPP` for `__reserved` or an unknown op;
   * GET returns the compat IOAS id (`ENODEV` without one), SET takes an IOAS (`ENOENT`),
   * CLEAR forgets it. Returns the id for GET, else 0.
   */
  vfioIoas(args: { readonly op: number; readonly ioas_id?: number; readonly __reserved?: number }): number {
    this.checkOpen();
    rejectUnknownOptions(args, ['op', 'ioas_id', '__reserved'], 'IOMMU_VFIO_IOAS');
    if ((args.__reserved ?? 0) !== 0) throw new KernelError('EOPNOTSUPP', '__reserved is set');
    if (args.op === 0) return this.compatIoas().id;
    if (args.op === 1) {
      this.vfioIoasId = this.objects.get<IommufdIoas>(args.ioas_id ?? 0, 'ioas').id;
      return 0;
    }
    if (args.op === 2) {
      this.vfioIoasId = null;
      return 0;
    }
    throw new KernelError('EOPNOTSUPP', `IOMMU_VFIO_IOAS op ${args.op}`);
  }

  /**
   * `iommufd_vfio_compat_ioas_create` (a VFIO group's SET_CONTAINER with an iommufd): `EINVAL`
   * in no-IOMMU mode; keeps an existing compat IOAS, else allocates one. Returns its id.
   */
  vfioCompatIoasCreate(): number {
    if (this.noIommuMode) throw new KernelError('EINVAL', 'the context is in no-IOMMU mode');
    if (this.vfioIoasId !== null) return this.vfioIoasId;
    this.vfioIoasId = this.ioasAlloc();
    return this.vfioIoasId;
  }

  /** `iommufd_vfio_compat_ioas_get_id`: the compat IOAS's id; `ENODEV` without one. */
  vfioCompatIoasGetId(): number {
    return this.compatIoas().id;
  }

  /** `iommufd_vfio_compat_set_no_iommu`: `EINVAL` once a compat IOAS exists. */
  vfioCompatSetNoIommu(): void {
    if (this.vfioIoasId !== null) throw new KernelError('EINVAL', 'the context has a compat IOAS');
    this.noIommuMode = true;
  }

  /** Whether pages are charged to `mm->locked_vm` (IOPT_PAGES_ACCOUNT_MM). */
  get chargesMm(): boolean {
    return this.accountMm;
  }

  /** IOMMU_IOAS_ALLOC: `EOPNOTSUPP` for any flag. Returns `out_ioas_id`. */
  ioasAlloc(args: { readonly flags?: number } = {}): number {
    this.checkOpen();
    rejectUnknownOptions(args, ['flags'], 'IOMMU_IOAS_ALLOC');
    if ((args.flags ?? 0) !== 0) throw new KernelError('EOPNOTSUPP', 'IOMMU_IOAS_ALLOC takes no flags');
    const ioas = new IommufdIoas();
    this.objects.alloc(ioas);
    this.objects.finalize(ioas);
    return ioas.id;
  }

  /**
   * IOMMU_IOAS_MAP (`iommufd_ioas_map`): unknown flags or `__reserved` → `EOPNOTSUPP`; iova or
   * length ≥ ULONG_MAX → `EOVERFLOW`; neither READABLE nor WRITEABLE → `EINVAL`; no IOAS →
   * `ENOENT`; then `iopt_map_user_pages`. Returns the IOVA (chosen unless FIXED_IOVA).
   */
  ioasMap(args: IoasMapArgs): bigint {
    this.checkOpen();
    rejectUnknownOptions(
      args,
      ['flags', 'ioas_id', 'user_va', 'length', 'iova', '__reserved'],
      'IOMMU_IOAS_MAP',
    );
    const iova = u64(args.iova ?? 0, 'iova');
    const length = u64(args.length, 'length');
    const uptr = u64(args.user_va, 'user_va');
    if ((args.flags & ~MAP_FLAGS) !== 0 || (args.__reserved ?? 0) !== 0)
      throw new KernelError('EOPNOTSUPP', `IOMMU_IOAS_MAP flags ${hex(args.flags)}`);
    if (iova >= ULONG_MAX || length >= ULONG_MAX)
      throw new KernelError('EOVERFLOW', 'iova or length is ULONG_MAX');
    if ((args.flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)) === 0)
      throw new KernelError('EINVAL', 'IOMMU_IOAS_MAP needs READABLE or WRITEABLE');
    const ioas = this.objects.get<IommufdIoas>(args.ioas_id, 'ioas');
    const fixed = (args.flags & IOMMU_IOAS_MAP_FIXED_IOVA) !== 0;
    return ioas.iopt.mapUserPages(
      this.task,
      this.accountMm,
      fixed ? iova : null,
      uptr,
      length,
      convIommuProt(args.flags),
      (args.flags & IOMMU_IOAS_MAP_WRITEABLE) !== 0,
    );
  }

  /**
   * IOMMU_IOAS_UNMAP (`iommufd_ioas_unmap`): `ENOENT` for no IOAS; iova 0 with length U64_MAX
   * unmaps everything (nothing mapped is fine); otherwise `EOVERFLOW` at ULONG_MAX, `EINVAL`
   * for length 0, `ENOENT` when an area sticks out of the range or nothing was unmapped.
   * Returns the bytes unmapped.
   */
  ioasUnmap(args: { readonly ioas_id: number; readonly iova: U64; readonly length: U64 }): bigint {
    this.checkOpen();
    rejectUnknownOptions(args, ['ioas_id', 'iova', 'length'], 'IOMMU_IOAS_UNMAP');
    const iova = u64(args.iova, 'iova');
    const length = u64(args.length, 'length');
    const ioas = this.objects.get<IommufdIoas>(args.ioas_id, 'ioas');
    // iova 0 with length U64_MAX: iopt_unmap_all; an empty IOAS is fine (0 bytes).
    if (iova === 0n && length === U64_MAX) return ioas.iopt.unmapAll();
    if (iova >= ULONG_MAX || length >= ULONG_MAX)
      throw new KernelError('EOVERFLOW', 'iova or length is ULONG_MAX');
    const unmapped = ioas.iopt.unmapIova(iova, length);
    if (unmapped === 0n)
      throw new KernelError('ENOENT', `nothing is mapped in [${hex(iova)}, +${hex(length)})`);
    return unmapped;
  }

  /**
   * IOMMU_IOAS_COPY (`iommufd_ioas_copy`): flags as MAP (`EOPNOTSUPP`, then `EOVERFLOW`, then
   * `EINVAL`), the source range must be fully mapped (`ENOENT`), then it is mapped into the
   * destination sharing the same pages (pinned and charged once). Returns the destination IOVA.
   */
  ioasCopy(args: IoasCopyArgs): bigint {
    this.checkOpen();
    rejectUnknownOptions(
      args,
      ['flags', 'dst_ioas_id', 'src_ioas_id', 'length', 'dst_iova', 'src_iova'],
      'IOMMU_IOAS_COPY',
    );
    const length = u64(args.length, 'length');
    const srcIova = u64(args.src_iova, 'src_iova');
    const dstIova = u64(args.dst_iova ?? 0, 'dst_iova');
    if ((args.flags & ~MAP_FLAGS) !== 0)
      throw new KernelError('EOPNOTSUPP', `IOMMU_IOAS_COPY flags ${hex(args.flags)}`);
    if (length >= ULONG_MAX || srcIova >= ULONG_MAX || dstIova >= ULONG_MAX)
      throw new KernelError('EOVERFLOW', 'an IOVA or the length is ULONG_MAX');
    if ((args.flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)) === 0)
      throw new KernelError('EINVAL', 'IOMMU_IOAS_COPY needs READABLE or WRITEABLE');
    const src = this.objects.get<IommufdIoas>(args.src_ioas_id, 'ioas');
    const slices = src.iopt.getPages(srcIova, length);
    const dst = this.objects.get<IommufdIoas>(args.dst_ioas_id, 'ioas');
    const fixed = (args.flags & IOMMU_IOAS_MAP_FIXED_IOVA) !== 0;
    return dst.iopt.mapPages(slices, length, fixed ? dstIova : null, convIommuProt(args.flags));
  }

  /** IOMMU_IOAS_IOVA_RANGES: `EOPNOTSUPP` for `__reserved`, `ENOENT` for no IOAS. */
  ioasIovaRanges(args: { readonly ioas_id: number; readonly __reserved?: number }): IovaRanges {
    this.checkOpen();
    rejectUnknownOptions(args, ['ioas_id', '__reserved'], 'IOMMU_IOAS_IOVA_RANGES');
    if ((args.__reserved ?? 0) !== 0) throw new KernelError('EOPNOTSUPP', '__reserved is set');
    const ioas = this.objects.get<IommufdIoas>(args.ioas_id, 'ioas');
    return { ranges: ioas.iopt.iovaRanges(), out_iova_alignment: ioas.iopt.iovaAlignment };
  }

  /**
   * IOMMU_IOAS_ALLOW_IOVAS (`iommufd_ioas_allow_iovas`): `EOPNOTSUPP` for `__reserved`,
   * `ENOENT` for no IOAS, `EINVAL` for a range with start ≥ last or overlapping another given
   * one, `EADDRINUSE` when one crosses a reserved range; all or nothing.
   */
  ioasAllowIovas(args: {
    readonly ioas_id: number;
    readonly allowed_iovas: readonly { readonly start: U64; readonly last: U64 }[];
    readonly __reserved?: number;
  }): void {
    this.checkOpen();
    rejectUnknownOptions(args, ['ioas_id', 'allowed_iovas', '__reserved'], 'IOMMU_IOAS_ALLOW_IOVAS');
    if ((args.__reserved ?? 0) !== 0) throw new KernelError('EOPNOTSUPP', '__reserved is set');
    const ioas = this.objects.get<IommufdIoas>(args.ioas_id, 'ioas');
    const ranges: Interval[] = [];
    for (const r of args.allowed_iovas) {
      const start = u64(r.start, 'start');
      const last = u64(r.last, 'last');
      if (start >= last)
        throw new KernelError('EINVAL', `allowed range [${hex(start)}, ${hex(last)}] is empty`);
      if (ranges.some((x) => x.start <= last && start <= x.last))
        throw new KernelError('EINVAL', `allowed range [${hex(start)}, ${hex(last)}] overlaps another`);
      ranges.push({ start, last });
    }
    ioas.iopt.setAllowIova(ranges);
  }

  /**
   * IOMMU_OPTION (`iommufd_option`): `EOPNOTSUPP` for `__reserved` or an unknown option/op.
   * RLIMIT_MODE (object_id 0, else `EOPNOTSUPP`): GET is 1 when pages charge `mm->locked_vm`;
   * SET needs CAP_SYS_RESOURCE (`EPERM`), an empty context (`EBUSY`) and 0 or 1 (`EINVAL`).
   * HUGE_PAGES on an IOAS (`ENOENT`): SET 0 is `EINVAL` once a domain holds mappings.
   * Returns `val64`: the value read (GET), or the one given (SET: main.c copies `val64` back
   * after any successful op).
   */
  option(args: OptionArgs): bigint {
    this.checkOpen();
    rejectUnknownOptions(args, ['option_id', 'op', 'object_id', 'val64', '__reserved'], 'IOMMU_OPTION');
    if ((args.__reserved ?? 0) !== 0) throw new KernelError('EOPNOTSUPP', '__reserved is set');
    const objectId = args.object_id ?? 0;
    const val = u64(args.val64 ?? 0, 'val64');
    if (args.option_id === IOMMU_OPTION_RLIMIT_MODE) {
      if (objectId !== 0) throw new KernelError('EOPNOTSUPP', 'RLIMIT_MODE takes no object');
      if (args.op === IOMMU_OPTION_OP_GET) return this.accountMm ? 1n : 0n;
      if (args.op !== IOMMU_OPTION_OP_SET) throw new KernelError('EOPNOTSUPP', `option op ${args.op}`);
      if (!this.task.capable('CAP_SYS_RESOURCE'))
        throw new KernelError('EPERM', 'RLIMIT_MODE needs CAP_SYS_RESOURCE');
      if (!this.objects.empty) throw new KernelError('EBUSY', 'the context has objects');
      if (val > 1n) throw new KernelError('EINVAL', `RLIMIT_MODE ${val}`);
      this.accountMm = val === 1n;
      return val;
    }
    if (args.option_id === IOMMU_OPTION_HUGE_PAGES) {
      const ioas = this.objects.get<IommufdIoas>(objectId, 'ioas');
      const iopt = ioas.iopt;
      if (args.op === IOMMU_OPTION_OP_GET) return iopt.disableLargePages ? 0n : 1n;
      if (args.op !== IOMMU_OPTION_OP_SET) throw new KernelError('EOPNOTSUPP', `option op ${args.op}`);
      if (val === 1n) {
        iopt.disableLargePages = false;
        iopt.calculateAlignment();
        return val;
      }
      if (val !== 0n) throw new KernelError('EINVAL', `HUGE_PAGES ${val}`);
      if (iopt.disableLargePages) return val;
      if (iopt.domains.length > 0 && iopt.mappings().length > 0)
        throw new KernelError('EINVAL', 'domains already have pages mapped');
      iopt.disableLargePages = true;
      try {
        iopt.calculateAlignment();
      } catch (error) {
        iopt.disableLargePages = false;
        throw error;
      }
      return val;
    }
    throw new KernelError('EOPNOTSUPP', `option ${args.option_id}`);
  }

  /**
   * IOMMU_HWPT_ALLOC (`iommufd_hwpt_alloc`): `EOPNOTSUPP` for `__reserved`; `EINVAL` when
   * data_type and data_len disagree; `ENOENT` for no device; `EINVAL` for a pt_id that is no
   * object or neither an IOAS nor a HWPT; any flag or driver data is `EOPNOTSUPP` (the
   * modelled domains have no `domain_alloc_user`, so no nesting or dirty tracking). The
   * domain comes from the device's group (`iommu_paging_domain_alloc`) and mirrors the IOAS.
   * Returns `out_hwpt_id`.
   */
  hwptAlloc(args: HwptAllocArgs): number {
    this.checkOpen();
    rejectUnknownOptions(
      args,
      ['flags', 'dev_id', 'pt_id', 'data_type', 'data_len', 'fault_id', '__reserved'],
      'IOMMU_HWPT_ALLOC',
    );
    const dataType = args.data_type ?? IOMMU_HWPT_DATA_NONE;
    const dataLen = args.data_len ?? 0;
    if ((args.__reserved ?? 0) !== 0) throw new KernelError('EOPNOTSUPP', '__reserved is set');
    if ((dataType === IOMMU_HWPT_DATA_NONE) !== (dataLen === 0))
      throw new KernelError('EINVAL', `data_type ${dataType} with data_len ${dataLen}`);
    const idev = this.objects.get<IommufdDevice>(args.dev_id, 'device');
    let pt: IommufdObject;
    try {
      pt = this.objects.get(args.pt_id);
    } catch (error) {
      if (isKernelError(error, 'ENOENT'))
        throw new KernelError('EINVAL', `no pagetable object ${args.pt_id}`);
      throw error;
    }
    if (pt.type === 'hwpt_paging') throw new KernelError('EOPNOTSUPP', 'nested HWPTs need domain_alloc_user');
    if (pt.type !== 'ioas') throw new KernelError('EINVAL', `object ${args.pt_id} is a ${pt.type}`);
    const hwpt = this.hwptPagingAlloc(pt as IommufdIoas, idev, args.flags ?? 0, dataLen !== 0);
    this.objects.finalize(hwpt);
    return hwpt.id;
  }

  /** `iommufd_hwpt_paging_alloc` (not finalized). */
  private hwptPagingAlloc(
    ioas: IommufdIoas,
    idev: IommufdDevice,
    flags: number,
    userData: boolean,
  ): IommufdHwptPaging {
    if (flags !== 0 || userData)
      throw new KernelError('EOPNOTSUPP', `HWPT flags ${hex(flags)} need domain_alloc_user`);
    const domain = idev.igroup.group.allocateDomain();
    const hwpt = new IommufdHwptPaging(ioas, domain);
    this.objects.alloc(hwpt);
    ioas.users++;
    try {
      ioas.iopt.addDomain(domain);
    } catch (error) {
      hwpt.destroy();
      this.objects.abort(hwpt);
      throw error;
    }
    hwpt.addedToTable();
    return hwpt;
  }

  /**
   * IOMMU_GET_HW_INFO (`iommufd_get_hw_info`): `EOPNOTSUPP` for flags or `__reserved`,
   * `ENOENT` for no device. The Arm SMMU drivers of 6.12 have no `hw_info`, so the type is
   * IOMMU_HW_INFO_TYPE_NONE with no data; the user buffer is zeroed (`EFAULT` if it cannot be).
   */
  getHwInfo(args: HwInfoArgs): HwInfo {
    this.checkOpen();
    rejectUnknownOptions(
      args,
      ['flags', 'dev_id', 'data_len', 'data_uptr', '__reserved'],
      'IOMMU_GET_HW_INFO',
    );
    if ((args.flags ?? 0) !== 0 || (args.__reserved ?? 0) !== 0)
      throw new KernelError('EOPNOTSUPP', 'flags or __reserved is set');
    const idev = this.objects.get<IommufdDevice>(args.dev_id, 'device');
    const dataLen = args.data_len ?? 0;
    if (dataLen > 0) {
      const copy = this.task.copyToUser;
      if (copy === undefined) throw new KernelError('EFAULT', 'cannot clear the user buffer');
      copy.call(this.task, Number(u64(args.data_uptr ?? 0, 'data_uptr')), new Uint8Array(dataLen));
    }
    return {
      data_len: 0,
      out_data_type: IOMMU_HW_INFO_TYPE_NONE,
      out_capabilities: this.dirtyTracking.get(idev) === true ? 1n : 0n,
      out_max_pasid_log2: 0,
    };
  }

  private readonly dirtyTracking = new WeakMap<IommufdDevice, boolean>();

  // --- the in-kernel API VFIO calls -------------------------------------------------------

  /**
   * `iommufd_device_bind`: `EINVAL` unless the IOMMU keeps DMA cache coherent, `ENODEV`
   * without a group, `EPERM` when MSIs are not isolated and `allow_unsafe_interrupts` is off,
   * then the device's DMA ownership is claimed for this context
   * (`iommu_device_claim_dma_owner`: `EPERM` while a host driver or another owner holds the
   * group). Returns the device object; its id is `out_devid`.
   */
  deviceBind(options: IommufdBindOptions): IommufdDevice {
    this.checkOpen();
    rejectUnknownOptions(options, BIND_KEYS, 'iommufd_device_bind');
    const group = options.group;
    if (group !== null && !group.cacheCoherent(options.device))
      throw new KernelError('EINVAL', `${options.device}: IOMMU_CAP_CACHE_COHERENCY is missing`);
    if (group === null) throw new KernelError('ENODEV', `${options.device} has no IOMMU group`);
    const igroup = this.groups.get(group.id) ?? {
      group,
      hwpt: null,
      attached: [],
      swMsiStart: undefined,
      refs: 0,
    };
    if (!(options.isolatedMsi ?? false) && !this.allowUnsafeInterrupts)
      throw new KernelError('EPERM', `${options.device}: MSI interrupts are not isolated`);
    group.deviceClaimDmaOwner(options.device, this.ownerToken);
    igroup.refs++;
    this.groups.set(group.id, igroup);
    const idev = new IommufdDevice(options.device, igroup, (dead) => this.deviceDestroyed(dead));
    this.objects.alloc(idev);
    this.get();
    idev.users++; // the calling driver is a user until iommufd_device_unbind
    this.dirtyTracking.set(idev, options.dirtyTracking ?? false);
    this.objects.finalize(idev);
    return idev;
  }

  /** The owner cookie this context claims groups with (`ictx`). */
  private readonly ownerToken: object = { owner: DEVICE_OWNER };

  private deviceDestroyed(idev: IommufdDevice): void {
    const igroup = idev.igroup;
    igroup.group.deviceReleaseDmaOwner(idev.device, this.ownerToken);
    igroup.refs--;
    if (igroup.refs === 0) this.groups.delete(igroup.group.id);
    this.put();
  }

  /**
   * `iommufd_device_unbind`: drops the driver's user and destroys the device. `EBUSY` while it
   * is attached (VFIO always detaches first; the kernel would WARN and leak it to close).
   */
  deviceUnbind(idev: IommufdDevice): void {
    if (idev.hwpt !== null) throw new KernelError('EBUSY', `${idev.device} is still attached`);
    if (!this.objects.putAndTryDestroy(idev))
      throw new KernelError('EBUSY', `${idev.device} has other users`);
  }

  /**
   * `iommufd_device_attach(idev, &pt_id)`: to a HWPT, or to an IOAS through an auto domain
   * (an existing compatible one, else a new HWPT). `ENOENT` for no object, `EINVAL` for
   * another type or a group already on another HWPT. Returns the HWPT id (`*pt_id`).
   */
  deviceAttach(idev: IommufdDevice, ptId: number): number {
    const pt = this.objects.get(ptId);
    let hwptId: number;
    if (pt.type === 'hwpt_paging') {
      this.hwptAttach(pt as IommufdHwptPaging, idev);
      hwptId = pt.id;
    } else if (pt.type === 'ioas') {
      hwptId = this.autoGetDomain(idev, pt as IommufdIoas);
    } else {
      throw new KernelError('EINVAL', `object ${ptId} is a ${pt.type}`);
    }
    idev.users++;
    return hwptId;
  }

  /**
   * `iommufd_device_replace(idev, &pt_id)` (`iommufd_device_do_replace`): moves the device's
   * whole group to another HWPT, or to an IOAS's auto domain (an existing one, else a new one
   * allocated before the old one goes, so ids are not reused in between). `EINVAL` when the
   * device is not attached; the same HWPT is a no-op. The model detaches the old domain and
   * attaches the new one where the kernel swaps them (`iommu_replace_group_handle`).
   */
  deviceReplace(idev: IommufdDevice, ptId: number): number {
    const igroup = idev.igroup;
    const old = igroup.hwpt;
    if (old === null || !igroup.attached.includes(idev))
      throw new KernelError('EINVAL', `${idev.device} is not attached`);
    const pt = this.objects.get(ptId);
    let next: IommufdHwptPaging;
    let fresh = false;
    if (pt.type === 'hwpt_paging') next = pt as IommufdHwptPaging;
    else if (pt.type === 'ioas') {
      const ioas = pt as IommufdIoas;
      const reuse = ioas.hwpts.find(
        (h): h is IommufdHwptPaging => h instanceof IommufdHwptPaging && h.autoDomain,
      );
      if (reuse !== undefined) next = reuse;
      else {
        next = this.hwptPagingAlloc(ioas, idev, 0, false);
        fresh = true;
      }
    } else throw new KernelError('EINVAL', `object ${ptId} is a ${pt.type}`);
    if (next === old) return old.id;
    const moved = [...igroup.attached];
    const newIopt = next.ioas.iopt;
    const sameIoas = next.ioas === old.ioas;
    try {
      if (!sameIoas)
        for (const d of moved) newIopt.enforceDeviceReservedRegions(igroup.group.reservedRegions(), d);
      igroup.group.detachDomain(old.domain);
      try {
        igroup.group.attachDomain(next.domain);
      } catch (error) {
        igroup.group.attachDomain(old.domain);
        throw error;
      }
    } catch (error) {
      if (!sameIoas) for (const d of moved) newIopt.removeReservedIova(d);
      if (fresh) {
        next.destroy();
        this.objects.abort(next);
      }
      throw error;
    }
    if (!sameIoas) for (const d of moved) old.ioas.iopt.removeReservedIova(d);
    if (fresh) {
      next.autoDomain = true;
      this.objects.finalize(next);
    }
    igroup.hwpt = next;
    next.users += moved.length;
    old.users -= moved.length - 1;
    if (old.autoDomain) this.objects.putAndTryDestroy(old);
    else old.users--;
    return next.id;
  }

  /** `iommufd_device_auto_get_domain`. */
  private autoGetDomain(idev: IommufdDevice, ioas: IommufdIoas): number {
    for (const candidate of ioas.hwpts) {
      if (!candidate.autoDomain || !(candidate instanceof IommufdHwptPaging)) continue;
      try {
        this.hwptAttach(candidate, idev);
        return candidate.id;
      } catch (error) {
        // EINVAL means "incompatible with this domain": try the next one, then a new one.
        if (isKernelError(error, 'EINVAL')) continue;
        throw error;
      }
    }
    const hwpt = this.hwptPagingAlloc(ioas, idev, 0, false);
    try {
      this.hwptAttach(hwpt, idev);
    } catch (error) {
      hwpt.destroy();
      this.objects.abort(hwpt);
      throw error;
    }
    hwpt.autoDomain = true;
    this.objects.finalize(hwpt);
    return hwpt.id;
  }

  /**
   * `iommufd_hw_pagetable_attach`: `EINVAL` when the group sits on another HWPT; the device's
   * reserved regions are reserved in the IOAS (`EADDRINUSE` over a mapping or an allowed
   * range); the first device of the group records the SW MSI window and attaches the group
   * (`iommu_attach_group`).
   */
  private hwptAttach(hwpt: IommufdHwptPaging, idev: IommufdDevice): void {
    const igroup = idev.igroup;
    if (igroup.hwpt !== null && igroup.hwpt !== hwpt)
      throw new KernelError('EINVAL', `group ${igroup.group.id} is attached to HWPT ${igroup.hwpt.id}`);
    if (igroup.attached.includes(idev)) throw new KernelError('EINVAL', `${idev.device} is already attached`);
    const iopt = hwpt.ioas.iopt;
    const swMsi = iopt.enforceDeviceReservedRegions(igroup.group.reservedRegions(), idev);
    if (swMsi !== undefined) igroup.swMsiStart = swMsi;
    if (igroup.attached.length === 0) {
      if (igroup.swMsiStart !== undefined && hwpt.msiCookie === undefined) hwpt.msiCookie = igroup.swMsiStart;
      try {
        igroup.group.attachDomain(hwpt.domain);
      } catch (error) {
        iopt.removeReservedIova(idev);
        throw error;
      }
      igroup.hwpt = hwpt;
    }
    hwpt.users++;
    igroup.attached.push(idev);
  }

  /** `iommufd_device_detach`: the last device of the group detaches the group; an auto domain goes with it. */
  deviceDetach(idev: IommufdDevice): void {
    const igroup = idev.igroup;
    const hwpt = igroup.hwpt;
    const at = igroup.attached.indexOf(idev);
    if (hwpt === null || at < 0) throw new KernelError('EINVAL', `${idev.device} is not attached`);
    igroup.attached.splice(at, 1);
    if (igroup.attached.length === 0) {
      igroup.group.detachDomain(hwpt.domain);
      igroup.hwpt = null;
    }
    hwpt.ioas.iopt.removeReservedIova(idev);
    if (hwpt.autoDomain) this.objects.putAndTryDestroy(hwpt);
    else hwpt.users--;
    idev.users--;
  }

  /** `iommufd_access_create`: an access object (the driver holds a user until destroy). */
  accessCreate(ops: IommufdAccessOps): IommufdAccess {
    this.checkOpen();
    const access = new IommufdAccess(ops, (dead) => {
      if (dead.ioas !== null) this.accessChangeIoas(dead, null);
      this.put();
    });
    this.objects.alloc(access);
    this.get();
    access.users++;
    this.objects.finalize(access);
    return access;
  }

  /** `iommufd_access_attach`: `EINVAL` when attached already, `ENOENT` for no IOAS. */
  accessAttach(access: IommufdAccess, ioasId: number): void {
    if (access.ioas !== null) throw new KernelError('EINVAL', 'the access is attached already');
    const ioas = this.objects.get<IommufdIoas>(ioasId, 'ioas');
    this.accessChangeIoas(access, ioas);
  }

  /** `iommufd_access_replace`: `ENOENT` when not attached, `ENOENT` for no IOAS. */
  accessReplace(access: IommufdAccess, ioasId: number): void {
    if (access.ioas === null) throw new KernelError('ENOENT', 'the access is not attached');
    const ioas = this.objects.get<IommufdIoas>(ioasId, 'ioas');
    this.accessChangeIoas(access, ioas);
  }

  /** `iommufd_access_detach`: the driver is told to unmap everything first. */
  accessDetach(access: IommufdAccess): void {
    if (access.ioas === null) throw new KernelError('EINVAL', 'the access is not attached');
    this.accessChangeIoas(access, null);
  }

  /** `iommufd_access_destroy`. */
  accessDestroy(access: IommufdAccess): void {
    if (!this.objects.putAndTryDestroy(access)) throw new KernelError('EBUSY', 'the access has other users');
  }

  /**
   * `iommufd_access_change_ioas`: `access->ioas` is NULL while the driver is told to unmap
   * everything of the old IOAS (new pins fail `ENOENT`), but `ioas_unpin` still lets it
   * unpin; `EBUSY` when a concurrent change is in flight.
   */
  private accessChangeIoas(access: IommufdAccess, next: IommufdIoas | null): void {
    const current = access.ioas;
    if (current !== access.ioasUnpin) throw new KernelError('EBUSY', 'a change of IOAS is in progress');
    if (current === next) return;
    access.ioas = null;
    if (next !== null) {
      try {
        next.iopt.addAccess(access);
      } catch (error) {
        access.ioas = current;
        throw error;
      }
      next.users++;
    }
    if (current !== null) {
      access.ops.unmap(0n, ULONG_MAX);
      current.iopt.removeAccess(access);
      current.users--;
    }
    access.ioas = next;
    access.ioasUnpin = next;
  }

  /**
   * `iommufd_access_pin_pages`: `EINVAL` for length 0, `EOVERFLOW` on wrap, `ENOENT`
   * unattached or over a gap, `EINVAL` while an unmap is waiting, `EPERM` for a write pin of
   * a read-only mapping; pages are pinned and charged once. Returns one physical address per page.
   */
  accessPinPages(access: IommufdAccess, iovaIn: U64, lengthIn: U64, flags: number): PhysAddr[] {
    const iova = u64(iovaIn, 'iova');
    const length = u64(lengthIn, 'length');
    if (length === 0n) throw new KernelError('EINVAL', 'pin of length 0');
    const last = iova + length - 1n;
    if (last > ULONG_MAX) throw new KernelError('EOVERFLOW', 'iova + length wraps');
    if (access.ioas === null) throw new KernelError('ENOENT', 'the access is not attached');
    const write = (flags & IOMMUFD_ACCESS_RW_WRITE) !== 0;
    const pieces = access.ioas.iopt.contig(iova, last);
    const done: { area: (typeof pieces)[number]['area']; key: string; first: bigint; lastIndex: bigint }[] =
      [];
    const out: PhysAddr[] = [];
    try {
      for (const { area, from, to } of pieces) {
        if (area.preventAccess)
          throw new KernelError('EINVAL', `an unmap of ${hex(area.start)} is in progress`);
        if (!(write ? (area.prot & IOMMU_WRITE) !== 0 : (area.prot & IOMMU_READ) !== 0))
          throw new KernelError('EPERM', `the mapping at ${hex(area.start)} does not allow this access`);
        if (write && !area.pages.writable) throw new KernelError('EPERM', 'pages are read-only');
        const first = (area.startByte + (from - area.start)) / PAGE_SIZE;
        const lastIndex = (area.startByte + (to - area.start)) / PAGE_SIZE;
        for (const run of area.pages.hold(first, lastIndex))
          for (let k = 0; k < run.npages; k++) out.push((run.paddr + k * Number(PAGE_SIZE)) as PhysAddr);
        const key = `${first}-${lastIndex}`;
        area.accessPins.set(key, (area.accessPins.get(key) ?? 0) + 1);
        done.push({ area, key, first, lastIndex });
      }
    } catch (error) {
      for (const d of done) unpinPiece(d.area, d.key, d.first, d.lastIndex);
      throw error;
    }
    return out;
  }

  /** `iommufd_access_unpin_pages`: undoes one pin of exactly the same range (`EINVAL` otherwise; the kernel WARNs). */
  accessUnpinPages(access: IommufdAccess, iovaIn: U64, lengthIn: U64): void {
    const iova = u64(iovaIn, 'iova');
    const length = u64(lengthIn, 'length');
    if (length === 0n || access.ioasUnpin === null) throw new KernelError('EINVAL', 'nothing to unpin');
    const pieces = access.ioasUnpin.iopt.contig(iova, iova + length - 1n);
    const keys = pieces.map(({ area, from, to }) => {
      const first = (area.startByte + (from - area.start)) / PAGE_SIZE;
      const lastIndex = (area.startByte + (to - area.start)) / PAGE_SIZE;
      return { area, key: `${first}-${lastIndex}`, first, lastIndex };
    });
    if (keys.some((k) => (k.area.accessPins.get(k.key) ?? 0) === 0))
      throw new KernelError('EINVAL', `[${hex(iova)}, +${hex(length)}) was not pinned by an access`);
    for (const k of keys) unpinPiece(k.area, k.key, k.first, k.lastIndex);
  }

  /**
   * `iommufd_access_rw`: copies between `data` and the IOAS (read: into `data`); `EINVAL` for
   * length 0, `EOVERFLOW` on wrap, `ENOENT` unattached or over a gap, `EPERM` against the
   * mapping's protection, `EFAULT` where user memory is missing.
   */
  accessRw(
    access: IommufdAccess,
    iovaIn: U64,
    data: Uint8Array,
    flags: number,
    memoryIn?: PhysicalMemory,
  ): void {
    const memory = memoryIn ?? this.memory;
    const iova = u64(iovaIn, 'iova');
    const length = BigInt(data.length);
    if (length === 0n) throw new KernelError('EINVAL', 'rw of length 0');
    const last = iova + length - 1n;
    if (last > ULONG_MAX) throw new KernelError('EOVERFLOW', 'iova + length wraps');
    if (access.ioas === null) throw new KernelError('ENOENT', 'the access is not attached');
    const write = (flags & IOMMUFD_ACCESS_RW_WRITE) !== 0;
    const pieces = access.ioas.iopt.contig(iova, last);
    let offset = 0;
    for (const { area, from, to } of pieces) {
      if (area.preventAccess)
        throw new KernelError('EINVAL', `an unmap of ${hex(area.start)} is in progress`);
      if (!(write ? (area.prot & IOMMU_WRITE) !== 0 : (area.prot & IOMMU_READ) !== 0))
        throw new KernelError('EPERM', `the mapping at ${hex(area.start)} does not allow this access`);
      const bytes = Number(to - from + 1n);
      const uaddr = Number(area.pages.uptr + area.startByte + (from - area.start));
      if (memory === undefined) throw new KernelError('EFAULT', 'no host memory to copy through');
      let done = 0;
      for (const chunk of area.pages.task.mm.addressSpace.resolve(uaddr, bytes)) {
        const slice = data.subarray(offset + done, offset + done + chunk.size);
        if (write) memory.write(chunk.paddr, slice);
        else memory.read(chunk.paddr, slice);
        done += chunk.size;
      }
      offset += bytes;
    }
  }
}

function unpinPiece(
  area: { readonly accessPins: Map<string, number>; readonly pages: { release(a: bigint, b: bigint): void } },
  key: string,
  first: bigint,
  last: bigint,
): void {
  const n = (area.accessPins.get(key) ?? 0) - 1;
  if (n <= 0) area.accessPins.delete(key);
  else area.accessPins.set(key, n);
  area.pages.release(first, last);
}
