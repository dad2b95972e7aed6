import { EventFd, KernelError, rejectUnknownOptions } from '@vfiokit/core';
import { GIC_SPURIOUS_INTID, KVM_UAPI_CONSTANTS as K } from '../uapi/constants.js';
import { encodeIrqLine } from '../uapi/irq-line.js';
import { Vm } from '../vm/vm.js';

/**
 * How a VMM gets a level-triggered, automasked vfio IRQ unmasked again:
 * - `resamplefd`: KVM_IRQFD with KVM_IRQFD_FLAG_RESAMPLE; the guest's EOI de-asserts the line
 *   and signals the resamplefd, which is vfio's UNMASK eventfd (seed 003's "proper way");
 * - `periodic-unmask`: the VMM injects with KVM_IRQ_LINE and a timer de-asserts and unmasks
 *   every `periodTicks` (seed 003's first workaround);
 * - `mmio-trap-unmask`: the VMM injects with KVM_IRQ_LINE, stops mapping the device's MMIO so
 *   guest accesses trap, and takes the first trapped access as the EOI (QEMU hw/vfio/platform.c
 *   `vfio_platform_eoi`, re-mapping after `mmapTimeoutTicks` idle; seed 003's second workaround).
 */
export type LevelIrqStrategy = 'resamplefd' | 'periodic-unmask' | 'mmio-trap-unmask';

export const LEVEL_IRQ_STRATEGIES: readonly LevelIrqStrategy[] = [
  'resamplefd',
  'periodic-unmask',
  'mmio-trap-unmask',
];

export interface LevelIrqScenario {
  /** Ticks at which the device raises an event (each one unit of work; the line is level). */
  readonly events: readonly number[];
  /** Timer period of `periodic-unmask` (default 10 ticks). */
  readonly periodTicks?: number;
  /** Idle ticks before `mmio-trap-unmask` maps the MMIO again (default 20, QEMU's mmap-timeout-ms). */
  readonly mmapTimeoutTicks?: number;
  /** Ticks simulated after the last event so that everything can settle (default 200). */
  readonly drainTicks?: number;
}

/** Counters of one strategy over one scenario. */
export interface LevelIrqReport {
  readonly strategy: LevelIrqStrategy;
  readonly events: number;
  /** Events the guest serviced (cleared in the device). */
  readonly serviced: number;
  /** Events never serviced by the end of the run. */
  readonly lost: number;
  /** Interrupts the guest took while the device did not request (status read 0). */
  readonly duplicated: number;
  /** Guest MMIO accesses that trapped to the VMM (vCPU exits the mapping would have avoided). */
  readonly extraExits: number;
  /** ioctls the VMM issued on the interrupt path (KVM_IRQ_LINE, vfio UNMASK). */
  readonly vmmIoctls: number;
  /** Mean and maximum ticks from an event to the guest clearing it. */
  readonly meanLatencyTicks: number;
  readonly maxLatencyTicks: number;
}

const SPI_INTID = 40;
const GSI = SPI_INTID - 32;

type GuestPhase = 'idle' | 'read-status' | 'clear' | 'eoi';

/**
 * Simulates one level IRQ of a passed-through device, tick by tick, under `strategy`: the device
 * (work counter, level line), vfio-platform's automask (mask on fire, signal TRIGGER, re-fire on
 * unmask while the line is high), this package's VM and vGIC, and a guest handler that takes
 * one tick per step: acknowledge, read the status register, clear it, EOI.
 */
