import { type EventFd, KernelError, PhysicalMemory, rejectUnknownOptions } from '@vfiokit/core';
import {
  KVM_UAPI_CONSTANTS as K,
  KVM_IRQ_ROUTING_IRQCHIP_PPI,
  VGIC_MAX_RESERVED,
  VGIC_NR_IRQS_LEGACY,
  VGIC_NR_PRIVATE_IRQS,
  VGIC_V2_MAX_CPUS,
  VGIC_V3_MAX_CPUS,
} from '../uapi/constants.js';
import { decodeIrqLine } from '../uapi/irq-line.js';
import { type GicVersion, Vgic, type VgicCpuInterface } from '../vgic/vgic.js';
import type { Irqfd, IrqfdArgs, KvmStats, Resampler } from './irqfd.js';
import { KvmVfioDevice } from './kvm-vfio.js';
import { Memslots, type UserspaceMemoryRegion } from './memslots.js';
import {
  buildRoutingTable,
  defaultRouting,
  type IrqchipPpiRoute,
  type IrqchipRoute,
  type KernelRoute,
  type RoutingEntry,
  type RoutingTable,
} from './routing.js';

export interface VmOptions {
  /**
   * Number of vCPUs created up front (ids 0..n-1, as KVM_CREATE_VCPU before the vGIC is
   * initialised). Default 1; 0 leaves them to {@link Vm.createVcpu}, as a VMM does.
   */
  readonly vcpus?: number;
  /** The VMM's memory that memslots point into (default: a fresh 48-bit PhysicalMemory). */
  readonly userMemory?: PhysicalMemory;
  /** IPA bits (default 40). */
  readonly ipaBits?: number;
  /** Host PAGE_SIZE (default 4 KiB). */
  readonly pageSize?: number;
  /** NOT IN LINUX: accept seed 003's KVM_IRQ_ROUTING_IRQCHIP_PPI routes (default false). */
  readonly ppiRouting?: boolean;
  /**
   * The vGIC models the host's GIC lets KVM emulate (default both). KVM registers the
   * KVM_DEV_TYPE_ARM_VGIC_V2 device ops only when it can emulate a GICv2 (a GICv2 host, or a
   * GICv3 host with a GICV region: vgic-v3.c vgic_v3_probe), so KVM_CREATE_DEVICE of another
   * model is ENODEV (kvm_main.c kvm_ioctl_create_device).
   */
  readonly vgicVersions?: readonly GicVersion[];
}

/** `struct kvm_device_attr` with the value the kernel would `get_user` from `addr`. */
export interface DeviceAttr {
  readonly group: number;
  readonly attr: number;
  /** The u32/u64 at `addr` (NR_IRQS count, a base address); omitted for CTRL_INIT. */
  readonly value?: number;
  readonly flags?: number;
}

/**
 * A device created by KVM_CREATE_DEVICE (the vGIC): KVM_SET_DEVICE_ATTR / KVM_HAS_DEVICE_ATTR /
 * KVM_GET_DEVICE_ATTR.
 */
export interface KvmDevice {
  readonly type: number;
  setAttr(attr: DeviceAttr): void;
  hasAttr(attr: DeviceAttr): boolean;
  /**
   * The value KVM_GET_DEVICE_ATTR stores at `addr` (vgic-kvm-device.c vgic_get_common_attr):
   * NR_IRQS → nr_spis + 32 (32 before any was set), an address type → its base (all ones,
   * VGIC_ADDR_UNDEF, while unset); other groups ENXIO.
   */
  getAttr(attr: DeviceAttr): bigint;
}

/** `KVM_MAX_VCPUS` on arm64 (= KVM_MAX_VCPU_IDS): vCPU ids are below it. */
export const KVM_MAX_VCPUS = 512;

const ADDR_ALIGN_V2 = 0x1000;
const ADDR_ALIGN_V3 = 0x1_0000;

