import { KernelError } from '@vfiokit/core';
import type { IoctlArg, MmapRequest, MmapResult } from '../user/file.js';
import type { VfioSyscalls } from '../user/syscalls.js';

/** One call a {@link FakeVfioSyscalls} saw, with a copy of the bytes it was given. */
export type FakeSyscall =
  | { readonly call: 'open'; readonly path: string; readonly fd: number }
  | {
      readonly call: 'ioctl';
      readonly fd: number;
      readonly request: number;
      readonly arg: Uint8Array | number | undefined;
    }
  | {
      readonly call: 'pread' | 'pwrite';
      readonly fd: number;
      readonly offset: number;
      readonly length: number;
    }
  | { readonly call: 'mmap'; readonly fd: number; readonly request: MmapRequest }
  | { readonly call: 'close'; readonly fd: number };

/** Answers one ioctl: may write into `arg` (the caller's buffer) and returns the ioctl's value. */
export type FakeIoctlHandler = (fd: number, path: string, arg: IoctlArg | undefined) => number;

/**
 * A process-level fake of {@link VfioSyscalls} for testing code written against the seam
 * (the typed handles, a VMM's device setup) without the model: the test programs the answers,
 * the fake records every call. As rust-vmm tests `vfio-ioctls` with a mocked `vfio_syscall`.
 *
 * - `open` succeeds for the paths given to `paths` (fds from 3 up), `ENOENT` otherwise.
 * - `ioctl` runs the handler registered for the request number with {@link onIoctl}; an
 *   unprogrammed request is `ENOTTY`, as a kernel file without that ioctl answers.
 * - `pread` / `pwrite` / `mmap` run their handlers, or `EINVAL` / `ENODEV` as on a file
 *   without them; every call on a closed or unknown fd is `EBADF`.
 */
export class FakeVfioSyscalls implements VfioSyscalls {
  readonly calls: FakeSyscall[] = [];
  private readonly paths: Set<string>;
  private readonly fds = new Map<number, string>();
  private readonly ioctls = new Map<number, FakeIoctlHandler>();
  private readHandler: ((path: string, buffer: Uint8Array, offset: number) => number) | undefined;
  private writeHandler: ((path: string, data: Uint8Array, offset: number) => number) | undefined;
  private mmapHandler: ((path: string, request: MmapRequest) => MmapResult) | undefined;

  constructor(paths: readonly string[] = ['/dev/vfio/vfio']) {
    this.paths = new Set(paths);
  }

  /** Programs the answer to one ioctl request number (replacing an earlier one). */
  onIoctl(request: number, handler: FakeIoctlHandler): this {
    this.ioctls.set(request, handler);
    return this;
  }

  onRead(handler: (path: string, buffer: Uint8Array, offset: number) => number): this {
    this.readHandler = handler;
    return this;
  }

  onWrite(handler: (path: string, data: Uint8Array, offset: number) => number): this {
    this.writeHandler = handler;
    return this;
  }

  onMmap(handler: (path: string, request: MmapRequest) => MmapResult): this {
    this.mmapHandler = handler;
    return this;
  }

  /** The path an open fd was opened with. */
  pathOf(fd: number): string {
    const path = this.fds.get(fd);
    if (path === undefined) throw new KernelError('EBADF', `fd ${fd} is not open`);
    return path;
  }

  open(path: string): number {
    if (!this.paths.has(path)) throw new KernelError('ENOENT', `${path} does not exist`);
    let fd = 3;
    while (this.fds.has(fd)) fd++;
    this.fds.set(fd, path);
    this.calls.push({ call: 'open', path, fd });
    return fd;
  }

  ioctl(fd: number, request: number, arg?: IoctlArg): number {
    const path = this.pathOf(fd);
    this.calls.push({ call: 'ioctl', fd, request, arg: arg instanceof Uint8Array ? arg.slice() : arg });
    const handler = this.ioctls.get(request);
    if (handler === undefined)
      throw new KernelError('ENOTTY', `no answer programmed for ioctl 0x${request.toString(16)}`);
    return handler(fd, path, arg);
  }

  pread(fd: number, buffer: Uint8Array, offset: number): number {
    const path = this.pathOf(fd);
    this.calls.push({ call: 'pread', fd, offset, length: buffer.length });
    if (this.readHandler === undefined) throw new KernelError('EINVAL', `${path} has no read`);
    return this.readHandler(path, buffer, offset);
  }

  pwrite(fd: number, data: Uint8Array, offset: number): number {
    const path = this.pathOf(fd);
    this.calls.push({ call: 'pwrite', fd, offset, length: data.length });
    if (this.writeHandler === undefined) throw new KernelError('EINVAL', `${path} has no write`);
    return this.writeHandler(path, data, offset);
  }

  mmap(fd: number, request: MmapRequest): MmapResult {
    const path = this.pathOf(fd);
    this.calls.push({ call: 'mmap', fd, request });
    if (this.mmapHandler === undefined) throw new KernelError('ENODEV', `${path} has no mmap`);
    return this.mmapHandler(path, request);
  }

  close(fd: number): void {
    this.pathOf(fd);
    this.fds.delete(fd);
    this.calls.push({ call: 'close', fd });
  }
}
