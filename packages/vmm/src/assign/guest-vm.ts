// The VM a device is assigned to: a VMM process on the host, its guest address map, its guest
// RAM (anonymous memory the VMM maps for DMA at the guest's RAM address) and, when the host
// can run KVM, a KVM VM with an initialised vGIC, one vCPU and the KVM-VFIO device — what
// QEMU and crosvm set up before they attach VFIO devices (the oracle's kvm-vfio-device
// recipe: KVM_CREATE_VM, KVM_CREATE_DEVICE vGIC, GRP_ADDR, KVM_CREATE_VCPU, CTRL_INIT,
// KVM_CREATE_DEVICE KVM_DEV_TYPE_VFIO).
import { KernelError, rejectUnknownOptions } from '@vfiokit/core';
import { type Host, type HostProcess, kvmDeviceAttrArg } from '@vfiokit/host';
import { KVM_UAPI_CONSTANTS as K } from '@vfiokit/kvm';
import type { Capability } from '@vfiokit/vfio';
import { GuestAddressMap } from '../address-map/guest-address-map.js';

/** Which VMM's layout and guest tree the VM follows. */
export type VmmKind = 'qemu' | 'crosvm' | 'xen';

/** Options of {@link GuestVm.create}. Unknown keys are refused (`EINVAL`). */
export interface GuestVmOptions {
  readonly vmm?: VmmKind;
  /** Guest RAM in bytes (default 16 MiB; the VMM maps all of it for DMA, as QEMU and crosvm do). */
  readonly ramSize?: number;
  /** The guest address map (default: the VMM's own layout with `ramSize` of RAM). */
  readonly map?: GuestAddressMap;
  /** Use KVM (irqfd/resamplefd): default when the host has `/dev/kvm`; `true` fails without it. */
  readonly kvm?: boolean;
  /**
   * The VMM process's capabilities (default the host's: CAP_SYS_RAWIO and CAP_IPC_LOCK). Without
   * CAP_IPC_LOCK pinned guest RAM is charged and limited by RLIMIT_MEMLOCK (8 MiB) on both
   * back ends — type1 to mm->locked_vm, iommufd to the user's locked_vm; with it type1 still
   * charges mm->locked_vm and iommufd charges nothing (pages.c iopt_alloc_pages: ACCOUNT_NONE).
   */
  readonly capabilities?: readonly Capability[];
}

/** KVM's file descriptors of the VM. */
export interface GuestVmKvm {
  readonly kvm: number;
  readonly vm: number;
  readonly vgic: number;
  readonly vcpu: number;
  /** The KVM-VFIO pseudo device (KVM_DEV_TYPE_VFIO). */
  readonly vfio: number;
}

// QEMU virt's GIC frames (hw/arm/virt.c base_memmap VIRT_GIC_DIST / VIRT_GIC_REDIST / CPU).
const GICD = 0x0800_0000;
const GICC = 0x0801_0000;
const GICR = 0x080a_0000;

/** A Xen domU layout: GUEST_RAM0_BASE (xen/include/public/arch-arm.h) and a passthrough hole (vfiokit's choice, the hole passthrough.txt's example uses). */
export function xenGuestMap(ramSize: bigint): GuestAddressMap {
  return new GuestAddressMap({
    ram: [{ name: 'GUEST_RAM0', base: 0x4000_0000n, size: ramSize }],
    platformBus: { name: 'passthrough hole', base: 0x1000_0000n, size: 0x1000_0000n },
    irqBase: 0,
    irqCount: 988,
    alignment: 'page',
  });
}

export class GuestVm {
  readonly host: Host;
  readonly process: HostProcess;
  readonly vmm: VmmKind;
  readonly map: GuestAddressMap;
  /** Guest physical address of RAM and its size. */
  readonly ramBase: bigint;
  readonly ramSize: number;
  /** The VMM's user address of guest RAM. */
  readonly ramVaddr: number;
  readonly kvm: GuestVmKvm | undefined;
  private closed = false;

  private constructor(
    host: Host,
    process: HostProcess,
    vmm: VmmKind,
    map: GuestAddressMap,
    ramSize: number,
    kvm: GuestVmKvm | undefined,
  ) {
    this.host = host;
    this.process = process;
    this.vmm = vmm;
    this.map = map;
    const ram = map.ramWindows()[0];
    if (ram === undefined) throw new KernelError('EINVAL', 'GuestVm: the guest map has no RAM');
    this.ramBase = ram.base;
    this.ramSize = ramSize;
    this.ramVaddr = process.mmapAnonymous(ramSize);
    this.kvm = kvm;
  }

