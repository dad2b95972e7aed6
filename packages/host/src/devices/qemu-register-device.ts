import { type AccessSize, KernelError, type MmioDevice } from '@vfiokit/core';

/**
 * A register block as QEMU's memory core hands accesses to a device model without `.impl`
 * constraints (pl011, pl031, pl061, virtio-mmio): the model's read/write get the exact
 * offset and size, a read's value is masked to the access size, a write carries the low
 * `size` bytes. So a byte read at 0xfe1 of a PL031 goes to the same ID register as 0xfe0
 * (QEMU indexes the ID table by `(offset − 0xfe0) >> 2`), while an unaligned offset in the
 * register file decodes as nothing (reads 0, writes ignored) when the model switches on the
 * exact offset.
 */
export abstract class QemuRegisterDevice implements MmioDevice {
  abstract readonly name: string;
  abstract readonly size: number;

  /** The model's read callback at `offset` (`pl031_read(opaque, offset, size)`). */
  protected abstract readRegister(offset: number, size: AccessSize): number;
  /** The model's write callback. */
  protected abstract writeRegister(offset: number, value: number, size: AccessSize): void;

  read(offset: number, size: AccessSize): number {
    this.check(offset, size);
    return (this.readRegister(offset, size) & mask(size)) >>> 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    this.check(offset, size);
    this.writeRegister(offset, (value & mask(size)) >>> 0, size);
  }

  private check(offset: number, size: AccessSize): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + size > this.size) {
      throw new KernelError(
        'EFAULT',
        `${this.name}: access 0x${offset.toString(16)}+${size} is outside the region`,
      );
    }
  }
}

function mask(size: AccessSize): number {
  return size === 4 ? 0xffff_ffff : (1 << (size * 8)) - 1;
}

/**
 * The PrimeCell identification block as QEMU's models index it: `bytes[(offset − base) >> 2]`
 * for any offset in the table (PeriphID0..3 at 0xfe0–0xfec and PCellID0..3 at 0xff0–0xffc;
 * the PL061's table starts at 0xfd0).
 */
export function primecellId(bytes: readonly number[], base: number, offset: number): number | undefined {
  if (offset < base || offset >= base + 4 * bytes.length) return undefined;
  return bytes[(offset - base) >> 2];
}
