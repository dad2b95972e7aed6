import { ManualScheduler } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import {
  EDGE_IRQ,
  LEVEL_IRQ,
  type OpenedPlatformFixture,
  openedPlatformFixture,
} from '../test-support/platform-fixture.js';
import {
  VFIO_IRQ_INFO_AUTOMASKED,
  VFIO_IRQ_INFO_EVENTFD,
  VFIO_IRQ_INFO_MASKABLE,
  VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
} from '../uapi/flags.js';
import { VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_SET_IRQS } from '../uapi/ioctls.js';
import { encodeIrqSet, vfioIrqInfo, vfioIrqSet } from '../uapi/structs-irq.js';

const EVENTFD_TRIGGER = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;

function trigger(f: OpenedPlatformFixture, index: number): { fd: number; count: () => bigint } {
  const fd = f.process.eventfd();
  f.handle.setIrqs({ action: 'trigger', index, start: 0, eventfds: [fd] });
  const eventfd = f.process.eventfdOf(fd);
  return { fd, count: () => eventfd.count };
}

function raw(
  f: OpenedPlatformFixture,
  fields: Partial<{ argsz: number; flags: number; index: number; start: number; count: number }>,
  payload = 4,
): string | undefined {
  const bytes = new Uint8Array(20 + payload);
  vfioIrqSet.encode(
    { argsz: 20 + payload, flags: EVENTFD_TRIGGER, index: 0, start: 0, count: 1, ...fields },
    bytes,
  );
  new DataView(bytes.buffer).setInt32(20, -1, true);
  return thrownErrno(() => f.process.ioctl(f.handle.fd, VFIO_DEVICE_SET_IRQS, bytes));
}

describe('IRQ info (vfio_platform_irq_init)', () => {
  it('one index per IRQ: level = EVENTFD|MASKABLE|AUTOMASKED, edge = EVENTFD; count 1', () => {
    const f = openedPlatformFixture();
    expect(f.handle.irqInfo(0)).toEqual({
      index: 0,
      flags: VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED,
      count: 1,
    });
    expect(f.handle.irqInfo(1)).toEqual({ index: 1, flags: VFIO_IRQ_INFO_EVENTFD, count: 1 });
    expect(thrownErrno(() => f.handle.irqInfo(2))).toBe('EINVAL');
    // minsz = offsetofend(struct vfio_irq_info, count) = 16.
    const short = vfioIrqInfo.encode({ argsz: 15, flags: 0, index: 0, count: 0 });
    expect(thrownErrno(() => f.process.ioctl(f.handle.fd, VFIO_DEVICE_GET_IRQ_INFO, short))).toBe('EINVAL');
    const exact = vfioIrqInfo.encode({ argsz: 16, flags: 0, index: 0, count: 0 });
    f.process.ioctl(f.handle.fd, VFIO_DEVICE_GET_IRQ_INFO, exact);
    expect(vfioIrqInfo.decode(exact).count).toBe(1);
  });

  it('handlers are installed disabled at open and freed at close', () => {
    const f = openedPlatformFixture();
    expect(f.irqChip.hasHandler(LEVEL_IRQ)).toBe(true);
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(1);
    f.handle.close();
    expect(f.irqChip.hasHandler(LEVEL_IRQ)).toBe(false);
  });
});

