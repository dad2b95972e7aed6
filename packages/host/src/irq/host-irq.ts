import { KernelError } from '@vfiokit/core';
import type { HostIrqChip, IrqReturn, IrqTriggerType, RequestIrqOptions, SimpleIrqChip } from '@vfiokit/vfio';

/**
 * The host's interrupt lines: vfio's `SimpleIrqChip` (genirq's disable depth, edge replay,
 * level lines) plus the per-line `IRQ_NOREQUEST` setting of kernel/irq/settings.h, which
 * `request_threaded_irq()` checks first (`EINVAL`). A chained handler
 * (`irq_set_chained_handler_and_data`, as gpiolib installs for a GPIO controller's parent
 * interrupt) sets it, and removing the handler again (handler NULL) does not clear it: once
 * `pl061_gpio` has bound, the PL061's line can never be requested, by vfio either.
 */
export class HostIrqLines implements HostIrqChip {
  /** The lines themselves (device models drive them with `setLevel` / `pulse`). */
  readonly chip: SimpleIrqChip;
  private readonly noRequest = new Set<number>();

  constructor(chip: SimpleIrqChip) {
    this.chip = chip;
  }

  /** `irq_set_chained_handler_and_data(irq, handler, data)`: the line becomes IRQ_NOREQUEST, for good. */
  setChainedHandler(irq: number): void {
    this.chip.triggerType(irq); // EINVAL for a line that does not exist
    this.noRequest.add(irq);
  }

  /** Whether `request_irq` would refuse the line (`!irq_settings_can_request`). */
  isNoRequest(irq: number): boolean {
    return this.noRequest.has(irq);
  }

  triggerType(irq: number): IrqTriggerType {
    return this.chip.triggerType(irq);
  }

  requestIrq(irq: number, handler: () => IrqReturn, options: RequestIrqOptions): void {
    if (this.noRequest.has(irq)) {
      throw new KernelError('EINVAL', `irq ${irq} is IRQ_NOREQUEST (a chained handler was installed on it)`);
    }
    this.chip.requestIrq(irq, handler, options);
  }

  freeIrq(irq: number): void {
    this.chip.freeIrq(irq);
  }

  enableIrq(irq: number): void {
    this.chip.enableIrq(irq);
  }

  disableIrq(irq: number): void {
    this.chip.disableIrq(irq);
  }

  disableIrqNosync(irq: number): void {
    this.chip.disableIrqNosync(irq);
  }
}