/**
 * A KVM virtual machine on arm64 (Linux 6.12): memslots, an in-kernel vGIC created with
 * KVM_CREATE_DEVICE and initialised with KVM_DEV_ARM_VGIC_CTRL_INIT, KVM_IRQ_LINE, KVM_IRQFD
 * (with resamplefd) and KVM_SET_GSI_ROUTING. The guest runs through {@link Vm.vcpu}.
 */
export class Vm {
  readonly memslots: Memslots;
  readonly ppiRouting: boolean;
  /** The vGIC models this host's KVM can emulate. */
  readonly vgicVersions: readonly GicVersion[];
  readonly stats: KvmStats = { irqfdWakeups: 0, irqLines: 0, resamples: 0, droppedInjections: 0 };
  private vgicModel: GicVersion | undefined;
  private kvmVfio: KvmVfioDevice | undefined;
  private nrSpis = 0;
  private readonly addresses = new Map<number, number>();
  private vgicState: Vgic | undefined;
  private routing: RoutingTable = { map: new Map(), chip: new Map(), ppiChip: new Map() };
  private readonly irqfds: Irqfd[] = [];
  private readonly resamplers = new Map<number, Resampler>();
  // KVM_CREATE_VCPU ids in creation order: a vCPU's index in the vGIC is its position here.
  private readonly vcpuIds: number[] = [];
  private released = false;

  constructor(options: VmOptions = {}) {
    rejectUnknownOptions(
      options,
      ['vcpus', 'userMemory', 'ipaBits', 'pageSize', 'ppiRouting', 'vgicVersions'],
      'Vm',
    );
    const vcpus = options.vcpus ?? 1;
    if (!Number.isInteger(vcpus) || vcpus < 0 || vcpus > VGIC_V3_MAX_CPUS)
      throw new KernelError('EINVAL', `vcpus ${String(options.vcpus)} is not 0..${VGIC_V3_MAX_CPUS}`);
    for (let id = 0; id < vcpus; id++) this.vcpuIds.push(id);
    this.ppiRouting = options.ppiRouting ?? false;
    const versions = options.vgicVersions ?? [2, 3];
    if (!Array.isArray(versions) || versions.some((v) => v !== 2 && v !== 3))
      throw new KernelError('EINVAL', 'Vm vgicVersions: a list of 2 and 3');
    this.vgicVersions = [...versions];
    this.memslots = new Memslots({
      userMemory: options.userMemory ?? new PhysicalMemory(),
      ...(options.ipaBits === undefined ? {} : { ipaBits: options.ipaBits }),
      ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    });
  }

  /** `KVM_SET_USER_MEMORY_REGION`. */
  setUserMemoryRegion(region: UserspaceMemoryRegion): void {
    this.memslots.setUserMemoryRegion(region);
  }

  /** The number of vCPUs created (`kvm->online_vcpus`). */
  get nrVcpus(): number {
    return this.vcpuIds.length;
  }

  /**
   * `kvm->max_vcpus`: kvm_arm_default_max_vcpus() (the host GIC's max_gic_vcpus: 512 when KVM
   * can emulate a GICv3, else 8), and GICv2's 8 once a GICv2 vGIC exists (kvm_vgic_create).
   */
  get maxVcpus(): number {
    return this.vgicModel === 2 || !this.vgicVersions.includes(3) ? VGIC_V2_MAX_CPUS : VGIC_V3_MAX_CPUS;
  }

