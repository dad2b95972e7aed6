/**
 * Scenario (seed 003, Virtual Open Systems' "IOEVENTFD and IRQFD support in VFIO": RESAMPLEFD
 * for level-sensitive interrupts): the QEMU virt PL031's level interrupt delivered into a guest
 * with no VMM in the path, on the oracle's virtualization=on host (KVM with a vGICv3):
 *
 *   PL031 raises its line → vfio-amba's handler masks it (AUTOMASKED) and signals TRIGGER →
 *   KVM's irqfd injects SPI 34 → the guest acks, clears the RTC and EOIs inside KVM_RUN →
 *   KVM signals the resamplefd (virt/kvm/eventfd.c irqfd_resampler_ack) → it is vfio's UNMASK
 *   eventfd, so the host line is unmasked for the next one.
 *
 * Counted: every raised interrupt is acknowledged by the guest exactly once — none lost, none
 * duplicated. `resamplefd: false` is the same rig without the resampler and without any
 * unmask, to show what the resamplefd does: after the first interrupt the line stays masked and
 * every later one is lost (the vGIC line is configured edge there, as an irqfd without a
 * resampler only pulses it). The rig follows bench/kvm-e2e.bench.ts; the PL031 is in no-IOMMU mode
 * (QEMU virt's platform devices have no IOMMU), which taints.
 */

import { rejectUnknownOptions } from '@vfiokit/core';
import { createHost, type HostProcess, type KvmVmFile, kvmDeviceAttrArg } from '@vfiokit/host';
import { KVM_UAPI_CONSTANTS as K } from '@vfiokit/kvm';
import {
  VFIO_DEVICE_SET_IRQS,
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_NOIOMMU_IOMMU,
  VFIO_SET_IOMMU,
} from '@vfiokit/vfio/uapi';
import { oracleDtb } from './fixtures.js';
import { runIfMain } from './run-if-main.js';

export const RTC_DEVICE = '9010000.pl031';
const INTID = 34; // pl031: interrupts = <0 2 4> → SPI 2, level-high
const GSI = 2;
// PL031 registers (QEMU hw/rtc/pl031.c): MR, LR, IMSC, ICR.
const RTC_MR = 0x04;
const RTC_LR = 0x08;
const RTC_IMSC = 0x10;
const RTC_ICR = 0x1c;
// <linux/vfio.h> VFIO_IRQ_SET_*.
const DATA_EVENTFD = 1 << 2;
const ACTION_UNMASK = 1 << 4;
const ACTION_TRIGGER = 1 << 5;

/** Options of {@link levelIrqResamplefdExample}. */
export interface LevelIrqOptions {
  /** Interrupts to raise (default 1000). */
  readonly interrupts?: number;
  /** Wire the resamplefd to vfio's UNMASK eventfd (default true). */
  readonly resamplefd?: boolean;
}

/** What {@link levelIrqResamplefdExample} counted. */
export interface LevelIrqOutcome {
  readonly device: string;
  readonly intid: number;
  readonly resamplefd: boolean;
  readonly raised: number;
  /** Interrupts the guest acknowledged (INTID 34 read from the CPU interface). */
  readonly delivered: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly irqfds: readonly string[];
}

const word = (v: number): Uint8Array => new Uint8Array(new Uint32Array([v >>> 0]).buffer);

function setIrqs(flags: number, efd?: number): Uint8Array {
  const set = new Uint8Array(efd === undefined ? 20 : 24);
  const view = new DataView(set.buffer);
  // struct vfio_irq_set: argsz, flags, index 0, start 0, count 1, then the eventfd.
  for (const [i, v] of [set.length, flags, 0, 0, 1].entries()) view.setUint32(4 * i, v, true);
  if (efd !== undefined) view.setInt32(20, efd, true);
  return set;
}

