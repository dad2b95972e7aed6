import { KernelError } from '@vfiokit/core';
import type { ResetControl } from './providers.js';

/**
 * A reset controller (drivers/reset/core.c: a `reset_controller_dev` with `.reset` ops) whose
 * lines are wired to device models: pulsing line `id` runs what is connected to it, usually a
 * model's `hardwareReset`. `control(id)` is what `of_reset_control_get_exclusive` returns for a
 * `resets = <&controller id>` entry.
 */
export class ResetControllerModel {
  readonly name: string;
  private readonly lines = new Map<number, () => void>();
  private readonly pulses: number[] = [];

  constructor(name: string) {
    this.name = name;
  }

  /** Wires line `id` to `onReset`; `EEXIST` when the line is wired already. */
  connect(id: number, onReset: () => void): void {
    if (this.lines.has(id))
      throw new KernelError('EEXIST', `${this.name}: reset line ${id} is connected already`);
    this.lines.set(id, onReset);
  }

  /** The control for line `id`; `EINVAL` for a line nothing is connected to (`of_xlate` fails). */
  control(id: number): ResetControl {
    if (!this.lines.has(id)) throw new KernelError('EINVAL', `${this.name}: no reset line ${id}`);
    return {
      controller: this.name,
      id,
      reset: () => {
        this.pulses.push(id);
        this.lines.get(id)?.();
      },
    };
  }

  /** Lines pulsed so far, in order. */
  history(): readonly number[] {
    return [...this.pulses];
  }
}