describe('SET_IRQS validation (vfio_set_irqs_validate_and_prepare, vfio_platform_set_irqs_ioctl)', () => {
  it.each([
    ['argsz below 20', { argsz: 19 }, 'EINVAL'],
    ['index past num_irqs', { index: 2 }, 'EINVAL'],
    ['start past num_irqs', { start: 2 }, 'EINVAL'],
    ['start + count past num_irqs', { start: 1, count: 2 }, 'EINVAL'],
    ['count ≥ U32_MAX − start', { start: 1, count: 0xffff_fffe }, 'EINVAL'],
    ['an unknown flag', { flags: EVENTFD_TRIGGER | 0x40 }, 'EINVAL'],
    ['two data types', { flags: EVENTFD_TRIGGER | VFIO_IRQ_SET_DATA_BOOL }, 'EINVAL'],
    ['no data type', { flags: VFIO_IRQ_SET_ACTION_TRIGGER }, 'EINVAL'],
    ['argsz too small for the payload', { argsz: 23 }, 'EINVAL'],
    ['no action', { flags: VFIO_IRQ_SET_DATA_EVENTFD }, 'ENOTTY'],
    ['two actions', { flags: EVENTFD_TRIGGER | VFIO_IRQ_SET_ACTION_MASK }, 'ENOTTY'],
    ['TRIGGER with start 1 (passes the quirky validation)', { start: 1 }, 'EINVAL'],
    ['MASK of an edge IRQ', { index: 1, flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK }, 'EINVAL'],
  ])('%s → %s', (_name, fields, code) => {
    expect(raw(openedPlatformFixture(), fields)).toBe(code);
  });

  it('EFAULT when argsz claims more payload than the buffer holds', () => {
    const f = openedPlatformFixture();
    const bytes = vfioIrqSet.encode({ argsz: 24, flags: EVENTFD_TRIGGER, index: 0, start: 0, count: 1 });
    expect(thrownErrno(() => f.process.ioctl(f.handle.fd, VFIO_DEVICE_SET_IRQS, bytes))).toBe('EFAULT');
  });

  it('EBADF for a closed fd, EINVAL for an fd that is not an eventfd, EBUSY for a second unmask eventfd', () => {
    const f = openedPlatformFixture();
    expect(
      thrownErrno(() => f.handle.setIrqs({ action: 'trigger', index: 0, start: 0, eventfds: [99] })),
    ).toBe('EBADF');
    expect(
      thrownErrno(() => f.handle.setIrqs({ action: 'trigger', index: 0, start: 0, eventfds: [f.handle.fd] })),
    ).toBe('EINVAL');
    const unmask = { action: 'unmask', index: 0, start: 0 } as const;
    f.handle.setIrqs({ ...unmask, eventfds: [f.process.eventfd()] });
    expect(thrownErrno(() => f.handle.setIrqs({ ...unmask, eventfds: [f.process.eventfd()] }))).toBe('EBUSY');
    f.handle.setIrqs({ ...unmask, eventfds: [null] });
    f.handle.setIrqs({ ...unmask, eventfds: [f.process.eventfd()] });
  });
});

describe('level IRQs: automask, unmask, resamplefd', () => {
  it('the automasked handler masks and signals once; UNMASK re-enables and a still-asserted line fires again', () => {
    const f = openedPlatformFixture();
    const t = trigger(f, 0);
    f.irqChip.setLevel(LEVEL_IRQ, true);
    expect(t.count()).toBe(1n);
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(1);
    f.handle.setIrqs({ action: 'unmask', index: 0, start: 0, count: 1 });
    expect(t.count()).toBe(2n);
    f.irqChip.setLevel(LEVEL_IRQ, false);
    f.handle.setIrqs({ action: 'unmask', index: 0, start: 0, bools: [true] });
    expect(t.count()).toBe(2n);
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(0);
  });

  it('an unmask eventfd (what a KVM resamplefd is) unmasks when signalled', () => {
    const f = openedPlatformFixture();
    const t = trigger(f, 0);
    const resample = f.process.eventfd();
    f.handle.setIrqs({ action: 'unmask', index: 0, start: 0, eventfds: [resample] });
    f.irqChip.setLevel(LEVEL_IRQ, true);
    expect(t.count()).toBe(1n);
    f.irqChip.setLevel(LEVEL_IRQ, false);
    f.process.eventfdOf(resample).write(1);
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(0);
    f.irqChip.setLevel(LEVEL_IRQ, true);
    expect(t.count()).toBe(2n);
  });

  it('a MASK before the trigger keeps the line disabled after it (nested disable depth)', () => {
    const f = openedPlatformFixture();
    f.handle.setIrqs({ action: 'mask', index: 0, start: 0, count: 1 });
    const t = trigger(f, 0);
    f.irqChip.setLevel(LEVEL_IRQ, true);
    expect(t.count()).toBe(0n);
    f.handle.setIrqs({ action: 'unmask', index: 0, start: 0, count: 1 });
    expect(t.count()).toBe(1n);
  });

  it('loopback TRIGGER on a level IRQ signals and automasks; BOOL 0 does nothing', () => {
    const f = openedPlatformFixture();
    const t = trigger(f, 0);
    f.handle.setIrqs({ action: 'trigger', index: 0, start: 0, bools: [false] });
    expect(t.count()).toBe(0n);
    f.handle.setIrqs({ action: 'trigger', index: 0, start: 0, count: 1 });
    f.handle.setIrqs({ action: 'trigger', index: 0, start: 0, count: 1 });
    expect(t.count()).toBe(1n);
  });
});

