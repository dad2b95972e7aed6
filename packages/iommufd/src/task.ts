import type { PhysAddr } from '@vfiokit/core';

/** One contiguous piece of physical memory behind a user range (what GUP finds). */
export interface IommufdUserChunk {
  readonly paddr: PhysAddr;
  readonly size: number;
  /** A `VM_PFNMAP`/`VM_IO` mapping (a device mmap): `pin_user_pages` refuses it (`EFAULT`). */
  readonly pfnmap: boolean;
  /** The vma allows writes; a `FOLL_WRITE` pin of a read-only vma faults. */
  readonly writable: boolean;
}

/**
 * A process address space as iommufd pins it (`pin_user_pages_fast`): `resolve` returns the
 * chunks behind `[vaddr, vaddr + size)` or throws `EFAULT` for an unmapped page. vfio's
 * `UserAddressSpace` has this shape, so one process model serves both back ends.
 */
export interface IommufdUserMemory {
  resolve(vaddr: number, size: number): readonly IommufdUserChunk[];
}

/** The capabilities iommufd checks with `capable()`. */
export type IommufdCapability = 'CAP_IPC_LOCK' | 'CAP_SYS_RESOURCE' | 'CAP_SYS_RAWIO';

/** `struct mm_struct` as iommufd charges it. */
export interface IommufdMm {
  readonly addressSpace: IommufdUserMemory;
  /** `mm->locked_vm` in pages (IOPT_PAGES_ACCOUNT_MM charges it, as type1 does). */
  lockedVm: number;
  /** `mm->pinned_vm` in pages: every pin adds to it whatever the accounting mode. */
  pinnedVm?: number;
}

/** `struct user_struct`: `locked_vm` shared by every process of the user (IOPT_PAGES_ACCOUNT_USER). */
export interface IommufdUser {
  lockedVm: number;
}

/** What iommufd reads from `current` during an ioctl. */
export interface IommufdTask {
  readonly mm: IommufdMm;
  readonly user: IommufdUser;
  /** `RLIMIT_MEMLOCK` in bytes. */
  readonly rlimitMemlock: number;
  capable(capability: IommufdCapability): boolean;
  /** `copy_to_user`/`clear_user`; absent, every copy faults (`EFAULT`). */
  copyToUser?(vaddr: number, bytes: Uint8Array): void;
  /** `copy_from_user`; absent, every copy faults (`EFAULT`). */
  copyFromUser?(vaddr: number, length: number): Uint8Array;
}
