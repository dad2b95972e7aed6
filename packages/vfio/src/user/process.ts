import { EventFd, type EventFdOptions, KernelError } from '@vfiokit/core';
import type { Vfio } from '../vfio.js';
import { UserAddressSpace } from './address-space.js';
import type { IoctlArg, MmapRequest, MmapResult, VfioFile } from './file.js';
import type { VfioSyscalls } from './syscalls.js';
import type { Capability, Mm, Task } from './task.js';

/** Options of a {@link UserProcess}. */
export interface UserProcessOptions {
  readonly vfio: Vfio;
  readonly pid?: number;
  readonly comm?: string;
  /** Capabilities held (default none: an unprivileged VMM with access to /dev/vfio). */
  readonly capabilities?: readonly Capability[];
  /** `RLIMIT_MEMLOCK` in bytes (default 8 MiB, the usual distribution default). */
  readonly rlimitMemlock?: number;
}

const GROUP_PREFIX = '/dev/vfio/';

/**
 * A user-space process (a VMM) with an fd table, an address space and `locked_vm`: the
 * {@link Task} the kernel sees as `current` and the {@link VfioSyscalls} a VMM calls.
 */
export class UserProcess implements Task, VfioSyscalls {
  readonly pid: number;
  readonly comm: string;
  readonly mm: Mm;
  rlimitMemlock: number;
  private readonly vfio: Vfio;
  private readonly caps: Set<Capability>;
  private readonly files = new Map<number, VfioFile | EventFd>();

  constructor(options: UserProcessOptions) {
    this.vfio = options.vfio;
    this.pid = options.pid ?? 1000;
    this.comm = options.comm ?? 'vmm';
    this.caps = new Set(options.capabilities ?? []);
    this.rlimitMemlock = options.rlimitMemlock ?? 8 * 1024 * 1024;
    this.mm = { addressSpace: new UserAddressSpace(), lockedVm: 0 };
  }

  /** The process's address space (map guest RAM here before VFIO_IOMMU_MAP_DMA). */
  get addressSpace(): UserAddressSpace {
    return this.mm.addressSpace;
  }

  capable(capability: Capability): boolean {
    return this.caps.has(capability);
  }

  /** Grants or drops a capability. */
  setCapability(capability: Capability, held: boolean): void {
    if (held) this.caps.add(capability);
    else this.caps.delete(capability);
  }

  fdget(fd: number): VfioFile | EventFd {
    const file = this.files.get(fd);
    if (file === undefined) throw new KernelError('EBADF', `fd ${fd} is not open`);
    return file;
  }

  /** Open fds, lowest first. */
  get openFds(): readonly number[] {
    return [...this.files.keys()].sort((a, b) => a - b);
  }

  /** `eventfd2(initval, EFD_NONBLOCK)`: a new eventfd in the fd table. */
  eventfd(options?: EventFdOptions): number {
    return this.install(new EventFd(options));
  }

  /** The eventfd behind `fd`; `EINVAL` if it is some other file. */
  eventfdOf(fd: number): EventFd {
    const file = this.fdget(fd);
    if (!(file instanceof EventFd)) throw new KernelError('EINVAL', `fd ${fd} is not an eventfd`);
    return file;
  }

  open(path: string): number {
    if (path === '/dev/vfio/vfio') return this.install(this.vfio.openContainer());
    if (!path.startsWith(GROUP_PREFIX)) throw new KernelError('ENOENT', `${path} is not a VFIO node`);
    const file = this.vfio.openGroup(this, path.slice(GROUP_PREFIX.length), (f) => this.install(f));
    return this.install(file);
  }

  ioctl(fd: number, request: number, arg?: IoctlArg): number {
    return this.vfioFile(fd).ioctl(this, request, arg);
  }

  pread(fd: number, buffer: Uint8Array, offset: number): number {
    return this.vfioFile(fd).read(this, buffer, offset);
  }

  pwrite(fd: number, data: Uint8Array, offset: number): number {
    return this.vfioFile(fd).write(this, data, offset);
  }

  mmap(fd: number, request: MmapRequest): MmapResult {
    return this.vfioFile(fd).mmap(this, request);
  }

  close(fd: number): void {
    const file = this.fdget(fd);
    this.files.delete(fd);
    if (file instanceof EventFd) file.close();
    else file.release();
  }

  /** `exit`: closes every fd, lowest first. */
  exit(): void {
    for (const fd of this.openFds) this.close(fd);
  }

  private install(file: VfioFile | EventFd): number {
    let fd = 3;
    while (this.files.has(fd)) fd++;
    this.files.set(fd, file);
    return fd;
  }

  private vfioFile(fd: number): VfioFile {
    const file = this.fdget(fd);
    if (file instanceof EventFd) throw new KernelError('ENOTTY', `fd ${fd} is an eventfd`);
    return file;
  }
}