  /**
   * `KVM_CREATE_VCPU` (kvm_main.c kvm_vm_ioctl_create_vcpu, 6.12): an id of KVM_MAX_VCPU_IDS or
   * more → EINVAL; `max_vcpus` already created → EINVAL; an initialised vGIC → EBUSY, then an
   * id of `max_vcpus` or more → EINVAL (arm.c kvm_arch_vcpu_precreate); an id in use → EEXIST. Returns the vCPU's index.
   */
  createVcpu(id: number): number {
    if (!Number.isInteger(id) || id < 0 || id >= KVM_MAX_VCPUS)
      throw new KernelError('EINVAL', `vCPU id ${String(id)} is not below KVM_MAX_VCPU_IDS`);
    if (this.vcpuIds.length >= this.maxVcpus)
      throw new KernelError('EINVAL', `already ${this.vcpuIds.length} vCPUs (max_vcpus)`);
    if (this.vgicState !== undefined)
      throw new KernelError('EBUSY', 'KVM_CREATE_VCPU after the vGIC was initialised');
    if (id >= this.maxVcpus) throw new KernelError('EINVAL', `vCPU id ${id} is not below max_vcpus`);
    if (this.vcpuIds.includes(id)) throw new KernelError('EEXIST', `vCPU id ${id} exists`);
    this.vcpuIds.push(id);
    return this.vcpuIds.length - 1;
  }

  /**
   * The last reference to the VM is gone (kvm_main.c kvm_destroy_vm): kvm_irqfd_release
   * deactivates every irqfd (their eventfds are user space's again, no line change is
   * delivered any more), and the KVM-VFIO device releases its files (kvm_vfio_release).
   * Idempotent.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const irqfd of [...this.irqfds]) this.irqfdDeactivate(irqfd);
    this.kvmVfio?.release();
  }

  /** Whether KVM_DEV_ARM_VGIC_CTRL_INIT has run (`vgic_initialized`). */
  get vgicInitialized(): boolean {
    return this.vgicState !== undefined;
  }

  /** The initialised vGIC; `ENXIO` before KVM_DEV_ARM_VGIC_CTRL_INIT. */
  get vgic(): Vgic {
    if (this.vgicState === undefined) throw new KernelError('ENXIO', 'the vGIC is not initialised');
    return this.vgicState;
  }

  /** The guest's GIC CPU interface of vCPU `index` (after vGIC init). */
  vcpu(index: number): VgicCpuInterface {
    return this.vgic.cpu(index);
  }

  /**
   * `KVM_CREATE_DEVICE` of KVM_DEV_TYPE_ARM_VGIC_V2 / _V3 (kvm_vgic_create): a second vGIC is
   * `EEXIST`; more vCPUs than the model allows (8 for GICv2) is `E2BIG`; KVM_DEV_TYPE_VFIO gives
   * the KVM-VFIO device (a second one `EBUSY`); another type `ENODEV`.
   */
  createDevice(type: typeof K.KVM_DEV_TYPE_VFIO): KvmVfioDevice;
  createDevice(type: number): KvmDevice;
  createDevice(type: number): KvmDevice | KvmVfioDevice {
    // kvm_ioctl_create_device: a type whose ops are not registered is ENODEV before any
    // device's own create runs (so a GICv2 vGIC on a GICv3-only host is ENODEV, not EEXIST).
    const version: GicVersion | undefined =
      type === K.KVM_DEV_TYPE_ARM_VGIC_V2 ? 2 : type === K.KVM_DEV_TYPE_ARM_VGIC_V3 ? 3 : undefined;
    if (version !== undefined && !this.vgicVersions.includes(version))
      throw new KernelError('ENODEV', `this host's KVM cannot emulate a GICv${version}`);
    // virt/kvm/vfio.c kvm_vfio_create: one KVM-VFIO device per VM.
    if (type === K.KVM_DEV_TYPE_VFIO) {
      if (this.kvmVfio !== undefined) throw new KernelError('EBUSY', 'the VM already has a KVM-VFIO device');
      this.kvmVfio = new KvmVfioDevice(this);
      return this.kvmVfio;
    }
    if (version === undefined)
      throw new KernelError(
        'ENODEV',
        `KVM_CREATE_DEVICE type ${type} is not modelled (vGIC v2/v3, KVM-VFIO)`,
      );
    if (this.vgicModel !== undefined)
      throw new KernelError('EEXIST', 'the VM already has an in-kernel irqchip');
    if (this.nrVcpus > (version === 2 ? VGIC_V2_MAX_CPUS : VGIC_V3_MAX_CPUS))
      throw new KernelError('E2BIG', `${this.nrVcpus} vCPUs exceed GICv${version}'s limit`);
    this.vgicModel = version;
    return {
      type,
      setAttr: (attr: DeviceAttr) => this.vgicSetAttr(version, attr),
      hasAttr: (attr: DeviceAttr) => this.vgicHasAttr(version, attr),
      getAttr: (attr: DeviceAttr) => this.vgicGetAttr(version, attr),
    };
  }

