import type { AccessSize } from '@vfiokit/core';
import { primecellId, QemuRegisterDevice } from './qemu-register-device.js';

/** QEMU hw/char/pl011.c `pl011_id_arm`: PeriphID 0x00141011, PCellID 0xb105f00d. */
export const PL011_ID: readonly number[] = [0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1];

const UARTFR = 0x18;
const UARTCR = 0x30;
const UARTIFLS = 0x34;
const UARTRIS = 0x3c;
const UARTMIS = 0x40;
const UARTIMSC = 0x38;
const UARTICR = 0x44;
// Plain read/write registers of QEMU's model: RSR, ILPR, IBRD, FBRD, LCR_H, CR, IFLS, IMSC, DMACR.
const STORED = new Set([0x04, 0x20, 0x24, 0x28, 0x2c, UARTCR, UARTIFLS, UARTIMSC, 0x48]);

/**
 * The PL011 UART, reduced to what VFIO region reads see: QEMU's reset values (FR = RXFE|TXFE,
 * CR = 0x300, IFLS = 0x12), the plain registers, and the PrimeCell ID block. No FIFOs: DR
 * reads 0 and writes go nowhere.
 */
export class Pl011Model extends QemuRegisterDevice {
  readonly name = 'pl011';
  readonly size = 0x1000;
  private readonly regs = new Map<number, number>([
    [UARTCR, 0x300],
    [UARTIFLS, 0x12],
  ]);

  // pl011_read(): the ID table for 0xfe0–0xfff, else `switch (offset >> 2)` (word decode).
  protected readRegister(offset: number, _size: AccessSize): number {
    const id = primecellId(PL011_ID, 0xfe0, offset);
    if (id !== undefined) return id;
    const word = offset & ~3;
    if (word === UARTFR) return 0x90;
    if (word === UARTMIS) return 0;
    if (word === UARTRIS) return 0;
    return STORED.has(word) ? (this.regs.get(word) ?? 0) : 0;
  }

  protected writeRegister(offset: number, value: number, _size: AccessSize): void {
    const word = offset & ~3;
    if (word === UARTICR) return;
    if (STORED.has(word)) this.regs.set(word, value >>> 0);
  }
}
