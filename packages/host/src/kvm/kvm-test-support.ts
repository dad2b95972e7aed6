import { readFileSync } from 'node:fs';
import { type DeviceTree, type DtNode, parseFdt } from '@vfiokit/devicetree';
import { KVM_UAPI_CONSTANTS as K } from '@vfiokit/kvm';
import {
  VFIO_DEVICE_SET_IRQS,
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_NOIOMMU_IOMMU,
  VFIO_SET_IOMMU,
} from '@vfiokit/vfio/uapi';
import { createHost, type Host } from '../host.js';
import type { HostProcess } from '../process/host-process.js';
import { type KvmVmFile, kvmDeviceAttrArg } from './kvm-files.js';

/** QEMU 7.2 `-M virt,gic-version=3,virtualization=on` (the oracle's KVM machine). */
export function virtKvmDtb(): Uint8Array {
  return new Uint8Array(
    readFileSync(new URL('../../../../oracle/dtb/virt_gic-version_3_virtualization_on.dtb', import.meta.url)),
  );
}

const DATA_EVENTFD = 1 << 2;
const ACTION_UNMASK = 1 << 4;
const ACTION_TRIGGER = 1 << 5;

/** `vfio_irq_set` of one eventfd for index 0 (-1 tears it down). */
export function setIrqsEventfd(action: 'trigger' | 'unmask', efd: number): Uint8Array {
  const set = new Uint8Array(24);
  const view = new DataView(set.buffer);
  const flags = DATA_EVENTFD | (action === 'trigger' ? ACTION_TRIGGER : ACTION_UNMASK);
  for (const [i, v] of [24, flags, 0, 0, 1].entries()) view.setUint32(4 * i, v, true);
  view.setInt32(20, efd, true);
  return set;
}

/** `struct kvm_irqfd`. */
export function kvmIrqfd(fd: number, gsi: number, flags = 0, resamplefd = 0): Uint8Array {
  const bytes = new Uint8Array(32);
  const view = new DataView(bytes.buffer);
  for (const [i, v] of [fd, gsi, flags, resamplefd].entries()) view.setUint32(4 * i, v >>> 0, true);
  return bytes;
}

/** A little-endian 32-bit word, for pwrite of a PL031 register. */
export const word = (value: number): Uint8Array => new Uint8Array(new Uint32Array([value >>> 0]).buffer);

/** The pl031's SPI on QEMU virt (`interrupts = <0 2 4>`): GSI 2, INTID 34. */
export const PL031_GSI = 2;
export const PL031_INTID = 34;

export interface KvmPl031 {
  readonly host: Host;
  readonly proc: HostProcess;
  readonly device: number;
  readonly group: number;
  readonly vm: number;
  readonly vcpu: number;
  readonly gic: number;
  readonly vmFile: KvmVmFile;
  readonly trigger: number;
  readonly unmask: number;
}

/**
 * What a VMM does to hand QEMU virt's pl031 to a guest (the oracle's kvm-vfio-device recipe):
 * vfio-amba in no-IOMMU mode, a VM with one vCPU and an initialised vGIC v3, the group added
 * to the KVM-VFIO device, vfio's TRIGGER eventfd as an irqfd on GSI 2 and, with `resample`,
 * vfio's UNMASK eventfd as its resamplefd. The guest has SPI 34 enabled, level, PMR open.
 */
