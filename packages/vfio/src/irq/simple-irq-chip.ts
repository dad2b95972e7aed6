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
    if (line.depth === 0) this.deliverIfDue(irq, line);
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
    if (line.depth === 0) this.deliverIfDue(irq, line);
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
      line.asserted = asserted;
      if (asserted) this.deliverIfDue(irq, line);
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

  // check_irq_resend for edges; a level line simply fires while asserted.
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
