import type { AccessSize } from '@vfiokit/core';
import { primecellId, QemuRegisterDevice } from './qemu-register-device.js';

/** QEMU hw/gpio/pl061.c `pl061_id` (table at 0xfd0): PeriphID 0x00041061, PCellID 0xb105f00d. */
export const PL061_ID: readonly number[] = [
  0x00, 0x00, 0x00, 0x00, 0x61, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1,
];

const GPIODIR = 0x400;
const GPIOIC = 0x41c;
const GPIORIS = 0x414;
const GPIOMIS = 0x418;
const GPIOIE = 0x410;
// DIR, IS, IBE, IEV, IE, AFSEL: plain 8-bit registers.
const STORED = new Set([GPIODIR, 0x404, 0x408, 0x40c, GPIOIE, 0x420]);

/**
 * The PL061 GPIO controller, reduced: the masked data window (0x000–0x3fc, address bits 2–9
 * select the pins), the 8-bit configuration registers, no interrupt sources, and the
 * PrimeCell ID block.
 */
export class Pl061Model extends QemuRegisterDevice {
  readonly name = 'pl061';
  readonly size = 0x1000;
  private data = 0;
  private readonly regs = new Map<number, number>();

  // pl061_read(): the data window, the ID table from 0xfd0, else the exact offset.
  protected readRegister(offset: number, _size: AccessSize): number {
    if (offset < 0x400) return this.data & (offset >> 2);
    const id = primecellId(PL061_ID, 0xfd0, offset);
    if (id !== undefined) return id;
    if (offset === GPIORIS || offset === GPIOMIS) return 0;
    return STORED.has(offset) ? (this.regs.get(offset) ?? 0) : 0;
  }

  protected writeRegister(offset: number, value: number, _size: AccessSize): void {
    if (offset < 0x400) {
      const mask = (offset >> 2) & (this.regs.get(GPIODIR) ?? 0);
      this.data = (this.data & ~mask) | (value & mask);
      return;
    }
    if (offset === GPIOIC) return;
    if (STORED.has(offset)) this.regs.set(offset, value & 0xff);
  }
}
