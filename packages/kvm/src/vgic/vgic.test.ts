import { describe, expect, it } from 'vitest';
import { errno } from '../testing/errno.js';
import { GIC_SPURIOUS_INTID } from '../uapi/constants.js';
import { Vgic } from './vgic.js';

function gic(version: 2 | 3 = 3, vcpus = 2): Vgic {
  const g = new Vgic(version, vcpus, 64);
  for (let v = 0; v < vcpus; v++) g.cpu(v).setPmr(0xff);
  return g;
}

describe('vGIC reset state (vgic-init.c)', () => {
  it('SGIs are enabled and edge, PPIs level, SPIs edge and disabled targeting vCPU 0', () => {
    const g = gic();
    expect(g.state(3, 1)).toMatchObject({ enabled: true, config: 'edge', vcpu: 1 });
    expect(g.state(27, 1)).toMatchObject({ enabled: false, config: 'level' });
    expect(g.state(40)).toMatchObject({ enabled: false, config: 'edge', vcpu: 0 });
    expect(g.irq(96)).toBeUndefined();
  });

  it('PMR resets to 0: nothing is signalled until the guest opens it', () => {
    const g = new Vgic(3, 1, 32);
    g.setEnabled(40, true);
    g.injectIrq(40, true);
    expect(g.cpu(0).ack()).toBe(GIC_SPURIOUS_INTID);
    g.cpu(0).setPmr(0xff);
    expect(g.cpu(0).ack()).toBe(40);
  });
});

describe('edge and level (kvm_vgic_inject_irq / vgic_validate_injection)', () => {
  it('edge: level 1 latches pending once, 0 is ignored; ack clears the latch', () => {
    const g = gic();
    g.setEnabled(40, true);
    g.injectIrq(40, true);
    g.injectIrq(40, true);
    g.injectIrq(40, false);
    const c = g.cpu(0);
    expect(c.ack()).toBe(40);
    c.eoi(40);
    expect(c.ack()).toBe(GIC_SPURIOUS_INTID);
  });

  it('edge while active: pending again, delivered after deactivation (active+pending)', () => {
    const g = gic();
    g.setEnabled(40, true);
    g.injectIrq(40, true);
    const c = g.cpu(0);
    expect(c.ack()).toBe(40);
    g.injectIrq(40, true);
    expect(c.ack()).toBe(GIC_SPURIOUS_INTID);
    c.eoi(40);
    expect(c.ack()).toBe(40);
  });

  it('level: pending while the line is high; re-delivered after EOI if still high; de-asserted before ack → lost', () => {
    const g = gic();
    g.setConfig(40, 'level');
    g.setEnabled(40, true);
    const c = g.cpu(0);
    g.injectIrq(40, true);
    expect(c.ack()).toBe(40);
    c.eoi(40);
    expect(c.ack()).toBe(40);
    g.injectIrq(40, false);
    c.eoi(40);
    expect(c.ack()).toBe(GIC_SPURIOUS_INTID);
    g.injectIrq(40, true);
    g.injectIrq(40, false);
    expect(c.ack()).toBe(GIC_SPURIOUS_INTID);
  });

  it('config writes for SGIs/PPIs are ignored (vgic_mmio_write_config), disabled IRQs stay pending', () => {
    const g = gic();
    g.setConfig(20, 'edge', 0);
    expect(g.state(20, 0).config).toBe('level');
    g.injectIrq(41, true);
    expect(g.isPending(41)).toBe(true);
    expect(g.cpu(0).ack()).toBe(GIC_SPURIOUS_INTID);
    g.setEnabled(41, true);
    expect(g.cpu(0).ack()).toBe(41);
    expect(errno(() => g.injectIrq(20, true))).toBe('EINVAL');
  });
});

