import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ReferenceGic } from '../testing/reference-gic.js';
import { Vgic } from './vgic.js';

// The vGIC against a naive reference written from the GIC architecture (testing/reference-gic.ts):
// random inject/enable/config/priority/PMR/ack/EOI/DIR sequences on one vCPU with SGIs, PPIs and
// 8 SPIs must give the same acknowledgements, the same validity of EOI/DIR and the same
// pending/active state.

const N = 40;
type Op =
  | { op: 'inject'; intid: number; high: boolean }
  | { op: 'enable'; intid: number; on: boolean }
  | { op: 'config'; intid: number; level: boolean }
  | { op: 'prio'; intid: number; prio: number }
  | { op: 'pmr'; value: number }
  | { op: 'ack' }
  | { op: 'eoi'; pick: number }
  | { op: 'dir'; pick: number };

const intid = fc.integer({ min: 16, max: N - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('inject' as const), intid, high: fc.boolean() }), weight: 5 },
  {
    arbitrary: fc.record({
      op: fc.constant('enable' as const),
      intid: fc.integer({ min: 0, max: N - 1 }),
      on: fc.boolean(),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('config' as const),
      intid: fc.integer({ min: 32, max: N - 1 }),
      level: fc.boolean(),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('prio' as const),
      intid: fc.integer({ min: 0, max: N - 1 }),
      prio: fc.integer({ min: 0, max: 255 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ op: fc.constant('pmr' as const), value: fc.integer({ min: 0, max: 255 }) }),
    weight: 1,
  },
  { arbitrary: fc.constant({ op: 'ack' as const }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constant('eoi' as const), pick: fc.nat(4) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('dir' as const), pick: fc.nat(4) }), weight: 2 },
);

function agree(ops: readonly Op[], eoiMode: 0 | 1): void {
  const g = new Vgic(3, 1, N - 32);
  const ref = new ReferenceGic(N);
  const cpu = g.cpu(0);
  cpu.eoiMode = eoiMode;
  ref.eoiMode = eoiMode;
  // Both start with the priority mask open (a guest does that first); 'pmr' ops close it again.
  cpu.setPmr(0xff);
  ref.pmr = 0xf8;
  const acked: number[] = [];
  const ok = (fn: () => void): boolean => {
    try {
      fn();
      return true;
    } catch {
      return false;
    }
  };
  for (const o of ops) {
    switch (o.op) {
      case 'inject':
        g.injectIrq(o.intid, o.high, 0);
        ref.inject(o.intid, o.high);
        break;
      case 'enable':
        g.setEnabled(o.intid, o.on, 0);
        ref.enabled[o.intid] = o.on;
        break;
      case 'config':
        g.setConfig(o.intid, o.level ? 'level' : 'edge');
        ref.level[o.intid] = o.level;
        break;
      case 'prio':
        g.setPriority(o.intid, o.prio, 0);
        ref.prio[o.intid] = o.prio & 0xf8;
        break;
      case 'pmr':
        cpu.setPmr(o.value);
        ref.pmr = o.value & 0xf8;
        break;
      case 'ack': {
        const a = cpu.ack();
        expect(a).toBe(ref.ack());
        if (a !== 1023) acked.push(a);
        break;
      }
      case 'eoi': {
        const i = acked.length === 0 ? o.pick + 32 : (acked[o.pick % acked.length] ?? 0);
        expect(ok(() => cpu.eoi(i))).toBe(ref.eoi(i));
        break;
      }
      case 'dir': {
        const i = acked.length === 0 ? o.pick + 32 : (acked[o.pick % acked.length] ?? 0);
        expect(ok(() => cpu.dir(i))).toBe(ref.dir(i));
        break;
      }
    }
  }
  for (let i = 0; i < N; i++) {
    expect([i, g.isPending(i, 0), g.state(i, 0).active]).toEqual([i, ref.pending(i), ref.active[i]]);
  }
}

const restores: Array<() => void> = [];
afterEach(() => {
  while (restores.length > 0) restores.pop()?.();
});

describe('vGIC against a reference GIC', () => {
  const arb = fc.tuple(
    fc.array(opArb, { minLength: 50, maxLength: 300 }),
    fc.constantFrom(0 as const, 1 as const),
  );

  it('property: same acknowledgements, EOI/DIR validity and final state', () => {
    fc.assert(
      fc.property(arb, ([ops, mode]) => agree(ops, mode)),
      { numRuns: 300 },
    );
  });

  it('planted bug: IAR ignores the running priority (no preemption rule) → caught', () => {
    const original = Vgic.prototype.best;
    Vgic.prototype.best = function (this: Vgic, vcpu: number) {
      return original.call(this, vcpu, this.cpu(vcpu).pmr);
    };
    restores.push(() => {
      Vgic.prototype.best = original;
    });
    const r = fc.check(
      fc.property(arb, ([ops, mode]) => agree(ops, mode)),
      { numRuns: 300, endOnFailure: true },
    );
    expect(r.failed).toBe(true);
  });
});
