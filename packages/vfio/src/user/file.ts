import type { MmioDevice } from '@vfiokit/core';
import type { Task } from './task.js';

/** The third argument of `ioctl(2)`: a pointer to bytes, or an integer passed by value. */
export type IoctlArg = Uint8Array | number;

/** What `mmap(2)` asks of a device fd (`struct vm_area_struct` as vfio_platform_mmap sees it). */
export interface MmapRequest {
  /** `vm_start`, a user virtual address. */
  readonly start: number;
  /** Length in bytes (`vm_end - vm_start`). */
  readonly length: number;
  /** File offset (`vm_pgoff << PAGE_SHIFT`): region offset plus offset inside it. */
  readonly offset: number;
  readonly read: boolean;
  readonly write: boolean;
  /** `MAP_SHARED`; VFIO refuses private mappings. */
  readonly shared: boolean;
}

/** What an mmap of a device region established: user range → physical MMIO (`remap_pfn_range`). */
export interface MmapResult {
  readonly start: number;
  readonly length: number;
  /** First physical address mapped (`vm_pgoff << PAGE_SHIFT` after the rewrite). */
  readonly paddr: number;
  /** Mapped uncached (`pgprot_noncached`). */
  readonly noncached: true;
  /** The registers behind the physical range (what user loads and stores through it reach). */
  readonly mmio?: MmioDevice;
  /** Offset of `start` inside `mmio`. */
  readonly mmioOffset?: number;
}

/**
 * An open VFIO file: the kernel seam. Every container, group and device operation goes
 * through `ioctl` with raw UAPI bytes, as rust-vmm's `vfio_syscall` layer does, so a test
 * fake and the model have one shape.
 */
export interface VfioFile {
  /**
   * `anon`: another subsystem's anonymous-inode file in the same fd table (KVM's VM, vCPU and
   * device fds in `@vfiokit/host`); VFIO refuses it wherever it wants one of its own files.
   */
  readonly kind: 'container' | 'group' | 'device' | 'anon';
  /** `unlocked_ioctl(file, cmd, arg)`; `current` is the calling task, as in the kernel. */
  ioctl(current: Task, request: number, arg?: IoctlArg): number;
  /** `pread(2)`; `EINVAL` on files without read. */
  read(current: Task, buffer: Uint8Array, offset: number): number;
  /** `pwrite(2)`; `EINVAL` on files without write. */
  write(current: Task, data: Uint8Array, offset: number): number;
  /** `mmap(2)`; `ENODEV` on files without mmap. */
  mmap(current: Task, request: MmapRequest): MmapResult;
  /** The last `close(2)` of this file (`release`). */
  release(): void;
}
