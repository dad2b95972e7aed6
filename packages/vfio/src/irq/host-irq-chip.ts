/** `IRQ_TYPE_*` of include/linux/irq.h, as the interrupt specifier gives them. */
export type IrqTriggerType = 'edge-rising' | 'edge-falling' | 'edge-both' | 'level-high' | 'level-low';

/** What an interrupt handler returns (`irqreturn_t`). */
export type IrqReturn = 'handled' | 'none';

/** Options of {@link HostIrqChip.requestIrq}. */
export interface RequestIrqOptions {
  /** The action name (`/proc/interrupts`). */
  readonly name: string;
  /** `IRQF_NO_AUTOEN`: installed but left disabled (disable depth 1) until `enableIrq`. */
  readonly noAutoEn: boolean;
}

/**
 * The host's interrupt core as VFIO drivers use it (kernel/irq/manage.c): request/free and
 * the nesting disable depth. `@vfiokit/host` implements it over its GIC model; tests use
 * {@link SimpleIrqChip}.
 */
export interface HostIrqChip {
  /** `irq_get_trigger_type(irq)`. */
  triggerType(irq: number): IrqTriggerType;
  /** `request_irq`; `EBUSY` when the line has a handler, `EINVAL` for an unknown line. */
  requestIrq(irq: number, handler: () => IrqReturn, options: RequestIrqOptions): void;
  /** `free_irq`. */
  freeIrq(irq: number): void;
  /** `enable_irq`: depth − 1; at 0 the line is live again and what it missed is delivered. */
  enableIrq(irq: number): void;
  /** `disable_irq`: depth + 1, after running handlers finished (synchronous). */
  disableIrq(irq: number): void;
  /** `disable_irq_nosync`: depth + 1, from a handler. */
  disableIrqNosync(irq: number): void;
}

/** Whether a trigger type is level-sensitive (`IRQ_TYPE_LEVEL_MASK`). */
export function isLevel(type: IrqTriggerType): boolean {
  return type === 'level-high' || type === 'level-low';
}
