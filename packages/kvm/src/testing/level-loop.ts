import { EventFd } from '@vfiokit/core';
import fc from 'fast-check';
import { GIC_SPURIOUS_INTID, KVM_UAPI_CONSTANTS as K } from '../uapi/constants.js';
import { initialisedVm } from './vm.js';

// The level-IRQ loop of seed 003, driven by steps: a device with two level IRQ indexes (SPIs 40
// and 41, GSIs 8 and 9), a stand-in for vfio-platform's automasked host IRQ (mask on fire,
// signal TRIGGER; UNMASK re-enables and fires again while the line is high), irqfd with
// resamplefd into the VM, and a guest that acknowledges, services the device, EOIs and (EOImode
// 1) deactivates.
//
// The reference that judges a run is independent of the vGIC code: it is the device's own
// accounting. Each event the device raises is one unit of work; the guest services work only
// after an acknowledgement. Lost = work raised and never serviced after a final drain;
// duplicated = an acknowledgement while the device had no work for that index (a spurious
// delivery to the guest); left pending = anything still pending or active in the vGIC, a host
// line still masked or a device still requesting, after the drain.

const INDEXES = 2;
const SPI = (i: number): number => 40 + i;
const GSI = (i: number): number => 8 + i;

export type LoopStep =
  | { kind: 'assert'; index: number }
  | { kind: 'ack' }
  | { kind: 'service' }
  | { kind: 'eoi' }
  | { kind: 'dir' }
  | { kind: 'mask'; index: number }
  | { kind: 'unmask'; index: number }
  | { kind: 'trigger-change'; index: number }
  | { kind: 'irqfd-deassign'; index: number }
  | { kind: 'irqfd-reassign'; index: number };

export const loopStep: fc.Arbitrary<LoopStep> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('assert' as const), index: fc.nat(INDEXES - 1) }), weight: 4 },
  { arbitrary: fc.constant({ kind: 'ack' as const }), weight: 3 },
  { arbitrary: fc.constant({ kind: 'service' as const }), weight: 3 },
  { arbitrary: fc.constant({ kind: 'eoi' as const }), weight: 3 },
  { arbitrary: fc.constant({ kind: 'dir' as const }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('mask' as const), index: fc.nat(INDEXES - 1) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('unmask' as const), index: fc.nat(INDEXES - 1) }), weight: 1 },
  {
    arbitrary: fc.record({ kind: fc.constant('trigger-change' as const), index: fc.nat(INDEXES - 1) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('irqfd-deassign' as const), index: fc.nat(INDEXES - 1) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('irqfd-reassign' as const), index: fc.nat(INDEXES - 1) }),
    weight: 1,
  },
);

interface HostIrq {
  work: number;
  raised: number;
  serviced: number;
  masked: boolean; // vfio automask (and user MASK)
  userMasked: boolean;
  trigger: EventFd;
  unmask: EventFd;
  assigned: boolean;
}

export interface LoopOutcome {
  lost: number;
  duplicated: number;
  leftPending: string[];
}

/** Runs `steps` then drains; returns the reference's verdict. */
export interface LoopVmm {
  /**
   * Read (drain) the TRIGGER eventfd before re-assigning its irqfd (default true). A count left
   * there while no irqfd listened is injected by kvm_irqfd_assign (vfs_poll → irqfd_inject)
   * although the guest may already have serviced the device: a duplicate. The reconnect's
   * UNMASK re-fires the host IRQ if the device still requests, so draining loses nothing.
   */
  readonly drainStaleTrigger?: boolean;
}

