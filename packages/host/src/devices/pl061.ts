import { primecellIdWord, WordDevice } from './word-device.js';

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
export class Pl061Model extends WordDevice {
  readonly name = 'pl061';
  readonly size = 0x1000;
  private data = 0;
  private readonly regs = new Map<number, number>();

  protected readWord(word: number): number {
    const id = primecellIdWord(PL061_ID, 0xfd0, word);
    if (id !== undefined) return id;
    if (word < 0x400) return this.data & (word >> 2);
    if (word === GPIORIS || word === GPIOMIS) return 0;
    return STORED.has(word) ? (this.regs.get(word) ?? 0) : 0;
  }

  protected writeWord(word: number, value: number): void {
    if (word < 0x400) {
      const mask = (word >> 2) & (this.regs.get(GPIODIR) ?? 0);
      this.data = (this.data & ~mask) | (value & mask);
      return;
    }
    if (word === GPIOIC) return;
    if (STORED.has(word)) this.regs.set(word, value & 0xff);
  }
}