export async function kvmPl031(options: { resample?: boolean; edge?: boolean } = {}): Promise<KvmPl031> {
  const tree = options.edge === true ? withEdgePl031(parseFdt(virtKvmDtb())) : virtKvmDtb();
  const host = createHost(tree, { cmdline: 'vfio.enable_unsafe_noiommu_mode=1' });
  await host.fs.run('echo vfio-amba > /sys/bus/amba/devices/9010000.pl031/driver_override');
  await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/unbind');
  await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/vfio-amba/bind');
  const proc = host.spawn();
  const container = proc.open('/dev/vfio/vfio');
  const group = proc.open('/dev/vfio/noiommu-0');
  const cfd = new Uint8Array(4);
  new DataView(cfd.buffer).setInt32(0, container, true);
  proc.ioctl(group, VFIO_GROUP_SET_CONTAINER, cfd);
  proc.ioctl(container, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU);
  const device = proc.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, new TextEncoder().encode('9010000.pl031\0'));
  const kvm = proc.open('/dev/kvm');
  const vm = proc.ioctl(kvm, K.KVM_CREATE_VM, 0);
  const create = (type: number): number => {
    const cd = new Uint8Array(12);
    new DataView(cd.buffer).setUint32(0, type, true);
    proc.ioctl(vm, K.KVM_CREATE_DEVICE, cd);
    return new DataView(cd.buffer).getUint32(4, true);
  };
  const gic = create(K.KVM_DEV_TYPE_ARM_VGIC_V3);
  const kvmVfio = create(K.KVM_DEV_TYPE_VFIO);
  const set = (fd: number, group: number, attr: number, value?: number | { fd: number }) =>
    proc.ioctl(
      fd,
      K.KVM_SET_DEVICE_ATTR,
      kvmDeviceAttrArg({ group, attr, ...(value === undefined ? {} : { value }) }),
    );
  set(gic, K.KVM_DEV_ARM_VGIC_GRP_ADDR, K.KVM_VGIC_V3_ADDR_TYPE_DIST, 0x0800_0000);
  set(gic, K.KVM_DEV_ARM_VGIC_GRP_ADDR, K.KVM_VGIC_V3_ADDR_TYPE_REDIST, 0x080a_0000);
  const vcpu = proc.ioctl(vm, K.KVM_CREATE_VCPU, 0);
  set(gic, K.KVM_DEV_ARM_VGIC_GRP_CTRL, K.KVM_DEV_ARM_VGIC_CTRL_INIT);
  set(kvmVfio, K.KVM_DEV_VFIO_FILE, K.KVM_DEV_VFIO_FILE_ADD, { fd: group });
  const trigger = proc.eventfd();
  const unmask = proc.eventfd();
  proc.ioctl(device, VFIO_DEVICE_SET_IRQS, setIrqsEventfd('trigger', trigger));
  // An edge IRQ is not maskable (vfio-platform: EINVAL for ACTION_UNMASK).
  if (options.edge !== true) proc.ioctl(device, VFIO_DEVICE_SET_IRQS, setIrqsEventfd('unmask', unmask));
  const resample = options.resample ?? true;
  proc.ioctl(
    vm,
    K.KVM_IRQFD,
    kvmIrqfd(trigger, PL031_GSI, resample ? K.KVM_IRQFD_FLAG_RESAMPLE : 0, resample ? unmask : 0),
  );
  const vmFile = proc.fdget(vm) as KvmVmFile;
  proc.kvmRun(vcpu, (cpu) => {
    cpu.setPmr(0xff);
    vmFile.vm.vgic.setConfig(PL031_INTID, options.edge === true ? 'edge' : 'level');
    vmFile.vm.vgic.setEnabled(PL031_INTID, true);
  });
  return { host, proc, device, group, vm, vcpu, gic, vmFile, trigger, unmask };
}

/** The tree with the pl031's interrupt edge-rising (`<0 2 1>`), so vfio treats it as an edge. */
export function withEdgePl031(tree: DeviceTree): DeviceTree {
  const patch = (node: DtNode): DtNode => ({
    ...node,
    properties: node.name.startsWith('pl031@')
      ? node.properties.map((p) =>
          p.name === 'interrupts'
            ? { name: p.name, value: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1]) }
            : p,
        )
      : node.properties,
    children: node.children.map(patch),
  });
  return { ...tree, root: patch(tree.root) };
}

/** Raises the PL031 alarm (match = count + 1, interrupt unmasked at the RTC) and lets it fire. */
export function raiseAlarm(k: KvmPl031): void {
  k.proc.pwrite(k.device, word(1), 0x10); // IMSC
  const count = new Uint8Array(4);
  k.proc.pread(k.device, count, 0x00);
  k.proc.pwrite(k.device, word(new DataView(count.buffer).getUint32(0, true) + 1), 0x04); // MR
  k.host.advanceTime(2000);
}