  // vgic-kvm-device.c vgic_get_common_attr (+ kvm_vgic_addr read).
  private vgicGetAttr(version: GicVersion, attr: DeviceAttr): bigint {
    switch (attr.group) {
      case K.KVM_DEV_ARM_VGIC_GRP_ADDR: {
        if (!this.vgicHasAttr(version, attr))
          throw new KernelError('ENXIO', `vGIC address type ${attr.attr} unknown for GICv${version}`);
        const addr = this.addresses.get(attr.attr);
        return addr === undefined ? 0xffff_ffff_ffff_ffffn : BigInt(addr);
      }
      case K.KVM_DEV_ARM_VGIC_GRP_NR_IRQS:
        return BigInt(this.nrSpis + VGIC_NR_PRIVATE_IRQS);
    }
    throw new KernelError('ENXIO', `vGIC attribute group ${attr.group} cannot be read`);
  }

  private vgicHasAttr(version: GicVersion, attr: DeviceAttr): boolean {
    switch (attr.group) {
      case K.KVM_DEV_ARM_VGIC_GRP_ADDR:
        return version === 2
          ? attr.attr === K.KVM_VGIC_V2_ADDR_TYPE_DIST || attr.attr === K.KVM_VGIC_V2_ADDR_TYPE_CPU
          : attr.attr === K.KVM_VGIC_V3_ADDR_TYPE_DIST || attr.attr === K.KVM_VGIC_V3_ADDR_TYPE_REDIST;
      case K.KVM_DEV_ARM_VGIC_GRP_NR_IRQS:
        return true;
      case K.KVM_DEV_ARM_VGIC_GRP_CTRL:
        return attr.attr === K.KVM_DEV_ARM_VGIC_CTRL_INIT;
      default:
        return false;
    }
  }

  // arch/arm64/kvm/vgic/vgic-kvm-device.c vgic_set_common_attr (+ kvm_vgic_addr).
  private vgicSetAttr(version: GicVersion, attr: DeviceAttr): void {
    rejectUnknownOptions(attr, ['group', 'attr', 'value', 'flags'], 'KVM_SET_DEVICE_ATTR');
    switch (attr.group) {
      case K.KVM_DEV_ARM_VGIC_GRP_ADDR: {
        if (!this.vgicHasAttr(version, attr))
          throw new KernelError('ENXIO', `vGIC address type ${attr.attr} unknown for GICv${version}`);
        const addr = attr.value ?? 0;
        const align = version === 2 ? ADDR_ALIGN_V2 : ADDR_ALIGN_V3;
        if (this.addresses.has(attr.attr))
          throw new KernelError('EEXIST', `vGIC address type ${attr.attr} already set`);
        if (!Number.isSafeInteger(addr) || addr % align !== 0)
          throw new KernelError('EINVAL', `vGIC base 0x${addr.toString(16)} is not ${align / 1024}K aligned`);
        if (addr >= 2 ** this.memslots.ipaBits)
          throw new KernelError('E2BIG', 'vGIC base beyond the IPA space');
        this.addresses.set(attr.attr, addr);
        return;
      }
      case K.KVM_DEV_ARM_VGIC_GRP_NR_IRQS: {
        const val = attr.value ?? 0;
        if (val < VGIC_NR_PRIVATE_IRQS + 32 || val > VGIC_MAX_RESERVED || val & 31)
          throw new KernelError('EINVAL', `NR_IRQS ${val}: need 64..1023, a multiple of 32`);
        if (this.nrSpis !== 0)
          throw new KernelError('EBUSY', 'NR_IRQS already set (or the vGIC is initialised)');
        this.nrSpis = val - VGIC_NR_PRIVATE_IRQS;
        return;
      }
      case K.KVM_DEV_ARM_VGIC_GRP_CTRL:
        if (attr.attr !== K.KVM_DEV_ARM_VGIC_CTRL_INIT) break;
        this.vgicInit(version);
        return;
    }
    throw new KernelError('ENXIO', `vGIC attribute group ${attr.group} attr ${attr.attr} not supported`);
  }

