import { EventFd, KernelError, rejectUnknownOptions } from '@vfiokit/core';
import type { VgicCpuInterface, Vm } from '@vfiokit/kvm';
import {
  type Capability,
  type IoctlArg,
  type Mm,
  type MmapRequest,
  type MmapResult,
  type Task,
  UserAddressSpace,
  type VfioFile,
  type VfioSyscalls,
} from '@vfiokit/vfio';
import type { Host } from '../host.js';
import { openIommufdNode } from '../iommufd/dev-nodes.js';
import { KvmSystemFile, KvmVcpuFile } from '../kvm/kvm-files.js';
import { HostEventFd } from './host-eventfd.js';

/** Options of a {@link HostProcess}. */
export interface HostProcessOptions {
  readonly comm?: string;
  /** Capabilities (default: root's CAP_SYS_RAWIO and CAP_IPC_LOCK, as the oracle's runner has). */
  readonly capabilities?: readonly Capability[];
  /** `RLIMIT_MEMLOCK` in bytes (default 8 MiB; root's CAP_IPC_LOCK lifts it anyway). */
  readonly rlimitMemlock?: number;
}

const OPTION_KEYS: readonly (keyof HostProcessOptions)[] = ['comm', 'capabilities', 'rlimitMemlock'];

/** An open file description: shared by the fds of a process and its forked children. */
class OpenFile {
  refs = 1;
  readonly file: VfioFile | EventFd;

  constructor(file: VfioFile | EventFd) {
    this.file = file;
  }

  /** Drops one reference; the last one releases the file (`fput` → `release`). */
  put(): void {
    this.refs--;
    if (this.refs > 0) return;
    if (this.file instanceof EventFd) this.file.close();
    else this.file.release();
  }
}

/**
 * A user mapping of a device region (`mmap` of a VFIO device fd). Like a VMA's `vm_file`, it
 * holds the device file: closing the fd does not release the device while it is mapped.
 */
export interface HostMapping extends MmapResult {}

const PAGE_SIZE = 4096;

/**
 * A process on the host: an fd table of open file descriptions (shared with children after
 * {@link fork}, closed with the last reference as the kernel's `fput` does), an address space
 * for device mmaps, and the {@link VfioSyscalls} a VMM calls. It is the `current` the VFIO
 * model sees during each call.
 */
export class HostProcess implements Task, VfioSyscalls {
  readonly pid: number;
  readonly comm: string;
  readonly mm: Mm;
  readonly rlimitMemlock: number;
  private readonly host: Host;
  private readonly caps: Set<Capability>;
  private readonly fds = new Map<number, OpenFile>();
  private readonly mappings = new Map<number, { readonly mapping: HostMapping; readonly open: OpenFile }>();
  private nextVaddr = 0x7f00_0000_0000;
  private exited = false;

  constructor(host: Host, pid: number, options: HostProcessOptions = {}) {
    rejectUnknownOptions(options, OPTION_KEYS, 'spawn');
    this.host = host;
    this.pid = pid;
    this.comm = options.comm ?? 'runner';
    this.caps = new Set(options.capabilities ?? ['CAP_SYS_RAWIO', 'CAP_IPC_LOCK']);
    this.rlimitMemlock = options.rlimitMemlock ?? 8 * 1024 * 1024;
    this.mm = { addressSpace: new UserAddressSpace(), lockedVm: 0 };
  }

  capable(capability: Capability): boolean {
    return this.caps.has(capability);
  }

  fdget(fd: number): VfioFile | EventFd {
    const open = this.fds.get(fd);
    if (open === undefined) throw new KernelError('EBADF', `fd ${fd} is not open`);
    return open.file;
  }

  /** Open fds, lowest first. */
  get openFds(): readonly number[] {
    return [...this.fds.keys()].sort((a, b) => a - b);
  }