  /** Starts a VMM process and its VM on `host`. */
  static create(host: Host, options: GuestVmOptions = {}): GuestVm {
    rejectUnknownOptions(options, ['vmm', 'ramSize', 'map', 'kvm', 'capabilities'], 'GuestVm.create');
    const vmm = options.vmm ?? 'qemu';
    if (vmm !== 'qemu' && vmm !== 'crosvm' && vmm !== 'xen')
      throw new KernelError('EINVAL', `GuestVm.create: vmm must be qemu, crosvm or xen, not ${String(vmm)}`);
    const ramSize = options.ramSize ?? 0x100_0000;
    if (!Number.isInteger(ramSize) || ramSize <= 0 || ramSize % 4096 !== 0)
      throw new KernelError('EINVAL', `GuestVm.create: ramSize ${ramSize} is not whole pages`);
    const map =
      options.map ??
      (vmm === 'qemu'
        ? GuestAddressMap.qemuVirt({ ramSize: BigInt(ramSize) })
        : vmm === 'crosvm'
          ? GuestAddressMap.crosvm({ ramSize: BigInt(ramSize) })
          : xenGuestMap(BigInt(ramSize)));
    const useKvm = options.kvm ?? host.kvm.available;
    const process = host.spawn({
      comm: vmm === 'qemu' ? 'qemu-system-aar' : vmm,
      ...(options.capabilities === undefined ? {} : { capabilities: options.capabilities }),
    });
    let kvm: GuestVmKvm | undefined;
    if (useKvm) {
      if (!host.kvm.available)
        throw new KernelError(
          'ENOENT',
          'GuestVm.create: /dev/kvm: the host cannot run KVM (no GIC maintenance interrupt)',
        );
      kvm = createKvmVm(host, process);
    }
    return new GuestVm(host, process, vmm, map, ramSize, kvm);
  }

  /** Closes the VM's KVM fds (assigned devices must be released first). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.kvm !== undefined)
      for (const fd of [this.kvm.vfio, this.kvm.vcpu, this.kvm.vgic, this.kvm.vm, this.kvm.kvm])
        this.process.close(fd);
  }
}

function createKvmVm(host: Host, proc: HostProcess): GuestVmKvm {
  const kvm = proc.open('/dev/kvm');
  const vm = proc.ioctl(kvm, K.KVM_CREATE_VM, 0);
  const create = (type: number): number => {
    const cd = new Uint8Array(12);
    new DataView(cd.buffer).setUint32(0, type, true);
    proc.ioctl(vm, K.KVM_CREATE_DEVICE, cd);
    return new DataView(cd.buffer).getUint32(4, true);
  };
  const set = (fd: number, group: number, attr: number, value?: number | { fd: number }) =>
    proc.ioctl(
      fd,
      K.KVM_SET_DEVICE_ATTR,
      kvmDeviceAttrArg({ group, attr, ...(value === undefined ? {} : { value }) }),
    );
  const v3 = host.kvm.vgicVersions.includes(3);
  const vgic = create(v3 ? K.KVM_DEV_TYPE_ARM_VGIC_V3 : K.KVM_DEV_TYPE_ARM_VGIC_V2);
  if (v3) {
    set(vgic, K.KVM_DEV_ARM_VGIC_GRP_ADDR, K.KVM_VGIC_V3_ADDR_TYPE_DIST, GICD);
    set(vgic, K.KVM_DEV_ARM_VGIC_GRP_ADDR, K.KVM_VGIC_V3_ADDR_TYPE_REDIST, GICR);
  } else {
    set(vgic, K.KVM_DEV_ARM_VGIC_GRP_ADDR, K.KVM_VGIC_V2_ADDR_TYPE_DIST, GICD);
    set(vgic, K.KVM_DEV_ARM_VGIC_GRP_ADDR, K.KVM_VGIC_V2_ADDR_TYPE_CPU, GICC);
  }
  const vcpu = proc.ioctl(vm, K.KVM_CREATE_VCPU, 0);
  set(vgic, K.KVM_DEV_ARM_VGIC_GRP_CTRL, K.KVM_DEV_ARM_VGIC_CTRL_INIT);
  const vfio = create(K.KVM_DEV_TYPE_VFIO);
  return { kvm, vm, vgic, vcpu, vfio };
}
