// Interrupts delivered end to end on a host made from QEMU virt's virtualization=on tree:
// the PL031 model raises its line → vfio-amba's handler (automasked for level) signals
// TRIGGER → KVM's irqfd → vGIC SPI 34 → the guest acks, clears the RTC and EOIs inside
// KVM_RUN (HostProcess.kvmRun) → resamplefd → vfio's UNMASK eventfd (level), or one of the
// VMM workarounds without resamplefd (seed 003): a periodic unmask, or unmask on the first
// trapped MMIO access of the guest's handler (QEMU's slow path).
import { readFileSync } from 'node:fs';
import type { DeviceTree, DtNode } from '@vfiokit/devicetree';
import { parseFdt } from '@vfiokit/devicetree';
import { createHost, type Host, type HostProcess, type KvmVmFile, kvmDeviceAttrArg } from '@vfiokit/host';
import { KVM_UAPI_CONSTANTS as K } from '@vfiokit/kvm';
import {
  VFIO_DEVICE_SET_IRQS,
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_NOIOMMU_IOMMU,
  VFIO_SET_IOMMU,
} from '@vfiokit/vfio/uapi';
import { medianMs, printTable } from './measure.js';

const IRQS = 5_000;
const INTID = 34; // pl031: interrupts = <0 2 4> → SPI 2
const GSI = 2;
const PL031 = '9010000.pl031';

type Path = 'edge' | 'resamplefd' | 'periodic-unmask' | 'mmio-trap-unmask';

const word = (v: number): Uint8Array => new Uint8Array(new Uint32Array([v >>> 0]).buffer);

// The tree with the pl031's interrupt made edge-rising (flags 1), for the edge row.
function withEdgePl031(tree: DeviceTree): DeviceTree {
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

function setIrqs(flags: number, efd?: number): Uint8Array {
  const set = new Uint8Array(efd === undefined ? 20 : 24);
  const view = new DataView(set.buffer);
  for (const [i, v] of [set.length, flags, 0, 0, 1].entries()) view.setUint32(4 * i, v, true);
  if (efd !== undefined) view.setInt32(20, efd, true);
  return set;
}

interface Rig {
  readonly host: Host;
  readonly proc: HostProcess;
  readonly device: number;
  readonly vcpu: number;
  readonly unmask: number;
  readonly vm: KvmVmFile;
}

async function rig(path: Path): Promise<Rig> {
  const dtb = new Uint8Array(
    readFileSync(new URL('../oracle/dtb/virt_gic-version_3_virtualization_on.dtb', import.meta.url)),
  );
  const tree = path === 'edge' ? withEdgePl031(parseFdt(dtb)) : parseFdt(dtb);
  const host = createHost(tree, { cmdline: 'vfio.enable_unsafe_noiommu_mode=1' });
  await host.fs.run(`echo vfio-amba > /sys/bus/amba/devices/${PL031}/driver_override`);
  await host.fs.run(`echo ${PL031} > /sys/bus/amba/drivers/rtc-pl031/unbind`);
  await host.fs.run(`echo ${PL031} > /sys/bus/amba/drivers/vfio-amba/bind`);
  const proc = host.spawn();
  const container = proc.open('/dev/vfio/vfio');
  const group = proc.open('/dev/vfio/noiommu-0');
  const cfd = new Uint8Array(4);
  new DataView(cfd.buffer).setInt32(0, container, true);
  proc.ioctl(group, VFIO_GROUP_SET_CONTAINER, cfd);
  proc.ioctl(container, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU);
  const device = proc.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, new TextEncoder().encode(`${PL031}\0`));
  const vmFd = proc.ioctl(proc.open('/dev/kvm'), K.KVM_CREATE_VM, 0);
  const cd = new Uint8Array(12);
  new DataView(cd.buffer).setUint32(0, K.KVM_DEV_TYPE_ARM_VGIC_V3, true);
  proc.ioctl(vmFd, K.KVM_CREATE_DEVICE, cd);
  const gic = new DataView(cd.buffer).getUint32(4, true);
  const attr = (group: number, a: number, value?: number) =>
    proc.ioctl(
      gic,
      K.KVM_SET_DEVICE_ATTR,
      kvmDeviceAttrArg({ group, attr: a, ...(value === undefined ? {} : { value }) }),
    );
  attr(K.KVM_DEV_ARM_VGIC_GRP_ADDR, K.KVM_VGIC_V3_ADDR_TYPE_DIST, 0x0800_0000);
  attr(K.KVM_DEV_ARM_VGIC_GRP_ADDR, K.KVM_VGIC_V3_ADDR_TYPE_REDIST, 0x080a_0000);
  const vcpu = proc.ioctl(vmFd, K.KVM_CREATE_VCPU, 0);
  attr(K.KVM_DEV_ARM_VGIC_GRP_CTRL, K.KVM_DEV_ARM_VGIC_CTRL_INIT);
  const trigger = proc.eventfd();
  const unmask = proc.eventfd();
  const DATA_EVENTFD = 1 << 2;
  proc.ioctl(device, VFIO_DEVICE_SET_IRQS, setIrqs(DATA_EVENTFD | (1 << 5), trigger));
  const resample = path === 'resamplefd';
  if (path !== 'edge') proc.ioctl(device, VFIO_DEVICE_SET_IRQS, setIrqs(DATA_EVENTFD | (1 << 4), unmask));
  const irqfd = new Uint8Array(32);
  const q = new DataView(irqfd.buffer);
  for (const [i, v] of [
    trigger,
    GSI,
    resample ? K.KVM_IRQFD_FLAG_RESAMPLE : 0,
    resample ? unmask : 0,
  ].entries())
    q.setUint32(4 * i, v, true);
  proc.ioctl(vmFd, K.KVM_IRQFD, irqfd);
  const vm = proc.fdget(vmFd) as KvmVmFile;
  proc.kvmRun(vcpu, (cpu) => {
    cpu.setPmr(0xff);
    // Level only where KVM resamples; without resamplefd the irqfd pulses an edge.
    vm.vm.vgic.setConfig(INTID, resample ? 'level' : 'edge');
    vm.vm.vgic.setEnabled(INTID, true);
  });
  proc.pwrite(device, word(1), 0x10); // IMSC: the RTC interrupt enabled
  proc.pwrite(device, word(0x1000), 0x04); // MR
  return { host, proc, device, vcpu, unmask, vm };
}

