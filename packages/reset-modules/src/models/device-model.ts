import type { MmioDevice } from '@vfiokit/core';

/**
 * What a register-level device model exposes besides its MMIO regions: model time and the
 * observable facts the quiescence property checks. Time moves only through `tick` (and a
 * reset target's `delay`, which calls it), so runs are deterministic.
 */
export interface DeviceModel {
  /** The model's MMIO regions in `reg` order. */
  readonly regions: readonly MmioDevice[];
  /** Advances model time by `microseconds`, letting DMA engines and timers progress. */
  tick(microseconds: number): void;
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