  // vgic-init.c vgic_init: idempotent; freezes nr_spis (default 224); default routing.
  private vgicInit(version: GicVersion): void {
    if (this.vgicState !== undefined) return;
    if (this.nrSpis === 0) this.nrSpis = VGIC_NR_IRQS_LEGACY - VGIC_NR_PRIVATE_IRQS;
    const vgic = new Vgic(version, this.nrVcpus, this.nrSpis);
    vgic.onDeactivate((intid, vcpu) => this.notifyAcked(intid, vcpu));
    this.vgicState = vgic;
    this.setRoutingTable(buildRoutingTable(defaultRouting(this.nrSpis), this.routingContext()));
  }

  /** The base addresses user space set (KVM_DEV_ARM_VGIC_GRP_ADDR), by address type. */
  get vgicAddresses(): ReadonlyMap<number, number> {
    return this.addresses;
  }

  /**
   * `KVM_IRQ_LINE` with the raw `kvm_irq_level.irq` (arch/arm64/kvm/arm.c
   * kvm_vm_ioctl_irq_line): CPU type with a vGIC → ENXIO; SPI/PPI without one → ENXIO; PPI of a
   * missing vCPU or outside 16..31 → EINVAL; SPI below 32 or past the VM's SPIs → EINVAL; a
   * GICv3 vGIC not yet initialised → EBUSY (vgic_lazy_init initialises a GICv2 one); other
   * types → EINVAL.
   */
  irqLine(irq: number, level: number): void {
    if (!Number.isInteger(level) || level < 0 || level > 0xffff_ffff)
      throw new KernelError('EINVAL', `kvm_irq_level.level ${String(level)} is not a __u32`);
    const f = decodeIrqLine(irq);
    const inKernel = this.vgicModel !== undefined;
    switch (f.irqType) {
      case K.KVM_ARM_IRQ_TYPE_CPU:
        if (inKernel) throw new KernelError('ENXIO', 'KVM_ARM_IRQ_TYPE_CPU with an in-kernel vGIC');
        if (!this.vcpuIds.includes(f.vcpu)) throw new KernelError('EINVAL', `vCPU ${f.vcpu} does not exist`);
        if (f.irqId > K.KVM_ARM_IRQ_CPU_FIQ)
          throw new KernelError('EINVAL', `CPU line ${f.irqId} is neither IRQ nor FIQ`);
        throw new KernelError('ENXIO', 'vCPU IRQ/FIQ lines without a vGIC are not modelled');
      case K.KVM_ARM_IRQ_TYPE_PPI:
        if (!inKernel) throw new KernelError('ENXIO', 'PPI injection needs an in-kernel vGIC');
        // kvm_get_vcpu_by_id: the vcpu_index field names a vCPU id.
        if (!this.vcpuIds.includes(f.vcpu)) throw new KernelError('EINVAL', `vCPU ${f.vcpu} does not exist`);
        if (f.irqId < 16 || f.irqId >= VGIC_NR_PRIVATE_IRQS)
          throw new KernelError('EINVAL', `PPI INTID ${f.irqId} is not 16..31`);
        this.lazyInit().injectIrq(f.irqId, level !== 0, this.vcpuIds.indexOf(f.vcpu));
        break;
      case K.KVM_ARM_IRQ_TYPE_SPI:
        if (!inKernel) throw new KernelError('ENXIO', 'SPI injection needs an in-kernel vGIC');
        if (f.irqId < VGIC_NR_PRIVATE_IRQS) throw new KernelError('EINVAL', `SPI INTID ${f.irqId} < 32`);
        this.lazyInit().injectIrq(f.irqId, level !== 0);
        break;
      default:
        throw new KernelError('EINVAL', `KVM_IRQ_LINE irq_type ${f.irqType}`);
    }
    this.stats.irqLines++;
  }

