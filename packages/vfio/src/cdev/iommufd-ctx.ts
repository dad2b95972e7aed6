import {
  type EventFd,
  type IommuGroup,
  KernelError,
  type PhysAddr,
  type PhysicalMemory,
} from '@vfiokit/core';
import type { VfioFile } from '../user/file.js';
import type { Task } from '../user/task.js';

/** A device bound to an iommufd context (`struct iommufd_device`), as VFIO holds it. */
export interface IommufdDeviceRef {
  readonly id: number;
}

/** An `iommufd_access` (emulated devices), as VFIO holds it. */
export interface IommufdAccessRef {
  readonly id: number;
}

/**
 * The in-kernel iommufd API VFIO calls (include/linux/iommufd.h), as an interface so that
 * `@vfiokit/vfio` does not depend on `@vfiokit/iommufd`: `@vfiokit/iommufd`'s
 * `IommufdContext` has this shape, as would any other back end.
 */
export interface IommufdCtx {
  deviceBind(options: {
    readonly group: IommuGroup | null;
    readonly device: string;
    readonly isolatedMsi?: boolean;
  }): IommufdDeviceRef;
  deviceAttach(idev: IommufdDeviceRef, ptId: number): number;
  deviceReplace(idev: IommufdDeviceRef, ptId: number): number;
  deviceDetach(idev: IommufdDeviceRef): void;
  deviceUnbind(idev: IommufdDeviceRef): void;
  accessCreate(ops: {
    readonly needsPinPages: boolean;
    unmap(iova: bigint, length: bigint): void;
  }): IommufdAccessRef;
  accessAttach(access: IommufdAccessRef, ioasId: number): void;
  accessReplace(access: IommufdAccessRef, ioasId: number): void;
  accessDetach(access: IommufdAccessRef): void;
  accessDestroy(access: IommufdAccessRef): void;
  accessPinPages(
    access: IommufdAccessRef,
    iova: number | bigint,
    length: number | bigint,
    flags: number,
  ): PhysAddr[];
  accessUnpinPages(access: IommufdAccessRef, iova: number | bigint, length: number | bigint): void;
  /** `iommufd_vfio_compat_ioas_create`: the compat IOAS's id (created if need be); `EINVAL` in no-IOMMU mode. */
  vfioCompatIoasCreate?(): number;
  /** `iommufd_vfio_compat_set_no_iommu`: `EINVAL` once a compat IOAS exists. */
  vfioCompatSetNoIommu?(): void;
  /** `iommufd_vfio_compat_ioas_get_id`: the compat IOAS's id; `ENODEV` without one. */
  vfioCompatIoasGetId?(): number;
  accessRw(
    access: IommufdAccessRef,
    iova: number | bigint,
    data: Uint8Array,
    flags: number,
    memory?: PhysicalMemory,
  ): void;
}

/** A file whose context VFIO can take (`iommufd_ctx_from_file`): `@vfiokit/iommufd`'s `IommufdFile`. */
export interface IommufdFileLike extends VfioFile {
  readonly iommufd: IommufdCtx;
}

/**
 * `iommufd_ctx_from_fd`: `EBADF` for no open fd (fdget), `EBADFD` for a file that is not
 * `/dev/iommu` (drivers/iommu/iommufd/main.c).
 */
export function iommufdCtxFromFd(current: Task, fd: number): IommufdCtx {
  const file: VfioFile | EventFd = current.fdget(fd);
  if (!('iommufd' in file)) throw new KernelError('EBADFD', `fd ${fd} is not /dev/iommu`);
  return (file as IommufdFileLike).iommufd;
}

/**
 * What iommufd reads from `current` (`@vfiokit/iommufd`'s `IommufdTask`), from a VFIO task:
 * the same mm (so type1 and iommufd charge one `mm->locked_vm` in ACCOUNT_MM), and a
 * `user_struct` of its own per task (the model has no uids). CAP_SYS_RESOURCE is not in VFIO's
 * capability set, so it is never held here.
 */
export function iommufdTaskOf(task: Task): {
  readonly mm: Task['mm'];
  readonly user: { lockedVm: number };
  readonly rlimitMemlock: number;
  capable(capability: 'CAP_IPC_LOCK' | 'CAP_SYS_RESOURCE' | 'CAP_SYS_RAWIO'): boolean;
  copyToUser?(vaddr: number, bytes: Uint8Array): void;
  copyFromUser?(vaddr: number, length: number): Uint8Array;
} {
  let user = USERS.get(task);
  if (user === undefined) {
    user = { lockedVm: 0 };
    USERS.set(task, user);
  }
  return {
    mm: task.mm,
    user,
    rlimitMemlock: task.rlimitMemlock,
    capable: (capability) =>
      (capability === 'CAP_IPC_LOCK' || capability === 'CAP_SYS_RAWIO') && task.capable(capability),
    ...(task.copyToUser === undefined
      ? {}
      : { copyToUser: (v: number, b: Uint8Array) => task.copyToUser?.(v, b) }),
    ...(task.copyFromUser === undefined
      ? {}
      : {
          copyFromUser: (v: number, n: number) =>
            (task.copyFromUser as (v: number, n: number) => Uint8Array)(v, n),
        }),
  };
}

const USERS = new WeakMap<Task, { lockedVm: number }>();