export function runLevelLoop(
  steps: readonly LoopStep[],
  eoiMode: 0 | 1,
  gic: 2 | 3,
  vmm: LoopVmm = {},
): LoopOutcome {
  const drainStaleTrigger = vmm.drainStaleTrigger ?? true;
  const vm = initialisedVm({ gic }, [
    { intid: SPI(0), config: 'level' },
    { intid: SPI(1), config: 'level' },
  ]);
  const cpu = vm.vcpu(0);
  cpu.eoiMode = eoiMode;
  const hosts: HostIrq[] = [];
  let duplicated = 0;

  // vfio-platform's host handler (vfio_automasked_irq_handler): mask, signal TRIGGER.
  const fire = (h: HostIrq): void => {
    if (h.masked || h.userMasked || h.work === 0) return;
    h.masked = true;
    h.trigger.signal();
  };
  const assign = (i: number): void => {
    const h = hosts[i];
    if (h === undefined || h.assigned) return;
    vm.irqfd({ fd: h.trigger, gsi: GSI(i), flags: K.KVM_IRQFD_FLAG_RESAMPLE, resamplefd: h.unmask });
    h.assigned = true;
  };
  const deassign = (i: number): void => {
    const h = hosts[i];
    if (h === undefined || !h.assigned) return;
    vm.irqfd({ fd: h.trigger, gsi: GSI(i), flags: K.KVM_IRQFD_FLAG_DEASSIGN });
    h.assigned = false;
  };
  // The VMM's reconnect: after (re)assigning an irqfd it unmasks, as vfio's UNMASK would, so an
  // interrupt that fired while no irqfd listened is taken again.
  const reconnect = (i: number): void => {
    const stale = hosts[i];
    if (drainStaleTrigger && stale !== undefined && !stale.assigned && stale.trigger.readable)
      stale.trigger.read();
    assign(i);
    const h = hosts[i];
    if (h !== undefined) h.unmask.write(1);
  };
  for (let i = 0; i < INDEXES; i++) {
    const h: HostIrq = {
      work: 0,
      raised: 0,
      serviced: 0,
      masked: false,
      userMasked: false,
      trigger: new EventFd(),
      unmask: new EventFd(),
      assigned: false,
    };
    // vfio's unmask virqfd: a signal on UNMASK re-enables the host IRQ; the level line fires
    // again at once if the device still requests (deferred out of the eventfd wakeup).
    h.unmask.on('signal', () => {
      h.unmask.consume();
      h.masked = false;
      queueMicrotaskFree(() => fire(h));
    });
    hosts.push(h);
    assign(i);
  }
  // Deferred host work (the unmask's re-fire), run after each step: the kernel runs it outside
  // the eventfd wakeup.
  const deferred: Array<() => void> = [];
  function queueMicrotaskFree(fn: () => void): void {
    deferred.push(fn);
  }
  const runDeferred = (): void => {
    while (deferred.length > 0) deferred.shift()?.();
  };

  const acked: Array<{ intid: number }> = [];
  const dropped: number[] = [];
  const ack = (): boolean => {
    const v = cpu.ack();
    if (v === GIC_SPURIOUS_INTID) return false;
    const i = v - 40;
    const h = hosts[i];
    if (h === undefined) throw new RangeError(`unexpected INTID ${v}`);
    if (h.work === 0) duplicated++;
    acked.push({ intid: v });
    return true;
  };
  const service = (): void => {
    const a = acked[0];
    if (a === undefined) return;
    const h = hosts[a.intid - 40];
    if (h === undefined) return;
    h.serviced += h.work;
    h.work = 0;
  };
  const eoi = (): void => {
    const a = acked.shift();
    if (a === undefined) return;
    cpu.eoi(a.intid);
    if (eoiMode === 1) dropped.push(a.intid);
  };
  const dir = (): void => {
    const intid = dropped.shift();
    if (intid !== undefined) cpu.dir(intid);
  };

  for (const s of steps) {
    switch (s.kind) {
      case 'assert': {
        const h = hosts[s.index];
        if (h === undefined) break;
        h.work++;
        h.raised++;
        fire(h);
        break;
      }
      case 'ack':
        ack();
        break;
      case 'service':
        service();
        break;
      case 'eoi':
        eoi();
        break;
      case 'dir':
        dir();
        break;
      case 'mask': {
        const h = hosts[s.index];
        if (h !== undefined) h.userMasked = true;
        break;
      }
      case 'unmask': {
        const h = hosts[s.index];
        if (h === undefined) break;
        h.userMasked = false;
        h.unmask.write(1);
        break;
      }
      case 'trigger-change': {
        // VFIO_IRQ_SET_ACTION_TRIGGER with a new eventfd; the VMM moves the irqfd to it.
        const h = hosts[s.index];
        if (h === undefined) break;
        const was = h.assigned;
        deassign(s.index);
        h.trigger.close();
        h.trigger = new EventFd();
        if (was) reconnect(s.index);
        break;
      }
      case 'irqfd-deassign':
        deassign(s.index);
        break;
      case 'irqfd-reassign':
        reconnect(s.index);
        break;
    }
    runDeferred();
  }

  // Drain: the guest finishes what it started, the VMM reconnects and unmasks everything, the
  // guest takes interrupts until none is left.
  while (acked.length > 0) {
    service();
    eoi();
    runDeferred();
  }
  while (dropped.length > 0) {
    dir();
    runDeferred();
  }
  for (let i = 0; i < INDEXES; i++) {
    const h = hosts[i];
    if (h !== undefined) h.userMasked = false;
    reconnect(i);
    runDeferred();
  }
  for (let guard = 0; guard < 1000 && ack(); guard++) {
    service();
    eoi();
    dir();
    runDeferred();
  }

  const leftPending: string[] = [];
  for (let i = 0; i < INDEXES; i++) {
    const h = hosts[i];
    if (h === undefined) continue;
    const st = vm.vgic.state(SPI(i));
    if (st.active || vm.vgic.isPending(SPI(i))) leftPending.push(`SPI ${SPI(i)} pending/active`);
    if (h.masked) leftPending.push(`host IRQ ${i} masked`);
    if (h.work !== 0) leftPending.push(`device index ${i} still requests`);
  }
  const lost = hosts.reduce((n, h) => n + h.raised - h.serviced, 0);
  return { lost, duplicated, leftPending };
}
