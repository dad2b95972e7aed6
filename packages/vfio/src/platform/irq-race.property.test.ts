import { type EventFd, KernelError } from '@vfiokit/core';
import { fastCheckScheduler } from '@vfiokit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EDGE_IRQ, openedPlatformFixture } from '../test-support/platform-fixture.js';
import { vfioMetaDriverData } from './meta-driver.js';

// The CVE-2024-26813 race class: user space changes an IRQ's trigger eventfd while the
// device keeps interrupting. The kernel fix keeps the handler installed and swaps the
// eventfd under disable_irq/enable_irq (drivers/vfio/platform/vfio_platform_irq.c
// vfio_set_trigger). fast-check's scheduler interleaves the device's interrupt deliveries
// with the user's SET_IRQS calls and eventfd closes.

type Step =
  | { readonly op: 'pulse' }
  | { readonly op: 'set-trigger' }
  | { readonly op: 'clear-trigger' }
  | { readonly op: 'close-old' }
  | { readonly op: 'loopback' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ op: 'pulse' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'set-trigger' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear-trigger' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'close-old' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'loopback' as const }) },
);

describe('trigger changes racing interrupts (CVE-2024-26813 class)', () => {
  it('no interrupt is delivered to a released eventfd, none is lost, every handler run signals the current trigger', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(step, { maxLength: 16, size: 'max' }), async (s, steps) => {
        const tasks = fastCheckScheduler(s);
        const f = openedPlatformFixture({ scheduler: tasks });
        const irqs = vfioMetaDriverData(f.device)?.platformDevice.irqState;
        if (irqs === undefined) throw new KernelError('ENODEV', 'not bound');
        const released: number[] = [];
        let current: number | null = null;
        let signals = 0;
        let pulses = 0;
        let loopbackSignals = 0;
        const violations: string[] = [];
        const watch = (fd: number): void => {
          const eventfd: EventFd = f.process.eventfdOf(fd);
          eventfd.on('signal', () => {
            signals++;
            if (irqs.irq(1).trigger !== eventfd) violations.push(`signal on released eventfd ${fd}`);
          });
        };
        const setTrigger = (): void => {
          const fd = f.process.eventfd();
          watch(fd);
          f.handle.setIrqs({ action: 'trigger', index: 1, start: 0, eventfds: [fd] });
          if (current !== null) released.push(current);
          current = fd;
        };
        s.scheduleSequence(
          steps.map((st) => ({
            label: st.op,
            builder: async (): Promise<void> => {
              try {
                run(st);
              } catch (error) {
                // fast-check's sequences swallow a builder's throw: record it instead.
                violations.push(`${st.op} threw ${String(error)}`);
              }
            },
          })),
        );
        function run(st: Step): void {
          if (st.op === 'pulse') {
            pulses++;
            f.irqChip.pulse(EDGE_IRQ);
          } else if (st.op === 'loopback') {
            // DATA_NONE TRIGGER runs the handler as if the line fired: with no eventfd
            // yet it must do nothing (the CVE's fix checks the trigger), else signal it.
            if (current !== null) loopbackSignals++;
            f.handle.setIrqs({ action: 'trigger', index: 1, count: 1 });
          } else if (st.op === 'set-trigger') {
            setTrigger();
          } else if (st.op === 'clear-trigger') {
            f.handle.setIrqs({ action: 'trigger', index: 1, start: 0, count: 0 });
            if (current !== null) released.push(current);
            current = null;
          } else {
            const old = released.shift();
            if (old !== undefined) f.process.close(old);
          }
        }
        await s.waitAll();
        // Finally a trigger is set: whatever arrived while none was must now be delivered.
        setTrigger();
        await s.waitAll();
        tasks.throwIfFailed();
        expect(violations).toEqual([]);
        expect(signals).toBe(f.irqChip.deliveries(EDGE_IRQ) + loopbackSignals);
        if (pulses > 0) expect(signals).toBeGreaterThan(0);
        // Every pulse after the last signal would be a lost interrupt: replaying pending
        // edges on enable leaves none behind once a trigger is set.
        expect(f.irqChip.pendingEdge(EDGE_IRQ)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});
