import type { IrqSink } from '../models/irq-lines.js';

/**
 * An interrupt controller's view of a device for tests: the level of every line the device
 * drives and the assertions (rising edges) since the last {@link resetCount}. The quiescence
 * property connects one to the model, so it sees interrupts as the host would.
 */
export class IrqRecorder implements IrqSink {
  private readonly levels = new Map<string, boolean>();
  private readonly rises = new Map<string, number>();

  setLevel(line: string, asserted: boolean): void {
    if (asserted && this.levels.get(line) !== true) this.rises.set(line, (this.rises.get(line) ?? 0) + 1);
    this.levels.set(line, asserted);
  }

  /** Lines asserted now, in the order the device first drove them. */
  asserted(): string[] {
    return [...this.levels].filter(([, level]) => level).map(([line]) => line);
  }

  /** Rising edges per line since the last {@link resetCount} (lines without one are left out). */
  assertions(): ReadonlyMap<string, number> {
    return new Map(this.rises);
  }

  /** Whether any line has risen since the last {@link resetCount}. */
  get anyAsserted(): boolean {
    return this.rises.size > 0;
  }

  resetCount(): void {
    this.rises.clear();
  }
}
