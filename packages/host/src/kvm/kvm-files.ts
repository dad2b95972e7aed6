import { EventFd, KernelError } from '@vfiokit/core';
import {
  decodeGsiRouting,
  decodeKvmStruct,
  KVM_UAPI_CONSTANTS as K,
  type KvmDevice,
  KvmVfioDevice,
  type KvmVfioFile,
  type VgicCpuInterface,
  Vm,
} from '@vfiokit/kvm';
import type { IoctlArg, MmapRequest, MmapResult, Task, VfioFile } from '@vfiokit/vfio';
import type { HostKvmInfo } from './host-kvm.js';
import { kvmCheckExtension } from './kvm-caps.js';

/** Puts a file a KVM ioctl created into the caller's fd table; returns the fd. */
export type KvmInstall = (file: VfioFile) => number;

/** `KVM_VM_TYPE_ARM_IPA_SIZE_MASK` (arm64 <linux/kvm.h>). */
const IPA_SIZE_MASK = 0xff;
/** `KVM_PHYS_SHIFT`: the default IPA size of a VM of type 0. */
const KVM_PHYS_SHIFT = 40;
/** `ARM64_MIN_PARANGE_BITS`. */
const MIN_PARANGE_BITS = 32;
/** The bytes of `struct kvm_device_attr` plus the 8 bytes its `addr` points at (see kvmDeviceAttrArg). */
const ATTR_SIZE = 24;

function bytesOf(arg: IoctlArg | undefined, size: number, what: string): Uint8Array {
  if (!(arg instanceof Uint8Array) || arg.length < size)
    throw new KernelError('EFAULT', `${what}: the argument is not a ${size}-byte struct`);
  return arg;
}

function numberOf(arg: IoctlArg | undefined): number {
  return typeof arg === 'number' ? arg : 0;
}

/**
 * The argument of KVM_SET/GET/HAS_DEVICE_ATTR in the model: `struct kvm_device_attr` followed
 * by the 8 bytes of user memory its `addr` points at (the model has no user memory to point
 * into). `value` fills them — a number or bigint (the __u64 of KVM_DEV_ARM_VGIC_GRP_ADDR, else
 * a __u32) or `{ fd }` (the __s32 of KVM_DEV_VFIO_FILE) — and sets `addr` non-zero; without it
 * `addr` is NULL. KVM_GET_DEVICE_ATTR writes its result there: read it with
 * {@link kvmDeviceAttrValue}.
 */
export function kvmDeviceAttrArg(attr: {
  readonly group: number;
  readonly attr: number;
  readonly value?: number | bigint | { readonly fd: number };
  readonly flags?: number;
  /** Give GET a place to write even without a value (default true for GET callers). */
  readonly addr?: boolean;
}): Uint8Array {
  const bytes = new Uint8Array(ATTR_SIZE + 8);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, attr.flags ?? 0, true);
  view.setUint32(4, attr.group >>> 0, true);
  view.setBigUint64(8, BigInt(attr.attr), true);
  const value = attr.value;
  if (value !== undefined || attr.addr === true) view.setBigUint64(16, BigInt(ATTR_SIZE), true);
  if (typeof value === 'object') view.setInt32(ATTR_SIZE, value.fd, true);
  else if (value !== undefined) view.setBigUint64(ATTR_SIZE, BigInt.asUintN(64, BigInt(value)), true);
  return bytes;
}

/** The 8 bytes behind `addr` of a {@link kvmDeviceAttrArg} buffer, as a __u64. */
export function kvmDeviceAttrValue(bytes: Uint8Array): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(ATTR_SIZE, true);
}

// Files a process holds on a VM keep it alive (kvm_get_kvm / kvm_put_kvm): the VM fd, every
// vCPU fd and every device fd. The last put destroys the VM (kvm_destroy_vm).
class VmRefs {
  refs = 0;
  readonly vm: Vm;

  constructor(vm: Vm) {
    this.vm = vm;
  }

  get(): void {
    this.refs++;
  }

  put(): void {
    this.refs--;
    if (this.refs === 0) this.vm.release();
  }
}

abstract class KvmFileBase implements VfioFile {
  readonly kind = 'anon' as const;

  abstract ioctl(current: Task, request: number, arg?: IoctlArg): number;

  // The model's read/write are pread(2)/pwrite(2): KVM's anon-inode files are opened without
  // FMODE_PREAD/FMODE_PWRITE, so fs/read_write.c ksys_pread64/ksys_pwrite64 answer ESPIPE
  // before any file operation (oracle kvm-vfio-device). Only vCPUs mmap (the kvm_run page),
  // which this model does not have: ENODEV, as for the VM and device fds.
  read(): number {
    throw new KernelError('ESPIPE', 'pread of a KVM file (no FMODE_PREAD)');
  }