  /**
   * `open(path, O_RDWR)` of a VFIO node: `/dev/vfio/vfio` (a new container) or
   * `/dev/vfio/<group>` (vfio_group_fops_open: `ENOENT`, `EPERM` without CAP_SYS_RAWIO for
   * no-IOMMU, `EBUSY` when already open), and `/dev/kvm` on a host that runs KVM. Other paths: `ENOENT` when missing, else `ENXIO`
   * (this model opens only VFIO character devices).
   */
  open(path: string): number {
    return this.syscall(() => {
      if (path === '/dev/vfio/vfio') return this.install(this.host.vfio.openContainer());
      // misc device `kvm` (kvm_main.c kvm_dev_ioctl): present when the host can run KVM.
      if (path === '/dev/kvm' && this.host.kvm.available)
        return this.install(new KvmSystemFile(this.host.kvm, (f) => this.installInCurrent(f)));
      // /dev/iommu and /dev/vfio/devices/vfioX (src/iommufd/dev-nodes.ts).
      const iommufdNode = openIommufdNode(path, this, this.host.vfio, this.host.params);
      if (iommufdNode !== undefined) return this.install(iommufdNode);
      const prefix = '/dev/vfio/';
      if (path.startsWith(prefix) && !path.slice(prefix.length).includes('/')) {
        const file = this.host.vfio.openGroup(this, path.slice(prefix.length), (f) =>
          this.installInCurrent(f),
        );
        return this.install(file);
      }
      if (!this.host.fs.exists(path)) throw new KernelError('ENOENT', `${path}: no such file or directory`);
      throw new KernelError('ENXIO', `${path}: the model opens only /dev/vfio nodes with open()`);
    });
  }

  /** `eventfd(0, EFD_NONBLOCK)`. */
  eventfd(): number {
    return this.syscall(() => this.install(new HostEventFd(this.host.scheduler)));
  }

  /**
   * `write(efd, &value, 8)` of an eventfd (fs/eventfd.c `eventfd_write`): returns 8; `EINVAL`
   * for 0xffffffffffffffff, `EAGAIN` when the counter would overflow (the fd is non-blocking),
   * `EINVAL` for an fd that is not an eventfd (the model writes VFIO files with `pwrite`).
   * What the wakeup schedules runs after the call returns.
   */
  eventfdWrite(fd: number, value: bigint | number): number {
    return this.syscall(() => {
      this.eventfdOf(fd).write(value);
      return 8;
    });
  }

  /** The eventfd behind `fd`; `EINVAL` for another kind of file. */
  eventfdOf(fd: number): EventFd {
    const file = this.fdget(fd);
    if (!(file instanceof EventFd)) throw new KernelError('EINVAL', `fd ${fd} is not an eventfd`);
    return file;
  }

  /**
   * `KVM_RUN` of a vCPU fd, with the guest's work given as `guest` (what the vCPU does with its
   * GIC CPU interface — IAR, EOIR, DIR, PMR — and, through `vm.vgic`, the distributor
   * registers its MMIO reaches): one kernel entry, so what the guest's EOI sets off
   * (KVM's resampler signalling vfio's UNMASK eventfd, vfio's enable_irq resend) runs as on
   * Linux — inside the ioctl, the resend after it. `ENOTTY` for an fd that is not a vCPU's;
   * `ENXIO` before the vGIC is initialised (a simplification: Linux initialises it lazily).
   */
  kvmRun<T>(fd: number, guest: (cpu: VgicCpuInterface, vm: Vm) => T): T {
    return this.syscall(() => {
      const file = this.fdget(fd);
      if (!(file instanceof KvmVcpuFile)) throw new KernelError('ENOTTY', `fd ${fd} is not a vCPU`);
      return guest(file.cpu, file.vm);
    });
  }

  ioctl(fd: number, request: number, arg?: IoctlArg): number {
    return this.syscall(() => this.vfioFile(fd).ioctl(this, request, arg));
  }

  pread(fd: number, buffer: Uint8Array, offset: number): number {
    return this.syscall(() => this.vfioFile(fd).read(this, buffer, offset));
  }

  pwrite(fd: number, data: Uint8Array, offset: number): number {
    return this.syscall(() => this.vfioFile(fd).write(this, data, offset));
  }

  /** `mmap(2)` of a VFIO file: the model picks the user address, as `mmap(NULL, …)` does. */
  mmap(fd: number, request: MmapRequest): MmapResult {
    return this.syscall(() => this.vfioFile(fd).mmap(this, request));
  }

  /** `mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_SHARED, fd, offset)`. */
  mmapShared(fd: number, offset: number, length: number): HostMapping {
    const start = this.nextVaddr;
    const mapping = this.mmap(fd, { start, length, offset, read: true, write: true, shared: true });
    this.nextVaddr += Math.ceil(Math.max(length, 1) / PAGE_SIZE) * PAGE_SIZE + PAGE_SIZE;
    const open = this.fds.get(fd);
    if (open === undefined) throw new KernelError('EBADF', `fd ${fd} is not open`);
    open.refs++;
    this.mappings.set(mapping.start, { mapping, open });
    return mapping;
  }

