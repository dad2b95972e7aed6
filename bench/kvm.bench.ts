import { EventFd } from '@vfiokit/core';
import { KVM_UAPI_CONSTANTS as K, LEVEL_IRQ_STRATEGIES, runLevelIrqStrategy, Vm } from '@vfiokit/kvm';
import { medianMs, printTable } from './measure.js';

const IRQS = 200_000;

function vm(config: 'edge' | 'level'): Vm {
  const v = new Vm();
  const dev = v.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V3);
  dev.setAttr({ group: K.KVM_DEV_ARM_VGIC_GRP_CTRL, attr: K.KVM_DEV_ARM_VGIC_CTRL_INIT });
  v.vcpu(0).setPmr(0xff);
  v.vgic.setConfig(40, config);
  v.vgic.setEnabled(40, true);
  return v;
}

// eventfd → irqfd → vGIC → vCPU IAR/EOI (→ resamplefd → the unmask listener, for level).
function endToEnd(config: 'edge' | 'level'): number {
  const v = vm(config);
  const trigger = new EventFd();
  const resample = new EventFd();
  let unmasks = 0;
  resample.on('signal', () => {
    resample.consume();
    unmasks++;
  });
  v.irqfd(
    config === 'level'
      ? { fd: trigger, gsi: 8, flags: K.KVM_IRQFD_FLAG_RESAMPLE, resamplefd: resample }
      : { fd: trigger, gsi: 8 },
  );
  const cpu = v.vcpu(0);
  const ms = medianMs(() => {
    for (let i = 0; i < IRQS; i++) {
      trigger.signal();
      const intid = cpu.ack();
      cpu.eoi(intid);
    }
  });
  if (config === 'level' && unmasks === 0) throw new RangeError('resamplefd never fired');
  return IRQS / ms / 1000;
}

export default function run(): void {
  const rows: string[][] = [
    ['edge: eventfd → irqfd → vGIC → IAR/EOI', `${endToEnd('edge').toFixed(2)} M irq/s`],
    ['level: eventfd → irqfd → vGIC → IAR/EOI → resamplefd', `${endToEnd('level').toFixed(2)} M irq/s`],
  ];
  // The strategies simulate ticks (device, automask, guest handler steps), so their rate is
  // events per second of wall time for one event every 8 ticks.
  const events = Array.from({ length: 5_000 }, (_, i) => i * 8);
  for (const s of LEVEL_IRQ_STRATEGIES) {
    let report = runLevelIrqStrategy(s, { events });
    const ms = medianMs(() => {
      report = runLevelIrqStrategy(s, { events });
    }, 3);
    rows.push([
      `level, ${s} (simulated; dup ${report.duplicated}, trapped MMIO ${report.extraExits}, VMM ioctls ${report.vmmIoctls})`,
      `${(events.length / ms / 1000).toFixed(3)} M irq/s`,
    ]);
  }
  printTable(['path', 'rate'], rows);
}