  write(): number {
    throw new KernelError('ESPIPE', 'pwrite of a KVM file (no FMODE_PWRITE)');
  }

  mmap(_current: Task, _request: MmapRequest): MmapResult {
    throw new KernelError('ENODEV', 'KVM files are not mapped in this model');
  }

  abstract release(): void;
}

/**
 * `/dev/kvm` (virt/kvm/kvm_main.c kvm_dev_ioctl): KVM_GET_API_VERSION (12; a non-zero arg is
 * EINVAL), KVM_CREATE_VM and KVM_CHECK_EXTENSION (see kvmCheckExtension); everything else falls to arm64's kvm_arch_dev_ioctl: EINVAL.
 */
export class KvmSystemFile extends KvmFileBase {
  private readonly info: HostKvmInfo;
  private readonly install: KvmInstall;

  constructor(info: HostKvmInfo, install: KvmInstall) {
    super();
    this.info = info;
    this.install = install;
  }

  ioctl(_current: Task, request: number, arg?: IoctlArg): number {
    switch (request) {
      case K.KVM_GET_API_VERSION:
        if (numberOf(arg) !== 0) throw new KernelError('EINVAL', 'KVM_GET_API_VERSION takes no argument');
        return K.KVM_API_VERSION;
      case K.KVM_CREATE_VM:
        return this.install(new KvmVmFile(this.createVm(numberOf(arg)), this.install, this.info));
      case K.KVM_CHECK_EXTENSION:
        return kvmCheckExtension(this.info, undefined, numberOf(arg));
    }
    throw new KernelError('EINVAL', `ioctl 0x${request.toString(16)} on /dev/kvm`);
  }

  // arch/arm64/kvm/mmu.c kvm_init_ipa_range: unknown type bits, or an IPA size outside
  // 32..kvm_ipa_limit, is EINVAL; type 0 is the default 40 bits.
  private createVm(type: number): Vm {
    if (!Number.isInteger(type) || type < 0 || type & ~IPA_SIZE_MASK)
      throw new KernelError('EINVAL', `KVM_CREATE_VM type 0x${type.toString(16)}`);
    const shift = type & IPA_SIZE_MASK;
    if (shift !== 0 && (shift > this.info.ipaLimit || shift < MIN_PARANGE_BITS))
      throw new KernelError('EINVAL', `IPA size ${shift} is not ${MIN_PARANGE_BITS}..${this.info.ipaLimit}`);
    return new Vm({ vcpus: 0, ipaBits: shift || KVM_PHYS_SHIFT, vgicVersions: this.info.vgicVersions });
  }

  // /dev/kvm holds no state of its own: VMs live as long as their own fds.
  release(): void {}
}

/**
 * A VM fd (kvm_vm_ioctl): KVM_CREATE_VCPU, KVM_CREATE_DEVICE, KVM_IRQFD, KVM_IRQ_LINE,
 * KVM_SET_GSI_ROUTING; other ioctls EINVAL (kvm_arch_vm_ioctl's default).
 */
export class KvmVmFile extends KvmFileBase {
  readonly vm: Vm;
  private readonly refs: VmRefs;
  private readonly install: KvmInstall;
  private readonly info: HostKvmInfo;
  private released = false;

  constructor(vm: Vm, install: KvmInstall, info: HostKvmInfo) {
    super();
    this.vm = vm;
    this.refs = new VmRefs(vm);
    this.refs.get();
    this.install = install;
    this.info = info;
  }

  ioctl(current: Task, request: number, arg?: IoctlArg): number {
    switch (request) {
      case K.KVM_CHECK_EXTENSION:
        return kvmCheckExtension(this.info, this.vm, numberOf(arg));
      case K.KVM_CREATE_VCPU: {
        const index = this.vm.createVcpu(numberOf(arg));
        return this.install(new KvmVcpuFile(this.refs, index));
      }
      case K.KVM_CREATE_DEVICE:
        return this.createDevice(bytesOf(arg, 12, 'KVM_CREATE_DEVICE'));
      case K.KVM_IRQFD:
        this.irqfd(current, bytesOf(arg, 32, 'KVM_IRQFD'));
        return 0;
      case K.KVM_IRQ_LINE: {
        const q = decodeKvmStruct('kvm_irq_level', bytesOf(arg, 8, 'KVM_IRQ_LINE'));
        this.vm.irqLine(Number(q.irq), Number(q.level));
        return 0;
      }
      case K.KVM_SET_GSI_ROUTING: {
        const { entries, flags } = decodeGsiRouting(bytesOf(arg, 8, 'KVM_SET_GSI_ROUTING'));
        this.vm.setGsiRouting(entries, flags);
        return 0;
      }
    }
    throw new KernelError('EINVAL', `ioctl 0x${request.toString(16)} on a VM fd`);
  }

