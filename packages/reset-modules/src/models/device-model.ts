import type { MmioDevice } from '@vfiokit/core';
import type { IrqSink } from './irq-lines.js';

/**
 * What a register-level device model exposes besides its MMIO regions: model time, its
 * interrupt outputs and a few introspection facts. Time moves only through `tick` (and a reset
 * target's `delay`, which calls it), so runs are deterministic.
 *
 * The quiescence property observes a model only from outside — the bus accesses on its
 * `DmaPort`, the lines it drives into the sink given to `connectIrq`, and its registers
 * (`guestState`) — never through `dmaActive`/`irqAsserted`/`interruptsEnabled`/
 * `interruptsPending`, which are for diagnostics and coverage checks.
 */
export interface DeviceModel {
  /** The model's MMIO regions in `reg` order. */
  readonly regions: readonly MmioDevice[];
  /** Advances model time by `microseconds`, letting DMA engines and timers progress. */
  tick(microseconds: number): void;
  /**
   * Drives the model's interrupt output lines into `sink` from now on: every line's level at
   * once, then each change (after register accesses, time and external events).
   */
  connectIrq(sink: IrqSink): void;
  /** Whether a DMA engine is running: it may issue bus accesses without further register writes. */
  dmaActive(): boolean;
  /** Whether any interrupt output line is asserted now. */
  irqAsserted(): boolean;
  /** Whether any interrupt source is enabled to reach a line. */
  interruptsEnabled(): boolean;
  /** Whether any interrupt status (raw, latched) bit is set. */
  interruptsPending(): boolean;
  /** Every guest-readable register by name, as a guest would read it. */
  guestState(): ReadonlyMap<string, number>;
  /** Power-on reset of the whole device (what a reset-controller line or power cycle does). */
  hardwareReset(): void;
}
