import type { EventFd } from '@vfiokit/core';
import type { UserAddressSpace } from './address-space.js';
import type { VfioFile } from './file.js';

/** Capabilities VFIO checks with `capable()`. */
export type Capability = 'CAP_SYS_RAWIO' | 'CAP_IPC_LOCK';

/** `struct mm_struct` as type1 uses it: the address space and `locked_vm` (pinned pages). */
export interface Mm {
  readonly addressSpace: UserAddressSpace;
  /** Pages accounted as locked (`mm->locked_vm`). */
  lockedVm: number;
}

/** What the kernel reads from `current` during a VFIO call. */
export interface Task {
  readonly pid: number;
  readonly comm: string;
  readonly mm: Mm;
  /** `RLIMIT_MEMLOCK` in bytes. */
  readonly rlimitMemlock: number;
  capable(capability: Capability): boolean;
  /** `fdget(fd)`: the open file behind an fd; `EBADF` when none. */
  fdget(fd: number): VfioFile | EventFd;
  /** `copy_to_user`: writes user memory (`EFAULT` where none); absent, every copy faults. */
  copyToUser?(vaddr: number, bytes: Uint8Array): void;
  /** `copy_from_user`. */
  copyFromUser?(vaddr: number, length: number): Uint8Array;
}