  // kvm_ioctl_create_device: ENODEV for a type without ops (Vm.createDevice), TEST creates
  // nothing; the new fd goes into `fd`.
  private createDevice(bytes: Uint8Array): number {
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const type = view.getUint32(0, true);
    const test = (view.getUint32(8, true) & K.KVM_CREATE_DEVICE_TEST) !== 0;
    if (test) {
      const known =
        type === K.KVM_DEV_TYPE_VFIO ||
        (type === K.KVM_DEV_TYPE_ARM_VGIC_V2 && this.vm.vgicVersions.includes(2)) ||
        (type === K.KVM_DEV_TYPE_ARM_VGIC_V3 && this.vm.vgicVersions.includes(3));
      if (!known) throw new KernelError('ENODEV', `KVM_CREATE_DEVICE type ${type}`);
      return 0;
    }
    const device = this.vm.createDevice(type);
    const fd = this.install(new KvmDeviceFile(device, this.refs));
    view.setUint32(4, fd, true);
    return 0;
  }

  // virt/kvm/eventfd.c kvm_irqfd → kvm_irqfd_assign / kvm_irqfd_deassign: flags EINVAL first;
  // assign: EAGAIN before the vGIC is initialised, then the eventfd (EBADF closed, EINVAL not
  // an eventfd), then the resamplefd likewise; deassign resolves only the eventfd.
  private irqfd(current: Task, bytes: Uint8Array): void {
    const q = decodeKvmStruct('kvm_irqfd', bytes);
    const flags = Number(q.flags);
    if (flags & ~(K.KVM_IRQFD_FLAG_DEASSIGN | K.KVM_IRQFD_FLAG_RESAMPLE))
      throw new KernelError('EINVAL', `KVM_IRQFD flags 0x${flags.toString(16)}`);
    const gsi = Number(q.gsi);
    if (flags & K.KVM_IRQFD_FLAG_DEASSIGN) {
      this.vm.irqfd({ fd: eventfdOf(current, Number(q.fd)), gsi, flags });
      return;
    }
    if (!this.vm.vgicInitialized) throw new KernelError('EAGAIN', 'KVM_IRQFD before the vGIC is initialised');
    const fd = eventfdOf(current, Number(q.fd));
    if (flags & K.KVM_IRQFD_FLAG_RESAMPLE) {
      const resamplefd = eventfdOf(current, Number(q.resamplefd));
      this.vm.irqfd({ fd, gsi, flags, resamplefd });
    } else {
      this.vm.irqfd({ fd, gsi, flags });
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.refs.put();
  }
}

// eventfd_ctx_fdget: EBADF for an fd not open, EINVAL for a file that is not an eventfd.
function eventfdOf(current: Task, fd: number): EventFd {
  const file = current.fdget(fd | 0);
  if (!(file instanceof EventFd)) throw new KernelError('EINVAL', `fd ${fd} is not an eventfd`);
  return file;
}

/**
 * A vCPU fd: it holds the VM. Its ioctls are not modelled (EINVAL); the guest runs through
 * `HostProcess.kvmRun`, which stands for KVM_RUN.
 */
export class KvmVcpuFile extends KvmFileBase {
  /** The vCPU's index in the VM (creation order). */
  readonly index: number;
  private readonly refs: VmRefs;
  private released = false;

  constructor(refs: VmRefs, index: number) {
    super();
    this.refs = refs;
    this.index = index;
    refs.get();
  }

  /** The guest's GIC CPU interface of this vCPU (ENXIO before the vGIC is initialised). */
  get cpu(): VgicCpuInterface {
    return this.refs.vm.vcpu(this.index);
  }

  /** The VM this vCPU belongs to. */
  get vm(): Vm {
    return this.refs.vm;
  }