  /** `munmap(2)` of a whole mapping: drops its reference on the file (`EINVAL` when not mapped). */
  munmap(mapping: HostMapping): void {
    this.syscall(() => {
      const entry = this.mappings.get(mapping.start);
      if (entry === undefined || entry.mapping !== mapping)
        throw new KernelError('EINVAL', `0x${mapping.start.toString(16)} is not mapped`);
      this.mappings.delete(mapping.start);
      entry.open.put();
    });
  }

  /** Live mappings. */
  get mapped(): readonly HostMapping[] {
    return [...this.mappings.values()].map((entry) => entry.mapping);
  }

  /**
   * `mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)`: fresh memory
   * (whole pages of host RAM) at a new user address, which MAP_DMA can pin. Returns the address.
   */
  mmapAnonymous(length: number): number {
    if (!Number.isInteger(length) || length <= 0) throw new KernelError('EINVAL', `mmap length ${length}`);
    const size = Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
    const start = this.nextVaddr;
    this.mm.addressSpace.mmap(start, this.host.allocateRam(size), size);
    this.nextVaddr += size + PAGE_SIZE;
    return start;
  }

  /** A 32-bit load through a device mapping (uncached MMIO: goes to the register model). */
  peek32(mapping: HostMapping, offset: number): number {
    this.checkMapping(mapping, offset);
    this.checkMapped(mapping);
    const { model, offset: at } = this.host.mmioMap.resolve(mapping.paddr + offset, 4);
    return model.read(at, 4);
  }

  /** A 32-bit store through a device mapping. */
  poke32(mapping: HostMapping, offset: number, value: number): void {
    this.checkMapping(mapping, offset);
    this.checkMapped(mapping);
    const { model, offset: at } = this.host.mmioMap.resolve(mapping.paddr + offset, 4);
    model.write(at, 4, value >>> 0);
  }

  /** `close(2)`: `EBADF` for an fd not open; the last reference releases the file. */
  close(fd: number): void {
    this.syscall(() => {
      const open = this.fds.get(fd);
      if (open === undefined) throw new KernelError('EBADF', `fd ${fd} is not open`);
      this.fds.delete(fd);
      open.put();
    });
  }

  /** `fork()`: a child with the same fds, each sharing its open file description. */
  fork(options: HostProcessOptions = {}): HostProcess {
    const child = new HostProcess(this.host, this.host.allocatePid(), {
      comm: options.comm ?? this.comm,
      capabilities: options.capabilities ?? [...this.caps],
      rlimitMemlock: options.rlimitMemlock ?? this.rlimitMemlock,
    });
    for (const [fd, open] of this.fds) {
      open.refs++;
      child.fds.set(fd, open);
    }
    for (const [start, entry] of this.mappings) {
      entry.open.refs++;
      child.mappings.set(start, entry);
    }
    return child;
  }

  /** `exit()`: unmaps every mapping, then closes every fd, lowest first. */
  exit(): void {
    if (this.exited) return;
    this.exited = true;
    for (const mapping of this.mapped) this.munmap(mapping);
    for (const fd of this.openFds) this.close(fd);
  }

  private checkMapped(mapping: HostMapping): void {
    if (this.mappings.get(mapping.start)?.mapping !== mapping)
      throw new KernelError('EFAULT', `0x${mapping.start.toString(16)} is not mapped (SIGSEGV)`);
  }

  private checkMapping(mapping: HostMapping, offset: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + 4 > mapping.length || offset % 4 !== 0) {
      throw new KernelError('EFAULT', `offset 0x${offset.toString(16)} is outside the mapping (SIGBUS)`);
    }
  }

  private syscall<T>(body: () => T): T {
    const previous = this.host.current;
    this.host.current = this;
    try {
      // Deferred interrupt work runs when the call returns (see HostScheduler).
      return this.host.scheduler.enter(body);
    } finally {
      this.host.current = previous;
    }
  }

  // A file a system call creates (GET_DEVICE_FD) goes into the caller's table: `current`'s.
  private installInCurrent(file: VfioFile): number {
    return (this.host.current ?? this).install(file);
  }

  private install(file: VfioFile | EventFd): number {
    let fd = 3;
    while (this.fds.has(fd)) fd++;
    this.fds.set(fd, new OpenFile(file));
    return fd;
  }

  private vfioFile(fd: number): VfioFile {
    const file = this.fdget(fd);
    if (file instanceof EventFd) throw new KernelError('ENOTTY', `fd ${fd} is an eventfd`);
    return file;
  }
}
