import type { IoctlArg, MmapRequest, MmapResult } from './file.js';

/**
 * The system calls a VMM makes on VFIO files, by fd. {@link UserProcess} implements it over
 * the model; a test can implement it with canned answers. The typed API
 * ({@link VfioContainerHandle} and friends) is written only against this interface.
 */
export interface VfioSyscalls {
  /** `open("/dev/vfio/vfio" | "/dev/vfio/<group>" | "/dev/vfio/noiommu-<group>", O_RDWR)`. */
  open(path: string): number;
  ioctl(fd: number, request: number, arg?: IoctlArg): number;
  pread(fd: number, buffer: Uint8Array, offset: number): number;
  pwrite(fd: number, data: Uint8Array, offset: number): number;
  mmap(fd: number, request: MmapRequest): MmapResult;
  close(fd: number): void;
}