/** Runs the scenario: set up the host, the VMM's VFIO and KVM files, then raise and count. */
export async function levelIrqResamplefdExample(options: LevelIrqOptions = {}): Promise<LevelIrqOutcome> {
  rejectUnknownOptions(options, ['interrupts', 'resamplefd'], 'levelIrqResamplefdExample');
  const raised = options.interrupts ?? 1000;
  const resample = options.resamplefd ?? true;
  const host = createHost(oracleDtb('virt_gic-version_3_virtualization_on'), {
    cmdline: 'vfio.enable_unsafe_noiommu_mode=1',
  });
  await host.fs.run(`echo vfio-amba > /sys/bus/amba/devices/${RTC_DEVICE}/driver_override`);
  await host.fs.run(`echo ${RTC_DEVICE} > /sys/bus/amba/drivers/rtc-pl031/unbind`);
  await host.fs.run(`echo ${RTC_DEVICE} > /sys/bus/amba/drivers/vfio-amba/bind`);

  // The VMM: container, no-IOMMU group, device fd.
  const proc: HostProcess = host.spawn();
  const container = proc.open('/dev/vfio/vfio');
  const group = proc.open('/dev/vfio/noiommu-0');
  const containerFd = new Uint8Array(4);
  new DataView(containerFd.buffer).setInt32(0, container, true);
  proc.ioctl(group, VFIO_GROUP_SET_CONTAINER, containerFd);
  proc.ioctl(container, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU);
  const device = proc.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, new TextEncoder().encode(`${RTC_DEVICE}\0`));

  // The VM: a vGICv3 at QEMU virt's addresses, one vCPU.
  const vmFd = proc.ioctl(proc.open('/dev/kvm'), K.KVM_CREATE_VM, 0);
  const createDevice = new Uint8Array(12);
  new DataView(createDevice.buffer).setUint32(0, K.KVM_DEV_TYPE_ARM_VGIC_V3, true);
  proc.ioctl(vmFd, K.KVM_CREATE_DEVICE, createDevice);
  const gic = new DataView(createDevice.buffer).getUint32(4, true);
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

  // TRIGGER → irqfd; UNMASK ← resamplefd (KVM_IRQFD_FLAG_RESAMPLE).
  const trigger = proc.eventfd();
  const unmask = proc.eventfd();
  proc.ioctl(device, VFIO_DEVICE_SET_IRQS, setIrqs(DATA_EVENTFD | ACTION_TRIGGER, trigger));
  if (resample) proc.ioctl(device, VFIO_DEVICE_SET_IRQS, setIrqs(DATA_EVENTFD | ACTION_UNMASK, unmask));
  const irqfd = new Uint8Array(32);
  const q = new DataView(irqfd.buffer);
  // struct kvm_irqfd: fd, gsi, flags, resamplefd.
  for (const [i, v] of [
    trigger,
    GSI,
    resample ? K.KVM_IRQFD_FLAG_RESAMPLE : 0,
    resample ? unmask : 0,
  ].entries())
    q.setUint32(4 * i, v, true);
  proc.ioctl(vmFd, K.KVM_IRQFD, irqfd);
  const vm = proc.fdget(vmFd) as KvmVmFile;
  // The guest's GIC setup: priority mask open, SPI 34 enabled; level where KVM resamples it,
  // edge without a resampler (the irqfd then only pulses the line, as bench/kvm-e2e.bench.ts).
  proc.kvmRun(vcpu, (cpu) => {
    cpu.setPmr(0xff);
    vm.vm.vgic.setConfig(INTID, resample ? 'level' : 'edge');
    vm.vm.vgic.setEnabled(INTID, true);
  });
  proc.pwrite(device, word(1), RTC_IMSC); // the RTC interrupt enabled
  proc.pwrite(device, word(0x1000), RTC_MR);

  // Each interrupt: LR = MR raises RTCRIS at once (pl031_set_alarm with zero ticks); the
  // guest's handler acks, clears the RTC through its (passthrough) mapping and EOIs; then it
  // looks once more for a pending interrupt, which would be a duplicate. The VMM makes no call
  // in this loop: the pwrites stand for the guest's own accesses to the mapped RTC.
  let delivered = 0;
  let duplicates = 0;
  for (let n = 0; n < raised; n++) {
    proc.pwrite(device, word(0x1000), RTC_LR); // the device event (not a VMM call: the guest's RTC)
    proc.kvmRun(vcpu, (cpu) => {
      const intid = cpu.ack();
      if (intid === 1023) return;
      delivered++;
      proc.pwrite(device, word(1), RTC_ICR);
      cpu.eoi(intid);
      const again = cpu.ack();
      if (again !== 1023) {
        duplicates++;
        cpu.eoi(again);
      }
    });
  }
  return {
    device: RTC_DEVICE,
    intid: INTID,
    resamplefd: resample,
    raised,
    delivered,
    lost: raised - delivered,
    duplicates,
    irqfds: vm.vm.listIrqfds().map((i) => `GSI ${i.gsi}${i.resample ? ' + resamplefd' : ''}`),
  };
}

/** The outcome as the README shows it. */
export function formatLevelIrq(outcome: LevelIrqOutcome): string {
  return [
    `${outcome.device} → vfio-amba (automasked level IRQ) → irqfd ${outcome.irqfds.join(', ')} → vGICv3 INTID ${outcome.intid}`,
    `raised ${outcome.raised}, delivered ${outcome.delivered}, lost ${outcome.lost}, duplicated ${outcome.duplicates}`,
  ].join('\n');
}

/** What the file prints: the default run, then the same without the resamplefd. */
export async function levelIrqReport(): Promise<string> {
  const withResample = await levelIrqResamplefdExample();
  const without = await levelIrqResamplefdExample({ resamplefd: false });
  return `${formatLevelIrq(withResample)}\nwithout resamplefd (and no unmask):\n${formatLevelIrq(without)}`;
}

runIfMain(import.meta.url, levelIrqReport);