describe('priorities, PMR and preemption', () => {
  it('the highest priority (lowest value) wins; ties go to the lowest INTID; 5 priority bits', () => {
    const g = gic();
    for (const i of [40, 41, 42]) g.setEnabled(i, true);
    g.setPriority(40, 0xa0);
    g.setPriority(41, 0x87); // stored as 0x80
    g.setPriority(42, 0x80);
    expect(g.state(41).priority).toBe(0x80);
    for (const i of [40, 41, 42]) g.injectIrq(i, true);
    const c = g.cpu(0);
    expect(c.ack()).toBe(41);
    expect(c.runningPriority).toBe(0x80);
    // 42 has the same priority as the running one: no preemption; 40 neither.
    expect(c.ack()).toBe(GIC_SPURIOUS_INTID);
    c.eoi(41);
    expect(c.ack()).toBe(42);
  });

  it('a higher priority preempts an active one; PMR masks priorities ≥ PMR', () => {
    const g = gic();
    g.setEnabled(40, true);
    g.setEnabled(41, true);
    g.setPriority(40, 0xa0);
    g.setPriority(41, 0x20);
    const c = g.cpu(0);
    g.injectIrq(40, true);
    expect(c.ack()).toBe(40);
    g.injectIrq(41, true);
    expect(c.ack()).toBe(41);
    c.eoi(41);
    c.eoi(40);
    c.setPmr(0x20);
    g.injectIrq(41, true);
    expect(c.irqPending).toBe(false);
    c.setPmr(0x28);
    expect(c.ack()).toBe(41);
  });
});

describe('EOImode', () => {
  it('EOImode 0: EOI drops priority and deactivates; DIR is UNPREDICTABLE (EINVAL)', () => {
    const g = gic();
    g.setEnabled(40, true);
    g.injectIrq(40, true);
    const c = g.cpu(0);
    c.ack();
    expect(errno(() => c.dir(40))).toBe('EINVAL');
    c.eoi(40);
    expect(g.state(40).active).toBe(false);
    expect(errno(() => c.eoi(40))).toBe('EINVAL');
  });

  it('EOImode 1: EOI only drops priority (another IRQ of that priority can be taken), DIR deactivates', () => {
    const g = gic();
    g.setEnabled(40, true);
    g.setEnabled(41, true);
    const c = g.cpu(0);
    c.eoiMode = 1;
    g.injectIrq(40, true);
    g.injectIrq(41, true);
    expect(c.ack()).toBe(40);
    c.eoi(40);
    expect(g.state(40).active).toBe(true);
    expect(c.ack()).toBe(41);
    c.eoi(41);
    c.dir(40);
    c.dir(41);
    expect(g.state(40).active || g.state(41).active).toBe(false);
    expect(errno(() => c.dir(40))).toBe('EINVAL');
  });

  it('deactivation of a level IRQ notifies listeners (EOI maintenance), of an edge IRQ not', () => {
    const g = gic();
    const seen: number[] = [];
    g.onDeactivate((intid) => seen.push(intid));
    g.setEnabled(40, true);
    g.setEnabled(41, true);
    g.setConfig(41, 'level');
    g.injectIrq(40, true);
    g.injectIrq(41, true);
    const c = g.cpu(0);
    c.eoiMode = 1;
    c.eoi(c.ack());
    c.eoi(c.ack());
    expect(seen).toEqual([]);
    c.dir(41);
    c.dir(40);
    expect(seen).toEqual([41]);
  });
});

describe('SGIs and targets', () => {
  it('GICv2: IAR carries the source CPU in bits[12:10]; two sources give two acknowledgements', () => {
    const g = gic(2, 3);
    g.sendSgi(1, 5, [0]);
    g.sendSgi(2, 5, [0]);
    const c = g.cpu(0);
    expect(c.ack()).toBe(5 | (1 << 10));
    c.eoi(5 | (1 << 10));
    expect(c.ack()).toBe(5 | (2 << 10));
    c.eoi(5);
    expect(c.ack()).toBe(GIC_SPURIOUS_INTID);
  });

  it('GICv3: an SGI is just pending on each target; SPIs go to their target vCPU', () => {
    const g = gic(3, 2);
    g.sendSgi(0, 1, [0, 1]);
    expect(g.cpu(1).ack()).toBe(1);
    expect(g.cpu(0).ack()).toBe(1);
    g.setEnabled(50, true);
    g.setTarget(50, 1);
    g.injectIrq(50, true);
    expect(g.cpu(0).irqPending).toBe(false);
    expect(g.cpu(1).irqPending).toBe(false); // running priority 0 after the SGI ack
    g.cpu(1).eoi(1);
    expect(g.cpu(1).ack()).toBe(50);
    expect(errno(() => g.sendSgi(0, 16, [0]))).toBe('EINVAL');
    expect(errno(() => g.setTarget(50, 2))).toBe('EINVAL');
  });
});