export function runLevelIrqStrategy(strategy: LevelIrqStrategy, scenario: LevelIrqScenario): LevelIrqReport {
  rejectUnknownOptions(
    scenario,
    ['events', 'periodTicks', 'mmapTimeoutTicks', 'drainTicks'],
    'runLevelIrqStrategy',
  );
  if (!LEVEL_IRQ_STRATEGIES.includes(strategy))
    throw new KernelError('EINVAL', `unknown strategy ${String(strategy)}`);
  const period = scenario.periodTicks ?? 10;
  const mmapTimeout = scenario.mmapTimeoutTicks ?? 20;
  const events = [...scenario.events].sort((a, b) => a - b);
  const end = (events.at(-1) ?? 0) + (scenario.drainTicks ?? 200);
  if (!Number.isInteger(period) || period < 1)
    throw new KernelError('EINVAL', `periodTicks ${String(period)}`);

  const vm = new Vm();
  const dev = vm.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V3);
  dev.setAttr({ group: K.KVM_DEV_ARM_VGIC_GRP_CTRL, attr: K.KVM_DEV_ARM_VGIC_CTRL_INIT });
  const cpu = vm.vcpu(0);
  cpu.setPmr(0xff);
  vm.vgic.setConfig(SPI_INTID, 'level');
  vm.vgic.setEnabled(SPI_INTID, true);
  const line = encodeIrqLine({ type: 'spi', irqId: SPI_INTID });

  const pendingSince: number[] = [];
  let serviced = 0;
  let duplicated = 0;
  let extraExits = 0;
  let vmmIoctls = 0;
  let latencySum = 0;
  let latencyMax = 0;
  let masked = false;
  const trigger = new EventFd();
  const unmaskFd = new EventFd();
  const deferred: Array<() => void> = [];

  // vfio_automasked_irq_handler: mask, then signal TRIGGER.
  const fire = (): void => {
    if (masked || pendingSince.length === 0) return;
    masked = true;
    trigger.signal();
  };
  const unmask = (): void => {
    masked = false;
    fire();
  };
  unmaskFd.on('signal', () => {
    unmaskFd.consume();
    deferred.push(unmask);
  });

  // The VMM's state for the user-space strategies.
  let vmmActive = false;
  let mmapEnabled = true;
  let idleSince = 0;
  if (strategy === 'resamplefd') {
    vm.irqfd({ fd: trigger, gsi: GSI, flags: K.KVM_IRQFD_FLAG_RESAMPLE, resamplefd: unmaskFd });
  } else {
    // The VMM polls TRIGGER in user space (deferred: it runs after the wakeup).
    trigger.on('signal', () => {
      deferred.push(() => {
        trigger.consume();
        vm.irqLine(line, 1);
        vmmIoctls++;
        if (strategy === 'mmio-trap-unmask') {
          vmmActive = true;
          mmapEnabled = false;
        }
      });
    });
  }
  // QEMU vfio_platform_eoi: de-assert, unmask the host IRQ.
  const vmmEoi = (): void => {
    vm.irqLine(line, 0);
    vmmIoctls += 2; // KVM_IRQ_LINE 0 + VFIO_DEVICE_SET_IRQS UNMASK
    vmmActive = false;
    unmask();
  };
  const mmio = (now: number): void => {
    if (strategy !== 'mmio-trap-unmask' || mmapEnabled) return;
    extraExits++;
    idleSince = now;
    if (vmmActive) vmmEoi();
  };

  let phase: GuestPhase = 'idle';
  let nextEvent = 0;
  const runDeferred = (): void => {
    while (deferred.length > 0) deferred.shift()?.();
  };
  for (let now = 0; now <= end; now++) {
    while (nextEvent < events.length && (events[nextEvent] ?? Number.POSITIVE_INFINITY) <= now) {
      pendingSince.push(events[nextEvent] ?? now);
      nextEvent++;
      fire();
    }
    runDeferred();
    if (strategy === 'periodic-unmask' && now % period === 0 && now > 0) {
      vm.irqLine(line, 0);
      vmmIoctls += 2;
      unmask();
      runDeferred();
    }
    if (strategy === 'mmio-trap-unmask' && !mmapEnabled && !vmmActive && now - idleSince >= mmapTimeout)
      mmapEnabled = true;
    switch (phase) {
      case 'idle':
        if (cpu.ack() !== GIC_SPURIOUS_INTID) phase = 'read-status';
        break;
      case 'read-status':
        mmio(now);
        phase = pendingSince.length === 0 ? 'eoi' : 'clear';
        if (phase === 'eoi') duplicated++;
        break;
      case 'clear':
        mmio(now);
        for (const t of pendingSince) {
          latencySum += now - t;
          latencyMax = Math.max(latencyMax, now - t);
        }
        serviced += pendingSince.length;
        pendingSince.length = 0;
        phase = 'eoi';
        break;
      case 'eoi':
        cpu.eoi(SPI_INTID);
        phase = 'idle';
        break;
    }
    runDeferred();
  }
  return {
    strategy,
    events: events.length,
    serviced,
    lost: events.length - serviced,
    duplicated,
    extraExits,
    vmmIoctls,
    meanLatencyTicks: serviced === 0 ? 0 : latencySum / serviced,
    maxLatencyTicks: latencyMax,
  };
}

/** Runs every strategy on the same scenario: one table to compare them. */
export function compareLevelIrqStrategies(scenario: LevelIrqScenario): LevelIrqReport[] {
  return LEVEL_IRQ_STRATEGIES.map((s) => runLevelIrqStrategy(s, scenario));
}