  ioctl(_current: Task, request: number): number {
    throw new KernelError('EINVAL', `vCPU ioctl 0x${request.toString(16)} is not modelled`);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.refs.put();
  }
}

// The brand KVM-VFIO checks (kvm_vfio_file_is_valid → vfio_file_is_valid): VFIO group and
// device files. One adapter per file, so FILE_ADD's EEXIST and FILE_DEL's lookup see identity.
const ADAPTERS = new WeakMap<VfioFile, KvmVfioFile>();

function kvmVfioFileOf(file: VfioFile | EventFd): unknown {
  if (file instanceof EventFd || (file.kind !== 'group' && file.kind !== 'device')) return file;
  let adapter = ADAPTERS.get(file);
  if (adapter === undefined) {
    // fget: KVM-VFIO holds its own reference, so the file stays valid after the fd closes.
    const target = file as VfioFile & { setKvm?: (kvm: object | undefined) => void };
    adapter = {
      vfioFile: true,
      isOpen: true,
      // kvm_vfio_file_set_kvm → vfio_file_set_kvm: the group's or the device file's VM.
      ...(target.setKvm === undefined ? {} : { setKvm: (kvm: object | undefined) => target.setKvm?.(kvm) }),
    };
    ADAPTERS.set(file, adapter);
  }
  return adapter;
}

/**
 * A device fd of KVM_CREATE_DEVICE (kvm_device_ioctl): KVM_SET/GET/HAS_DEVICE_ATTR on the vGIC
 * or the KVM-VFIO device; a device without get_attr (KVM-VFIO) answers GET with EPERM.
 */
export class KvmDeviceFile extends KvmFileBase {
  readonly device: KvmDevice | KvmVfioDevice;
  private readonly refs: VmRefs;
  private released = false;

  constructor(device: KvmDevice | KvmVfioDevice, refs: VmRefs) {
    super();
    this.device = device;
    this.refs = refs;
    refs.get();
  }

  ioctl(current: Task, request: number, arg?: IoctlArg): number {
    if (
      request !== K.KVM_SET_DEVICE_ATTR &&
      request !== K.KVM_GET_DEVICE_ATTR &&
      request !== K.KVM_HAS_DEVICE_ATTR
    )
      throw new KernelError('ENOTTY', `device ioctl 0x${request.toString(16)}`);
    const bytes = bytesOf(arg, ATTR_SIZE, 'kvm_device_attr');
    const a = decodeKvmStruct('kvm_device_attr', bytes);
    const group = Number(a.group);
    const attr = Number(BigInt.asUintN(53, BigInt(a.attr ?? 0)));
    const hasAddr = BigInt(a.addr ?? 0) !== 0n && bytes.length >= ATTR_SIZE + 8;
    const value = hasAddr ? kvmDeviceAttrValue(bytes) : undefined;
    const device = this.device;
    if (device instanceof KvmVfioDevice) return this.vfioAttr(current, request, device, group, attr, value);
    if (request === K.KVM_HAS_DEVICE_ATTR) {
      if (!device.hasAttr({ group, attr })) throw new KernelError('ENXIO', `vGIC attr ${group}/${attr}`);
      return 0;
    }
    // vgic_set_common_attr / vgic_get_common_attr: ADDR and NR_IRQS copy from/to `addr`
    // before anything else (EFAULT for NULL); CTRL ignores it.
    const uaccess = group === K.KVM_DEV_ARM_VGIC_GRP_ADDR || group === K.KVM_DEV_ARM_VGIC_GRP_NR_IRQS;
    if (request === K.KVM_GET_DEVICE_ATTR) {
      const out = device.getAttr({ group, attr });
      if (!hasAddr) throw new KernelError('EFAULT', 'KVM_GET_DEVICE_ATTR: addr is NULL');
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      if (group === K.KVM_DEV_ARM_VGIC_GRP_ADDR) view.setBigUint64(ATTR_SIZE, out, true);
      else view.setUint32(ATTR_SIZE, Number(BigInt.asUintN(32, out)), true);
      return 0;
    }
    if (uaccess && value === undefined) throw new KernelError('EFAULT', 'KVM_SET_DEVICE_ATTR: addr is NULL');
    const width = group === K.KVM_DEV_ARM_VGIC_GRP_ADDR ? 64 : 32;
    device.setAttr(
      value === undefined ? { group, attr } : { group, attr, value: Number(BigInt.asUintN(width, value)) },
    );
    return 0;
  }

  // virt/kvm/vfio.c: has_attr/set_attr only (GET → kvm_device_ioctl_attr's EPERM); the fd at
  // `addr` is looked up in the caller's table (EBADF when not open).
  private vfioAttr(
    current: Task,
    request: number,
    device: KvmVfioDevice,
    group: number,
    attr: number,
    value: bigint | undefined,
  ): number {
    if (request === K.KVM_GET_DEVICE_ATTR) throw new KernelError('EPERM', 'KVM-VFIO has no get_attr');
    if (request === K.KVM_HAS_DEVICE_ATTR) {
      if (!device.hasAttr({ group, attr })) throw new KernelError('ENXIO', `KVM-VFIO attr ${group}/${attr}`);
      return 0;
    }
    if (value === undefined || !device.hasAttr({ group, attr })) {
      device.setAttr({ group, attr, nullAddr: true });
      return 0;
    }
    const fd = Number(BigInt.asIntN(32, value));
    device.setAttr({ group, attr, file: kvmVfioFileOf(current.fdget(fd)) });
    return 0;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.refs.put();
  }
}
