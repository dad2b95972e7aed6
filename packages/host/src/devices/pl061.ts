import type { AccessSize } from '@vfiokit/core';
import { primecellId, QemuRegisterDevice } from './qemu-register-device.js';

/** QEMU hw/gpio/pl061.c `pl061_id` (table at 0xfd0): PeriphID 0x00041061, PCellID 0xb105f00d. */
export const PL061_ID: readonly number[] = [
  0x00, 0x00, 0x00, 0x00, 0x61, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1,
];

/** Options of a {@link Pl061Model}. */
export interface Pl061Options {
  /** Drives the combined interrupt line (`qemu_set_irq(s->irq, (istate & im) != 0)`). */
  readonly irq?: (asserted: boolean) => void;
}

/**
 * The PL061 GPIO controller as QEMU models it (hw/gpio/pl061.c, the ARM variant): the masked
 * data window (0x000–0x3ff, address bits 2–9 select the pins; writes reach output pins only),
 * DIR, IS, IBE, IEV, IE, RIS, MIS, IC, AFSEL, the ID table from 0xfd0, and `pl061_update`'s
 * interrupt logic. Nothing drives the input pins (QEMU's gpio-keys line stays low), so input
 * edges never happen; a level-sensitive pin (`IS`) whose level equals `IEV` latches its raw
 * status at every update, and the line is high while `RIS & IE`.
 */
export class Pl061Model extends QemuRegisterDevice {
  readonly name = 'pl061';
  readonly size = 0x1000;
  private readonly irq: ((asserted: boolean) => void) | undefined;
  private data = 0;
  private dir = 0;
  private isense = 0;
  private ibe = 0;
  private iev = 0;
  private im = 0;
  private istate = 0;
  private afsel = 0;
  private level = false;

  constructor(options: Pl061Options = {}) {
    super();
    this.irq = options.irq;
  }

  /** Whether the interrupt line is asserted. */
  get irqLevel(): boolean {
    return this.level;
  }

  // pl061_read(): a switch on the exact offset.
  protected readRegister(offset: number, _size: AccessSize): number {
    if (offset < 0x400) return this.data & (offset >> 2);
    const id = primecellId(PL061_ID, 0xfd0, offset);
    if (id !== undefined) return id;
    switch (offset) {
      case 0x400:
        return this.dir;
      case 0x404:
        return this.isense;
      case 0x408:
        return this.ibe;
      case 0x40c:
        return this.iev;
      case 0x410:
        return this.im;
      case 0x414:
        return this.istate;
      case 0x418:
        return this.istate & this.im;
      case 0x420:
        return this.afsel;
      default:
        return 0; // "pl061_read: Bad offset" (the Luminary-only registers too)
    }
  }

  // pl061_write(): every decoded write ends in pl061_update(); a bad offset does not.
  protected writeRegister(offset: number, value: number, _size: AccessSize): void {
    if (offset < 0x400) {
      const mask = (offset >> 2) & this.dir;
      this.data = (this.data & ~mask) | (value & mask);
      this.update();
      return;
    }
    switch (offset) {
      case 0x400:
        this.dir = value & 0xff;
        break;
      case 0x404:
        this.isense = value & 0xff;
        break;
      case 0x408:
        this.ibe = value & 0xff;
        break;
      case 0x40c:
        this.iev = value & 0xff;
        break;
      case 0x410:
        this.im = value & 0xff;
        break;
      case 0x41c:
        this.istate &= ~value & 0xff;
        break;
      case 0x420:
        this.afsel = value & 0xff; // masked by CR, which is 0xff out of reset
        break;
      default:
        return;
    }
    this.update();
  }

  // pl061_update(): only the level-interrupt term can fire without external input.
  private update(): void {
    this.istate = (this.istate | (~(this.data ^ this.iev) & this.isense)) & 0xff;
    const level = (this.istate & this.im) !== 0;
    if (level === this.level) return;
    this.level = level;
    this.irq?.(level);
  }
}