describe('edge IRQs and trigger changes', () => {
  it('an edge before any trigger is kept pending (line disabled) and delivered when the trigger is set', () => {
    const f = openedPlatformFixture();
    f.irqChip.pulse(EDGE_IRQ);
    const t = trigger(f, 1);
    expect(t.count()).toBe(1n);
    f.irqChip.pulse(EDGE_IRQ);
    f.irqChip.pulse(EDGE_IRQ);
    expect(t.count()).toBe(3n);
  });

  it('DATA_NONE count 0 disables the trigger; the old eventfd gets nothing more', () => {
    const f = openedPlatformFixture();
    const old = trigger(f, 1);
    f.handle.setIrqs({ action: 'trigger', index: 1, start: 0, count: 0 });
    f.irqChip.pulse(EDGE_IRQ);
    expect(old.count()).toBe(0n);
    const next = trigger(f, 1);
    expect(next.count()).toBe(1n);
    expect(
      f.process.ioctl(
        f.handle.fd,
        VFIO_DEVICE_SET_IRQS,
        encodeIrqSet({
          flags: VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER,
          index: 1,
          start: 0,
          count: 1,
          data: [1],
        }),
      ),
    ).toBe(0);
    expect(next.count()).toBe(2n);
  });
});

describe('request_irq failures', () => {
  it('are stored at open and returned by every SET_IRQS on that index (other indexes work)', () => {
    const f = openedPlatformFixture({ busyIrqs: [EDGE_IRQ] });
    expect(thrownErrno(() => trigger(f, 1))).toBe('EBUSY');
    expect(thrownErrno(() => f.handle.setIrqs({ action: 'trigger', index: 1, start: 0, count: 0 }))).toBe(
      'EBUSY',
    );
    trigger(f, 0);
    f.handle.close();
    expect(f.irqChip.hasHandler(EDGE_IRQ)).toBe(true);
  });
});

describe('MASK / UNMASK details (vfio_platform_set_irq_mask / _unmask, virqfd.c)', () => {
  it('MASK and UNMASK with DATA_BOOL 0 do nothing', () => {
    const f = openedPlatformFixture();
    const t = trigger(f, 0);
    f.handle.setIrqs({ action: 'mask', index: 0, bools: [false] });
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(0);
    f.irqChip.setLevel(LEVEL_IRQ, true);
    expect(t.count()).toBe(1n);
    f.handle.setIrqs({ action: 'unmask', index: 0, bools: [false] });
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(1);
    f.irqChip.setLevel(LEVEL_IRQ, false);
    f.handle.setIrqs({ action: 'unmask', index: 0, bools: [true] });
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(0);
  });

  it('a double MASK disables the line once: one UNMASK re-enables it', () => {
    const f = openedPlatformFixture();
    trigger(f, 0);
    f.handle.maskIrq(0);
    f.handle.maskIrq(0);
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(1);
    f.handle.unmaskIrq(0);
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(0);
  });

  it('the unmask virqfd consumes the eventfd count when it runs (eventfd_ctx_do_read in virqfd_wakeup)', () => {
    const f = openedPlatformFixture();
    trigger(f, 0);
    const resample = f.process.eventfd();
    f.handle.setIrqs({ action: 'unmask', index: 0, eventfds: [resample] });
    f.irqChip.setLevel(LEVEL_IRQ, true);
    f.irqChip.setLevel(LEVEL_IRQ, false);
    const eventfd = f.process.eventfdOf(resample);
    eventfd.write(3);
    expect(eventfd.count).toBe(0n);
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(0);
  });

  it('loopback TRIGGER before any eventfd is set runs the handler without one (the CVE-2024-26813 NULL trigger)', () => {
    const f = openedPlatformFixture();
    f.handle.setIrqs({ action: 'trigger', index: 1, count: 1 });
    f.handle.setIrqs({ action: 'trigger', index: 0, bools: [true] });
    // The level handler automasked; a trigger set afterwards sees the line masked.
    expect(f.irqChip.depth(LEVEL_IRQ)).toBeGreaterThan(0);
    const t = trigger(f, 1);
    f.handle.setIrqs({ action: 'trigger', index: 1, count: 1 });
    expect(t.count()).toBe(1n);
  });
});