  // vgic.c vgic_lazy_init: only a GICv2 vGIC initialises itself on first injection.
  private lazyInit(): Vgic {
    if (this.vgicState === undefined) {
      if (this.vgicModel !== 2)
        throw new KernelError('EBUSY', 'GICv3 vGIC not initialised (KVM_DEV_ARM_VGIC_CTRL_INIT)');
      this.vgicInit(2);
    }
    return this.vgic;
  }

  // --- routing ---------------------------------------------------------------------------

  private routingContext(): { ppiRouting: boolean; nrVcpus: number } {
    return { ppiRouting: this.ppiRouting, nrVcpus: this.nrVcpus };
  }

  /**
   * `KVM_SET_GSI_ROUTING` (kvm_main.c + irqchip.c kvm_set_irq_routing): more than
   * KVM_MAX_IRQ_ROUTES entries or non-zero `flags` → EINVAL, then each entry is validated
   * (see buildRoutingTable); on success the table replaces the old one atomically and every
   * irqfd re-reads its route (kvm_irq_routing_update → irqfd_update).
   */
  setGsiRouting(entries: readonly RoutingEntry[], flags = 0): void {
    if (entries.length > 4096) throw new KernelError('EINVAL', 'more than KVM_MAX_IRQ_ROUTES entries');
    if (flags !== 0) throw new KernelError('EINVAL', `kvm_irq_routing.flags ${flags}`);
    this.setRoutingTable(buildRoutingTable(entries, this.routingContext()));
  }

  /** The current routes of `gsi`. */
  routesOf(gsi: number): readonly KernelRoute[] {
    return this.routing.map.get(gsi) ?? [];
  }

  private setRoutingTable(table: RoutingTable): void {
    this.routing = table;
  }

  /**
   * `kvm_set_irq(kvm, source, gsi, level)`: every route of the GSI's `set`; errors are
   * swallowed as in the kernel (counted in stats.droppedInjections).
   */
  setIrq(gsi: number, level: boolean): void {
    for (const route of this.routesOf(gsi)) {
      try {
        this.deliver(route, level);
      } catch {
        this.stats.droppedInjections++;
      }
    }
  }

  private deliver(route: KernelRoute, level: boolean): void {
    if (route.type === K.KVM_IRQ_ROUTING_IRQCHIP) {
      // vgic_irqfd_set_irq: vgic_valid_spi, then kvm_vgic_inject_irq (which lazily inits).
      const intid = (route as IrqchipRoute).pin + VGIC_NR_PRIVATE_IRQS;
      if (intid >= this.nrSpis + VGIC_NR_PRIVATE_IRQS)
        throw new KernelError('EINVAL', `SPI ${intid} not valid`);
      this.lazyInit().injectIrq(intid, level);
    } else if (route.type === K.KVM_IRQ_ROUTING_MSI) {
      // kvm_set_msi: no vITS in this model → -ENODEV (the VM has no KVM_DEV_TYPE_ARM_VGIC_ITS).
      throw new KernelError('ENODEV', 'MSI route without a vITS');
    } else if (route.type === KVM_IRQ_ROUTING_IRQCHIP_PPI) {
      const p = route as IrqchipPpiRoute;
      this.lazyInit().injectIrq(p.pin + 16, level, p.vcpu);
    }
  }

