import {
  type AccessSize,
  EventFd,
  type EventFdOptions,
  KernelError,
  type PhysAddr,
  type PhysicalMemory,
  rejectUnknownOptions,
} from '@vfiokit/core';
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
  /**
   * The host RAM behind the address space's anonymous mappings, for what the kernel copies to
   * and from user memory (a dirty bitmap). Default none: such copies fault (`EFAULT`).
   */
  readonly memory?: PhysicalMemory;
}

const GROUP_PREFIX = '/dev/vfio/';
const PAGE_SIZE = 0x1000;

/** A live mapping made by {@link UserProcess.mmap}: the vma, which holds its file. */
interface Vma {
  readonly start: number;
  readonly length: number;
  readonly file: VfioFile;
}

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
  private readonly memory: PhysicalMemory | undefined;
  private readonly caps: Set<Capability>;
  private readonly files = new Map<number, VfioFile | EventFd>();
  // struct file reference counts: one per fd, one per vma (the VMA holds vm_file).
  private readonly fileRefs = new Map<VfioFile, number>();
  private readonly vmas: Vma[] = [];

  constructor(options: UserProcessOptions) {
    rejectUnknownOptions(
      options,
      ['vfio', 'pid', 'comm', 'capabilities', 'rlimitMemlock', 'memory'],
      'UserProcess',
    );
    this.vfio = options.vfio;
    this.pid = options.pid ?? 1000;
    this.comm = options.comm ?? 'vmm';
    this.caps = new Set(options.capabilities ?? []);
    this.rlimitMemlock = options.rlimitMemlock ?? 8 * 1024 * 1024;
    this.memory = options.memory;
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

  /**
   * `mmap(2)` with `MAP_FIXED` at `request.start`: `do_mmap` refuses a zero length, an
   * unaligned address or file offset (`EINVAL`) and rounds the length up to whole pages
   * before the file's `mmap` sees it. On success the range enters the address space as a
   * `VM_PFNMAP` mapping (loads and stores reach the device, `MAP_DMA` of it maps without
   * pinning) and the vma holds a reference to the file until {@link munmap}.
   */
  mmap(fd: number, request: MmapRequest): MmapResult {
    const file = this.vfioFile(fd);
    if (request.length <= 0) throw new KernelError('EINVAL', 'mmap of length 0');
    if (request.start % PAGE_SIZE !== 0 || request.offset % PAGE_SIZE !== 0)
      throw new KernelError('EINVAL', 'mmap address or offset not page aligned');
    const length = Math.ceil(request.length / PAGE_SIZE) * PAGE_SIZE;
    if (!Number.isSafeInteger(request.start + length))
      throw new KernelError('ENOMEM', 'mmap past the address space');
    if (this.vmas.some((v) => request.start < v.start + v.length && v.start < request.start + length))
      throw new KernelError('EEXIST', `0x${request.start.toString(16)} overlaps a mapping`);
    const result = file.mmap(this, { ...request, length });
    this.mm.addressSpace.mapPfn(result.start, result.paddr as PhysAddr, length, {
      mmio: result.mmio,
      mmioOffset: result.mmioOffset ?? 0,
      writable: request.write,
    });
    this.vmas.push({ start: result.start, length, file });
    this.fileRefs.set(file, (this.fileRefs.get(file) ?? 0) + 1);
    return result;
  }

  /**
   * `munmap(2)` of a whole mapping made by {@link mmap} (length rounded up to pages): `EINVAL`
   * for anything else. Dropping the vma drops its file reference: a device fd closed while
   * mapped is released here.
   */
  munmap(start: number, length: number): void {
    const rounded = Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
    const at = this.vmas.findIndex((v) => v.start === start && v.length === rounded);
    if (length <= 0 || at < 0)
      throw new KernelError('EINVAL', `no mapping 0x${start.toString(16)}+0x${length.toString(16)}`);
    const [vma] = this.vmas.splice(at, 1);
    if (vma === undefined) return;
    this.mm.addressSpace.munmap(vma.start, vma.length);
    this.fput(vma.file);
  }

  /** `copy_to_user`: writes RAM-backed user memory; `EFAULT` for unmapped or device memory. */
  copyToUser(vaddr: number, bytes: Uint8Array): void {
    const memory = this.userMemory();
    let done = 0;
    for (const chunk of this.mm.addressSpace.resolve(vaddr, bytes.length)) {
      if (chunk.pfnmap) throw new KernelError('EFAULT', `0x${chunk.vaddr.toString(16)} is device memory`);
      memory.write(chunk.paddr, bytes.subarray(done, done + chunk.size));
      done += chunk.size;
    }
  }

  /** `copy_from_user`. */
  copyFromUser(vaddr: number, length: number): Uint8Array {
    const memory = this.userMemory();
    const out = new Uint8Array(length);
    let done = 0;
    for (const chunk of this.mm.addressSpace.resolve(vaddr, length)) {
      if (chunk.pfnmap) throw new KernelError('EFAULT', `0x${chunk.vaddr.toString(16)} is device memory`);
      memory.read(chunk.paddr, out.subarray(done, done + chunk.size));
      done += chunk.size;
    }
    return out;
  }

  private userMemory(): PhysicalMemory {
    if (this.memory === undefined)
      throw new KernelError('EFAULT', 'this process has no RAM behind its mappings');
    return this.memory;
  }

  /** A user load of `size` bytes at `vaddr` through a device mapping; `EFAULT` elsewhere. */
  load(vaddr: number, size: AccessSize): number {
    const target = this.mm.addressSpace.target(vaddr);
    if (target.mmio === undefined)
      throw new KernelError('EFAULT', `0x${vaddr.toString(16)} is not device memory`);
    return target.mmio.read(target.offset, size);
  }

  /** A user store through a device mapping; `EFAULT` (SIGSEGV) for a read-only or missing one. */
  store(vaddr: number, size: AccessSize, value: number): void {
    const target = this.mm.addressSpace.target(vaddr);
    if (target.mmio === undefined || !target.writable)
      throw new KernelError('EFAULT', `0x${vaddr.toString(16)} is not writable device memory`);
    target.mmio.write(target.offset, size, value);
  }

  close(fd: number): void {
    const file = this.fdget(fd);
    this.files.delete(fd);
    if (file instanceof EventFd) file.close();
    else this.fput(file);
  }

  // fput: the file's release runs when its last reference (fd or vma) goes.
  private fput(file: VfioFile): void {
    const refs = (this.fileRefs.get(file) ?? 1) - 1;
    if (refs > 0) {
      this.fileRefs.set(file, refs);
      return;
    }
    this.fileRefs.delete(file);
    file.release();
  }

  /** `exit`: closes every fd, lowest first, then tears down the mappings. */
  exit(): void {
    for (const fd of this.openFds) this.close(fd);
    for (const vma of [...this.vmas]) this.munmap(vma.start, vma.length);
  }

  private install(file: VfioFile | EventFd): number {
    let fd = 3;
    while (this.files.has(fd)) fd++;
    this.files.set(fd, file);
    if (!(file instanceof EventFd)) this.fileRefs.set(file, (this.fileRefs.get(file) ?? 0) + 1);
    return fd;
  }

  private vfioFile(fd: number): VfioFile {
    const file = this.fdget(fd);
    if (file instanceof EventFd) throw new KernelError('ENOTTY', `fd ${fd} is an eventfd`);
    return file;
  }
}