// drivers/vfio/virqfd.c virqfd_wakeup runs vfio_platform_unmask_handler inline, inside the
// UNMASK eventfd's wakeup (fs/eventfd.c sets current->in_eventfd around it, under
// spin_lock_irq(&ctx->wqh.lock)); enable_irq (kernel/irq/manage.c __enable_irq) only unmasks
// the line, and check_irq_resend (kernel/irq/resend.c) leaves a still-asserted level line to
// the hardware, taken once interrupts are on again — after the wakeup returned. So
// vfio_platform_interrupt's eventfd_signal is not inside in_eventfd and is not dropped.
describe('a level line still asserted at unmask is taken after the unmask wakeup (virqfd_wakeup → enable_irq)', () => {
  it('UNMASK eventfd with the line still high: TRIGGER signalled exactly once, no in_eventfd warning', () => {
    const tasks = new ManualScheduler();
    const f = openedPlatformFixture({ scheduler: tasks });
    const t = trigger(f, 0);
    const triggerFd = f.process.eventfdOf(t.fd);
    const unmask = f.process.eventfd();
    f.handle.setIrqs({ action: 'unmask', index: 0, start: 0, eventfds: [unmask] });
    f.irqChip.setLevel(LEVEL_IRQ, true);
    tasks.runAll();
    expect(t.count()).toBe(1n);
    expect(triggerFd.read()).toBe(1n); // the VMM consumed the interrupt
    // The device keeps its line high; the VMM (or KVM's resamplefd) signals UNMASK.
    f.process.eventfdOf(unmask).write(1);
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(0); // enable_irq ran inside the wakeup
    expect(tasks.pending.map((task) => task.label)).toEqual([`irq ${LEVEL_IRQ} level resend`]);
    expect(t.count()).toBe(0n);
    tasks.runAll();
    expect(t.count()).toBe(1n);
    expect(triggerFd.warnings).toEqual([]);
    expect(f.irqChip.deliveries(LEVEL_IRQ)).toBe(2);
    expect(f.irqChip.depth(LEVEL_IRQ)).toBe(1); // automasked again, waiting for the next unmask
    tasks.runAll();
    expect(t.count()).toBe(1n);
  });

  it('a device that re-asserts its line from inside an eventfd wakeup is taken after it, once', () => {
    const tasks = new ManualScheduler();
    const f = openedPlatformFixture({ scheduler: tasks });
    const t = trigger(f, 0);
    const triggerFd = f.process.eventfdOf(t.fd);
    const unmask = f.process.eventfd();
    f.handle.setIrqs({ action: 'unmask', index: 0, start: 0, eventfds: [unmask] });
    f.irqChip.setLevel(LEVEL_IRQ, true);
    tasks.runAll();
    triggerFd.read();
    f.irqChip.setLevel(LEVEL_IRQ, false);
    tasks.runAll();
    // A device model listening on the same eventfd (an EOI it reacts to) raises again.
    f.process.eventfdOf(unmask).on('signal', () => f.irqChip.setLevel(LEVEL_IRQ, true));
    f.process.eventfdOf(unmask).write(1);
    tasks.runAll();
    expect(t.count()).toBe(1n);
    expect(triggerFd.warnings).toEqual([]);
  });

  it('the resend looks at the line when it runs: masked or de-asserted meanwhile, nothing; re-enabled twice, one delivery', () => {
    const tasks = new ManualScheduler();
    const f = openedPlatformFixture({ scheduler: tasks });
    const t = trigger(f, 0);
    f.irqChip.setLevel(LEVEL_IRQ, true);
    tasks.runAll();
    expect(t.count()).toBe(1n);
    f.handle.unmaskIrq(0);
    f.handle.maskIrq(0); // masked again before the CPU took it
    tasks.runAll();
    expect(t.count()).toBe(1n);
    f.handle.unmaskIrq(0);
    f.irqChip.setLevel(LEVEL_IRQ, false);
    expect(tasks.run(1)).toBe(`irq ${LEVEL_IRQ} level low`); // the device dropped its request first
    tasks.runAll();
    expect(t.count()).toBe(1n);
    f.irqChip.setLevel(LEVEL_IRQ, true);
    tasks.runAll();
    expect(t.count()).toBe(2n);
    f.handle.unmaskIrq(0);
    f.handle.maskIrq(0);
    f.handle.unmaskIrq(0); // two resends queued, one interrupt
    expect(tasks.pending).toHaveLength(2);
    tasks.runAll();
    expect(t.count()).toBe(3n);
    expect(f.irqChip.deliveries(LEVEL_IRQ)).toBe(3);
  });

  it('an edge that waited is replayed after enable_irq returns (check_irq_resend → irq_retrigger), once', () => {
    const tasks = new ManualScheduler();
    const f = openedPlatformFixture({ scheduler: tasks });
    f.irqChip.pulse(EDGE_IRQ);
    tasks.runAll();
    expect(f.irqChip.pendingEdge(EDGE_IRQ)).toBe(true);
    const t = trigger(f, 1);
    expect(t.count()).toBe(0n);
    expect(tasks.pending.map((task) => task.label)).toEqual([`irq ${EDGE_IRQ} edge retrigger`]);
    tasks.runAll();
    expect(t.count()).toBe(1n);
    expect(f.irqChip.pendingEdge(EDGE_IRQ)).toBe(false);
  });
});
