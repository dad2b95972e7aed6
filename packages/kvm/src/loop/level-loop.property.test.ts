import { EventFd } from '@vfiokit/core';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { type LoopOutcome, loopStep, runLevelLoop } from '../testing/level-loop.js';
import { initialisedVm } from '../testing/vm.js';
import { KVM_UAPI_CONSTANTS as K } from '../uapi/constants.js';
import { Vgic } from '../vgic/vgic.js';
import { Vm } from '../vm/vm.js';

const STEPS = 10_000;
const runs = fc.record({
  steps: fc.array(loopStep, { minLength: STEPS, maxLength: STEPS }),
  eoiMode: fc.constantFrom(0 as const, 1 as const),
  gic: fc.constantFrom(2 as const, 3 as const),
});

const clean = (o: LoopOutcome): boolean => o.lost === 0 && o.duplicated === 0 && o.leftPending.length === 0;

// Judged by the device's own accounting (testing/level-loop.ts), not by the vGIC code.

// Planted bugs: each patch breaks one rule of the real kernel, and the property must notice.
type Restore = () => void;
const restores: Restore[] = [];
afterEach(() => {
  while (restores.length > 0) restores.pop()?.();
});
function patch<T extends object, M extends keyof T>(proto: T, method: M, replacement: T[M]): void {
  const original = proto[method];
  proto[method] = replacement;
  restores.push(() => {
    proto[method] = original;
  });
}

describe('level IRQ loop: irqfd + resamplefd + automask (seed 003), random steps', () => {
  it(`property: ${STEPS.toLocaleString('en')} random assert/ack/EOI/mask/unmask/trigger-change/irqfd-deassign steps lose, duplicate and leave nothing`, () => {
    fc.assert(
      fc.property(runs, ({ steps, eoiMode, gic }) => {
        expect(runLevelLoop(steps, eoiMode, gic)).toEqual({ lost: 0, duplicated: 0, leftPending: [] });
      }),
      // 40 runs × 10,000 steps ≈ 5 s; quiet on failure (a 10,000-step counterexample printed
      // verbosely overflows a string), the seed and path are still reported.
      { numRuns: 40, verbose: fc.VerbosityLevel.None },
    );
  });

  const failsWith = (): boolean =>
    fc.check(
      fc.property(runs, ({ steps, eoiMode, gic }) => clean(runLevelLoop(steps.slice(0, 2000), eoiMode, gic))),
      { numRuns: 12, endOnFailure: true },
    ).failed;

  it('planted bug: no EOI maintenance notification (resample never fires) → caught', () => {
    patch(Vgic.prototype, 'deactivate', function (this: Vgic, irq) {
      irq.active = false;
      this.refresh(irq);
    });
    expect(failsWith()).toBe(true);
  });

  it('planted bug: resampler signals without de-asserting the GSI → caught', () => {
    const proto = Vm.prototype as unknown as { setIrq: Vm['setIrq'] };
    const original = proto.setIrq;
    patch(proto, 'setIrq', function (this: Vm, gsi: number, level: boolean) {
      if (!level) return;
      original.call(this, gsi, level);
    });
    expect(failsWith()).toBe(true);
  });

  it('planted bug: IAR leaves a level IRQ acknowledgeable again while active → caught', () => {
    patch(Vgic.prototype, 'refresh', function (this: Vgic, irq) {
      const set = (this as unknown as { candidates: Set<typeof irq>[] }).candidates[irq.vcpu];
      if (irq.enabled && (irq.pendingLatch || irq.lineLevel)) set?.add(irq);
      else set?.delete(irq);
    });
    expect(failsWith()).toBe(true);
  });

  it('a TRIGGER count left while no irqfd listened is injected at re-assign: a duplicate unless the VMM drains it', () => {
    const steps = [
      { kind: 'assert', index: 0 },
      { kind: 'ack' },
      { kind: 'irqfd-deassign', index: 0 },
      { kind: 'unmask', index: 0 },
      { kind: 'service' },
      { kind: 'eoi' },
      { kind: 'irqfd-reassign', index: 0 },
    ] as const;
    expect(runLevelLoop(steps, 0, 3, { drainStaleTrigger: false }).duplicated).toBe(1);
    expect(runLevelLoop(steps, 0, 3)).toEqual({ lost: 0, duplicated: 0, leftPending: [] });
  });

  it('without the VMM unmask after reconnecting, an IRQ that fired while no irqfd listened is lost (real behaviour)', () => {
    const outcome = runLevelLoop(
      [
        { kind: 'irqfd-deassign', index: 0 },
        { kind: 'assert', index: 0 },
      ],
      0,
      3,
    );
    // The reference drain reconnects with an unmask, so nothing is lost there…
    expect(outcome).toEqual({ lost: 0, duplicated: 0, leftPending: [] });
    // …whereas the kernel alone does not re-inject: the trigger count was consumed by nobody
    // and stays in the eventfd until an irqfd is assigned.
    const vm = initialisedVm({}, [{ intid: 40, config: 'level' }]);
    const trigger = new EventFd();
    trigger.signal();
    vm.irqfd({ fd: trigger, gsi: 8, flags: K.KVM_IRQFD_FLAG_RESAMPLE, resamplefd: new EventFd() });
    expect(vm.vgic.isPending(40)).toBe(true);
  });
});