  // kvm_notify_acked_irq(kvm, 0, pin): EOI maintenance of a level SPI (and, NOT IN LINUX, of a
  // PPI with an extension route) reaches the ack notifiers (resamplers) of the pin's GSI.
  private notifyAcked(intid: number, vcpu: number): void {
    let gsi: number | undefined;
    if (intid >= VGIC_NR_PRIVATE_IRQS) gsi = this.routing.chip.get(intid - VGIC_NR_PRIVATE_IRQS);
    else if (intid >= 16 && this.ppiRouting) gsi = this.routing.ppiChip.get(`${vcpu}:${intid - 16}`);
    if (gsi === undefined) return;
    const resampler = this.resamplers.get(gsi);
    if (resampler === undefined) return;
    // irqfd_resampler_ack: de-assert, then signal every resamplefd of the GSI.
    this.setIrq(gsi, false);
    for (const irqfd of resampler.irqfds) {
      this.stats.resamples++;
      // The irqfd holds its own reference to the resamplefd's eventfd_ctx: after user space
      // closed its fd the signal still succeeds but nobody can read it (api.rst: closing
      // resamplefd does not disable the irqfd). The model's closed EventFd stands for that.
      if (irqfd.resamplefd?.isOpen === true) irqfd.resamplefd.signal();
    }
  }

  // --- irqfd -----------------------------------------------------------------------------

