import { type EventFd, KernelError, type Scheduler } from '@vfiokit/core';
import { fastCheckScheduler } from '@vfiokit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EDGE_IRQ, LEVEL_IRQ, openedPlatformFixture } from '../test-support/platform-fixture.js';
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

// The unmask race class: a level device keeps or drops its line while user space (or KVM's
// resamplefd) unmasks through the UNMASK eventfd and through SET_IRQS, and masks. The
// virqfd runs enable_irq inside the UNMASK eventfd's wakeup (drivers/vfio/virqfd.c
// virqfd_wakeup); a still-asserted line is taken by the CPU only after the wakeup returned
// (kernel/irq/resend.c check_irq_resend leaves level lines to the hardware), so
// vfio_platform_interrupt's eventfd_signal is outside fs/eventfd.c's in_eventfd and is kept.

type UnmaskStep =
  | { readonly op: 'assert' }
  | { readonly op: 'deassert' }
  | { readonly op: 'unmask-eventfd' }
  | { readonly op: 'unmask-ioctl' }
  | { readonly op: 'mask-ioctl' }
  | { readonly op: 'ack' };

const unmaskStep: fc.Arbitrary<UnmaskStep> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ op: 'assert' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'deassert' as const }) },
  { weight: 3, arbitrary: fc.constant({ op: 'unmask-eventfd' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'unmask-ioctl' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'mask-ioctl' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'ack' as const }) },
);

// The planted variant: what the chip did before — the handler of a line that enable_irq finds
// due runs inside enableIrq, so inside the UNMASK eventfd's wakeup.
function synchronousResend(inner: Scheduler): Scheduler {
  return {
    schedule(label: string, task: () => void): void {
      if (label.endsWith('level resend') || label.endsWith('edge retrigger')) task();
      else inner.schedule(label, task);
    },
  };
}

function unmaskProperty(planted: boolean) {
  return fc.asyncProperty(
    fc.scheduler(),
    fc.array(unmaskStep, { maxLength: 16, size: 'max' }),
    async (s, steps) => {
      const tasks = fastCheckScheduler(s);
      const f = openedPlatformFixture({ scheduler: planted ? synchronousResend(tasks) : tasks });
      const irqs = vfioMetaDriverData(f.device)?.platformDevice.irqState;
      if (irqs === undefined) throw new KernelError('ENODEV', 'not bound');
      const triggerFd = f.process.eventfd();
      f.handle.setIrqs({ action: 'trigger', index: 0, start: 0, eventfds: [triggerFd] });
      const trigger = f.process.eventfdOf(triggerFd);
      const unmaskFd = f.process.eventfd();
      f.handle.setIrqs({ action: 'unmask', index: 0, start: 0, eventfds: [unmaskFd] });
      const unmask = f.process.eventfdOf(unmaskFd);
      let signals = 0;
      let sinceUnmask = 0;
      const violations: string[] = [];
      trigger.on('signal', () => {
        signals++;
        // Automasked: a second interrupt needs an unmask in between.
        if (++sinceUnmask > 1) violations.push('TRIGGER signalled twice without an unmask');
      });
      const run = (st: UnmaskStep): void => {
        if (st.op === 'assert') f.irqChip.setLevel(LEVEL_IRQ, true);
        else if (st.op === 'deassert') f.irqChip.setLevel(LEVEL_IRQ, false);
        else if (st.op === 'ack') {
          if (trigger.readable) trigger.read();
        } else if (st.op === 'mask-ioctl') f.handle.maskIrq(0);
        else {
          sinceUnmask = 0;
          if (st.op === 'unmask-eventfd') unmask.write(1);
          else f.handle.unmaskIrq(0);
        }
      };
      s.scheduleSequence(
        steps.map((st) => ({
          label: st.op,
          builder: async (): Promise<void> => {
            try {
              run(st);
            } catch (error) {
              violations.push(`${st.op} threw ${String(error)}`);
            }
          },
        })),
      );
      await s.waitAll();
      // Finally the device requests and keeps requesting; the VMM acks and unmasks through the
      // eventfd: exactly one interrupt must reach TRIGGER, after the unmask.
      run({ op: 'assert' });
      await s.waitAll();
      run({ op: 'ack' });
      const before = signals;
      run({ op: 'unmask-eventfd' });
      await s.waitAll();
      tasks.throwIfFailed();
      expect(violations).toEqual([]);
      // Lost: a handler ran (and automasked) but its signal was dropped inside a wakeup.
      expect(trigger.warnings, 'lost: a TRIGGER signal was dropped inside a wakeup').toEqual([]);
      expect(signals).toBe(f.irqChip.deliveries(LEVEL_IRQ));
      expect(signals - before).toBe(1);
      expect(irqs.irq(0).masked).toBe(true);
      expect(f.irqChip.depth(LEVEL_IRQ)).toBe(1);
    },
  );
}

describe('unmask racing a level line (virqfd_wakeup → enable_irq, fs/eventfd.c in_eventfd)', () => {
  it('no interrupt is lost or duplicated through unmask: every handler run signals TRIGGER once, none from inside a wakeup', async () => {
    await fc.assert(unmaskProperty(false), { numRuns: 100 });
  });

  it('fails on the planted synchronous delivery at enable_irq (the handler runs inside the UNMASK wakeup)', async () => {
    const result = await fc.check(unmaskProperty(true), { numRuns: 100 });
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toContain('dropped inside a wakeup');
  });
});