interface Counts {
  acks: number;
  vmmCalls: number;
}

// One interrupt: LR = MR raises RTCRIS at once (QEMU's pl031_set_alarm with zero ticks).
function deliver(r: Rig, path: Path, counts: Counts): void {
  const { proc, device } = r;
  // The host's IRQ chip sees the pl031's level line only (host.ts wires models with setLevel);
  // the edge row's device raises an edge on the same GIC line instead.
  if (path === 'edge') r.host.irqChip.chip.pulse(INTID);
  else proc.pwrite(device, word(0x1000), 0x08);
  if (path === 'mmio-trap-unmask') {
    // Every handler run's first access to the RTC traps (the region is unmapped while an
    // interrupt is in flight): the VMM unmasks, then emulates the access. The first run
    // clears the RTC (RTCICR) after that unmask, so the still-high line fires again; the
    // duplicate's handler finds nothing (RTCMIS reads 0), its trap unmasks a quiet line.
    let cleared = false;
    let intid = proc.kvmRun(r.vcpu, (cpu) => cpu.ack());
    while (intid !== 1023) {
      counts.acks++;
      proc.ioctl(device, VFIO_DEVICE_SET_IRQS, setIrqs(1 | (1 << 4))); // DATA_NONE|ACTION_UNMASK
      if (cleared) proc.pread(device, new Uint8Array(4), 0x18);
      else proc.pwrite(device, word(1), 0x1c);
      cleared = true;
      counts.vmmCalls += 2;
      const done = intid;
      intid = proc.kvmRun(r.vcpu, (cpu) => {
        cpu.eoi(done);
        return cpu.ack();
      });
    }
    return;
  }
  proc.kvmRun(r.vcpu, (cpu) => {
    const intid = cpu.ack();
    if (path !== 'edge') proc.pwrite(device, word(1), 0x1c); // the handler clears the RTC (passthrough)
    if (intid === 1023) return;
    counts.acks++;
    cpu.eoi(intid);
  });
  if (path === 'periodic-unmask') {
    proc.eventfdWrite(r.unmask, 1); // the VMM's timer: VFIO unmask, once per period
    counts.vmmCalls++;
  }
}

async function measure(path: Path): Promise<string[]> {
  const r = await rig(path);
  const counts: Counts = { acks: 0, vmmCalls: 0 };
  const ms = medianMs(() => {
    for (let i = 0; i < IRQS; i++) deliver(r, path, counts);
  });
  const runs = 6; // medianMs: one warm-up + 5
  const raised = IRQS * runs;
  if (counts.acks < raised) throw new RangeError(`${path}: ${raised - counts.acks} interrupts lost`);
  return [
    path,
    `${(IRQS / ms / 1000).toFixed(3)} M irq/s`,
    `${((counts.acks - raised) / raised).toFixed(2)}`,
    `${(counts.vmmCalls / raised).toFixed(2)}`,
  ];
}

export default async function run(): Promise<void> {
  const rows: string[][] = [];
  for (const path of ['edge', 'resamplefd', 'periodic-unmask', 'mmio-trap-unmask'] as const)
    rows.push(await measure(path));
  printTable(
    [
      'path (pl031 → vfio → irqfd → vGIC → guest ack/EOI)',
      'rate',
      'duplicates per irq',
      'VMM syscalls per irq',
    ],
    rows,
  );
}