  /**
   * `KVM_IRQFD` (virt/kvm/eventfd.c kvm_irqfd): unknown flags → EINVAL; DEASSIGN → deassign;
   * else assign: vGIC not initialised → EAGAIN (kvm_arch_intc_initialized); closed eventfd or
   * resamplefd → EBADF; an eventfd already bound to an irqfd of this VM → EBUSY. A count
   * already pending at assign injects once (the count stays until the next wakeup).
   */
  irqfd(args: IrqfdArgs): void {
    rejectUnknownOptions(args, ['fd', 'gsi', 'flags', 'resamplefd'], 'KVM_IRQFD');
    const flags = args.flags ?? 0;
    // struct kvm_irqfd's gsi and flags are __u32: anything else cannot be passed at all.
    for (const [name, v] of [
      ['gsi', args.gsi],
      ['flags', flags],
    ] as const)
      if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff)
        throw new KernelError('EINVAL', `kvm_irqfd.${name} ${String(v)} is not a __u32`);
    if (flags & ~(K.KVM_IRQFD_FLAG_DEASSIGN | K.KVM_IRQFD_FLAG_RESAMPLE))
      throw new KernelError('EINVAL', `KVM_IRQFD flags 0x${flags.toString(16)}`);
    if (flags & K.KVM_IRQFD_FLAG_DEASSIGN) {
      this.irqfdDeassign(args);
      return;
    }
    if (!this.vgicInitialized) throw new KernelError('EAGAIN', 'KVM_IRQFD before the vGIC is initialised');
    if (!args.fd.isOpen) throw new KernelError('EBADF', 'irqfd eventfd is closed');
    const resample = (flags & K.KVM_IRQFD_FLAG_RESAMPLE) !== 0;
    if (resample && (args.resamplefd === undefined || !args.resamplefd.isOpen))
      throw new KernelError('EBADF', 'resamplefd is not an open eventfd');
    let resampler: Resampler | undefined;
    if (resample) {
      resampler = this.resamplers.get(args.gsi);
      if (resampler === undefined) {
        resampler = { gsi: args.gsi, irqfds: new Set() };
        this.resamplers.set(args.gsi, resampler);
      }
    }
    // The EBUSY check comes after the resampler was set up; the failure path's
    // irqfd_resampler_shutdown then finds the resampler empty and de-asserts the GSI.
    if (this.irqfds.some((i) => i.eventfd === args.fd)) {
      if (resampler !== undefined && resampler.irqfds.size === 0) {
        this.resamplers.delete(args.gsi);
        this.setIrq(args.gsi, false);
      }
      throw new KernelError('EBUSY', 'this eventfd is used for another irq already');
    }
    const fd = args.fd;
    const irqfd: Irqfd = {
      eventfd: fd,
      gsi: args.gsi,
      resamplefd: resample ? args.resamplefd : undefined,
      resampler,
      active: true,
      onSignal: () => this.irqfdWakeup(irqfd),
      onClose: () => this.irqfdDeactivate(irqfd),
    };
    resampler?.irqfds.add(irqfd);
    this.irqfds.push(irqfd);
    fd.on('signal', irqfd.onSignal);
    fd.on('close', irqfd.onClose);
    // vfs_poll → EPOLLIN → schedule_work(&irqfd->inject), without consuming the count.
    if (fd.readable) this.irqfdInject(irqfd);
  }

  /** The irqfds bound now (gsi, resample). */
  listIrqfds(): Array<{ gsi: number; resample: boolean; eventfd: EventFd }> {
    return this.irqfds.map((i) => ({ gsi: i.gsi, resample: i.resampler !== undefined, eventfd: i.eventfd }));
  }

  // irqfd_wakeup: EPOLLIN consumes the count and injects level 1 (kvm_arch_set_irq_inatomic
  // succeeds for IRQCHIP routes once the vGIC is initialised); other routes go to
  // irqfd_inject, which pulses 1/0 without a resampler, or asserts 1 with one.
  private irqfdWakeup(irqfd: Irqfd): void {
    irqfd.eventfd.consume();
    this.stats.irqfdWakeups++;
    const routes = this.routesOf(irqfd.gsi);
    const only = routes.length === 1 ? routes[0] : undefined; // irqfd_update: n_entries == 1
    if (irqfd.active && only?.type === K.KVM_IRQ_ROUTING_IRQCHIP) {
      try {
        this.deliver(only, true);
      } catch {
        this.stats.droppedInjections++;
      }
      return;
    }
    this.irqfdInject(irqfd);
  }

  private irqfdInject(irqfd: Irqfd): void {
    if (irqfd.resampler === undefined) {
      this.setIrq(irqfd.gsi, true);
      this.setIrq(irqfd.gsi, false);
    } else {
      this.setIrq(irqfd.gsi, true);
    }
  }

  // irqfd_deactivate + irqfd_shutdown (flushed synchronously, as kvm_irqfd_deassign waits):
  // unhook from the eventfd; the last irqfd of a resampler de-asserts the GSI.
  private irqfdDeactivate(irqfd: Irqfd): void {
    if (!irqfd.active) return;
    irqfd.active = false;
    this.irqfds.splice(this.irqfds.indexOf(irqfd), 1);
    irqfd.eventfd.off('signal', irqfd.onSignal);
    irqfd.eventfd.off('close', irqfd.onClose);
    const r = irqfd.resampler;
    if (r !== undefined) {
      r.irqfds.delete(irqfd);
      if (r.irqfds.size === 0) {
        this.resamplers.delete(r.gsi);
        this.setIrq(r.gsi, false);
      }
    }
  }

  // kvm_irqfd_deassign: EBADF for a closed fd; every irqfd with this eventfd AND gsi goes;
  // no match is not an error (returns 0).
  private irqfdDeassign(args: IrqfdArgs): void {
    if (!args.fd.isOpen) throw new KernelError('EBADF', 'irqfd eventfd is closed');
    for (const irqfd of [...this.irqfds])
      if (irqfd.eventfd === args.fd && irqfd.gsi === args.gsi) this.irqfdDeactivate(irqfd);
  }
}
