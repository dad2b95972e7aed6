import { ImmediateScheduler, KernelError, rejectUnknownOptions, type Scheduler } from '@vfiokit/core';
import {
  type HostIrqChip,
  type IrqReturn,
  type IrqTriggerType,
  isLevel,
  type RequestIrqOptions,
} from './host-irq-chip.js';

interface Line {
  readonly type: IrqTriggerType;
  handler: (() => IrqReturn) | null;
  name: string;
  depth: number;
  /** Level lines: asserted by the device. */
  asserted: boolean;
  /** Edge lines: `IRQS_PENDING`, an edge seen while disabled, replayed on enable. */
  pending: boolean;
  delivered: number;
}

/**
 * A host interrupt controller with genirq's rules (kernel/irq/manage.c, chip.c, resend.c):
 * a nesting disable depth; an edge that arrives while the line is disabled is remembered and
 * replayed by `enable_irq`; a level line fires while asserted whenever it is enabled.
 * Device-side events (`pulse`, `setLevel`) are delivered through the scheduler, so tests can
 * interleave them with user-space calls.
 *
 * What `enable_irq` finds due — a level line still asserted, an edge that waited — is also
 * taken through the scheduler (`irq N level resend` / `irq N edge retrigger`), never inside
 * `enableIrq`: `__enable_irq` (kernel/irq/manage.c) only unmasks the line at the chip and calls
 * `check_irq_resend` (kernel/irq/resend.c), which is "called with interrupts disabled" and
 * leaves a level interrupt to the hardware ("Level type interrupts are resent by hardware
 * when they are still active") and an edge to `irq_retrigger` (the GIC sets the line pending)
 * or the resend tasklet. Either way the CPU takes it only once local interrupts are on again.
 * That matters when `enable_irq` runs inside an eventfd wakeup (vfio's UNMASK virqfd,
 * drivers/vfio/virqfd.c `virqfd_wakeup`, called under the eventfd's `spin_lock_irqsave`): the
 * handler's `eventfd_signal` then comes after the wakeup returned, outside `in_eventfd`
 * (fs/eventfd.c clears it before `spin_unlock_irq`), so it is not dropped. The task looks at
 * the line again when it runs: a line disabled or de-asserted meanwhile gets nothing, and a
 * delivery that already happened is not repeated. The scheduler decides when "after" is: with
 * the default `ImmediateScheduler` a re-enable from outside any task is taken at once (as
 * from a SET_IRQS ioctl), but one from inside an eventfd wakeup that no scheduler task
 * encloses still runs inside it; a host whose eventfds wake virqfds injects a deferring one.
 */
export class SimpleIrqChip implements HostIrqChip {
  private readonly lines = new Map<number, Line>();
  private readonly scheduler: Scheduler;

  constructor(
    lines: Readonly<Record<number, IrqTriggerType>>,
    scheduler: Scheduler = new ImmediateScheduler(),
  ) {
    this.scheduler = scheduler;
    for (const [irq, type] of Object.entries(lines)) {
      this.lines.set(Number(irq), {
        type,
        handler: null,
        name: '',
        depth: 1,
        asserted: false,
        pending: false,
        delivered: 0,
      });
    }
  }

  triggerType(irq: number): IrqTriggerType {
    return this.line(irq).type;
  }

  requestIrq(irq: number, handler: () => IrqReturn, options: RequestIrqOptions): void {
    rejectUnknownOptions(options, ['name', 'noAutoEn'], 'requestIrq');
    const line = this.line(irq);
    if (line.handler !== null) throw new KernelError('EBUSY', `irq ${irq} is taken by ${line.name}`);
    line.handler = handler;
    line.name = options.name;
    line.depth = options.noAutoEn ? 1 : 0;
    line.pending = false;
    if (line.depth === 0) this.resendIfDue(irq, line);
  }

  freeIrq(irq: number): void {
    const line = this.line(irq);
    if (line.handler === null) throw new KernelError('EINVAL', `irq ${irq} has no handler to free`);
    line.handler = null;
    line.depth = 1;
    line.pending = false;
  }

  enableIrq(irq: number): void {
    const line = this.line(irq);
    if (line.depth === 0) throw new KernelError('EINVAL', `Unbalanced enable for IRQ ${irq}`);
    line.depth--;
    if (line.depth === 0) this.resendIfDue(irq, line);
  }

  disableIrq(irq: number): void {
    this.line(irq).depth++;
  }

  disableIrqNosync(irq: number): void {
    this.line(irq).depth++;
  }

  /** The device raised an edge. */
  pulse(irq: number): void {
    this.scheduler.schedule(`irq ${irq} edge`, () => {
      const line = this.line(irq);
      if (line.handler === null || line.depth > 0) {
        line.pending = true;
        return;
      }
      this.run(line);
    });
  }

  /** The device drives its level line. */
  setLevel(irq: number, asserted: boolean): void {
    this.scheduler.schedule(`irq ${irq} level ${asserted ? 'high' : 'low'}`, () => {
      const line = this.line(irq);
      const was = line.asserted;
      line.asserted = asserted;
      if (isLevel(line.type)) {
        if (asserted) this.deliverIfDue(irq, line);
        return;
      }
      // On a line configured for edges, the controller's edge detector latches the device
      // output's transition (the GIC: rising edge for SPIs) — the same as a pulse.
      const rising = !was && asserted;
      const falling = was && !asserted;
      const edge =
        line.type === 'edge-both' ? rising || falling : line.type === 'edge-falling' ? falling : rising;
      if (!edge) return;
      if (line.handler === null || line.depth > 0) {
        line.pending = true;
        return;
      }
      this.run(line);
    });
  }

  /** The current disable depth (0 = enabled). */
  depth(irq: number): number {
    return this.line(irq).depth;
  }

  /** Whether a handler is installed. */
  hasHandler(irq: number): boolean {
    return this.line(irq).handler !== null;
  }

  /** Whether an edge waits to be replayed (`IRQS_PENDING`). */
  pendingEdge(irq: number): boolean {
    return this.line(irq).pending;
  }

  /** How many times the handler ran. */
  deliveries(irq: number): number {
    return this.line(irq).delivered;
  }

  // __enable_irq → check_irq_resend (kernel/irq/resend.c): what is due is taken after the
  // caller returns, when the CPU has interrupts on again — never synchronously.
  private resendIfDue(irq: number, line: Line): void {
    const level = isLevel(line.type);
    if (level ? !line.asserted : !line.pending) return;
    this.scheduler.schedule(`irq ${irq} ${level ? 'level resend' : 'edge retrigger'}`, () =>
      this.deliverIfDue(irq, line),
    );
  }

  // A level line fires while asserted and enabled; an edge that waited is replayed once.
  private deliverIfDue(_irq: number, line: Line): void {
    if (line.handler === null || line.depth > 0) return;
    if (isLevel(line.type)) {
      if (line.asserted) this.run(line);
    } else if (line.pending) {
      line.pending = false;
      this.run(line);
    }
  }

  private run(line: Line): void {
    const handler = line.handler;
    if (handler === null) return;
    line.delivered++;
    handler();
  }

  private line(irq: number): Line {
    const line = this.lines.get(irq);
    if (line === undefined) throw new KernelError('EINVAL', `irq ${irq} does not exist`);
    return line;
  }
}
