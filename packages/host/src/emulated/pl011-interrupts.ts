import type { AccessSize } from '@vfiokit/core';
import { Pl011Model } from '../devices/pl011.js';

const UARTDR = 0x00;
const UARTIMSC = 0x38;
const UARTRIS = 0x3c;
const UARTMIS = 0x40;
const UARTICR = 0x44;
/** `INT_TX` (UARTRIS bit 5, TXRIS). */
export const PL011_INT_TX: number = 1 << 5;

/** Options of a {@link Pl011InterruptModel}. */
export interface Pl011InterruptOptions {
  /** Drives UARTINTR (`qemu_set_irq(s->irq[0], (int_level & int_enabled) != 0)`). */
  readonly irq?: (asserted: boolean) => void;
}

/**
 * The PL011 register model with QEMU's transmit interrupt (hw/char/pl011.c): a write to UARTDR
 * transmits at once and sets `INT_TX` in `int_level` (`pl011_write_txdata`: `s->int_level |=
 * INT_TX; pl011_update(s)`), UARTIMSC is `int_enabled`, UARTRIS reads `int_level`, UARTMIS
 * `int_level & int_enabled`, UARTICR clears the bits written, and the combined line is high
 * while `int_level & int_enabled`. Everything else is {@link Pl011Model}. (No receive path:
 * nothing feeds the FIFO, so RX/RT never rise, as on QEMU virt without input.)
 */
export class Pl011InterruptModel extends Pl011Model {
  private readonly irq: ((asserted: boolean) => void) | undefined;
  private intLevel = 0;
  private asserted = false;

  constructor(options: Pl011InterruptOptions = {}) {
    super();
    this.irq = options.irq;
  }

  protected override readRegister(offset: number, size: AccessSize): number {
    const word = offset & ~3;
    if (word === UARTRIS) return this.intLevel;
    if (word === UARTMIS) return this.intLevel & this.intEnabled();
    return super.readRegister(offset, size);
  }

  protected override writeRegister(offset: number, value: number, size: AccessSize): void {
    super.writeRegister(offset, value, size);
    const word = offset & ~3;
    if (word === UARTDR) this.intLevel |= PL011_INT_TX;
    else if (word === UARTICR) this.intLevel &= ~value;
    else if (word !== UARTIMSC) return;
    this.update();
  }

  private intEnabled(): number {
    return super.readRegister(UARTIMSC, 4);
  }

  // pl011_update: the combined line follows `int_level & int_enabled`.
  private update(): void {
    const level = (this.intLevel & this.intEnabled()) !== 0;
    if (level === this.asserted) return;
    this.asserted = level;
    this.irq?.(level);
  }
}
