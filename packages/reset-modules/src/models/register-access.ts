import { type AccessSize, KernelError, type MmioDevice } from '@vfiokit/core';

/**
 * Checks an access against a region's size, as every MmioDevice must (`EFAULT` outside it),
 * and returns the aligned 32-bit word offset the access falls in.
 */
export function wordOffset(device: string, regionSize: number, offset: number, size: AccessSize): number {
  if (!Number.isInteger(offset) || offset < 0 || offset + size > regionSize) {
    throw new KernelError(
      'EFAULT',
      `${device}: access 0x${offset.toString(16)}+${size} is outside the region`,
    );
  }
  return offset & ~3;
}

/** The `size` bytes at byte `lane` (0–3) of a 32-bit register value, little-endian. */
export function extractLanes(word: number, offset: number, size: AccessSize): number {
  const shift = (offset & 3) * 8;
  const mask = size === 4 ? 0xffff_ffff : (1 << (size * 8)) - 1;
  return ((word >>> shift) & mask) >>> 0;
}

/** `old` with the `size` bytes at `offset & 3` replaced by `value` (a sub-word write merges). */
export function mergeLanes(old: number, offset: number, size: AccessSize, value: number): number {
  if (size === 4) return value >>> 0;
  const shift = (offset & 3) * 8;
  const mask = ((1 << (size * 8)) - 1) << shift;
  return ((old & ~mask) | ((value << shift) & mask)) >>> 0;
}

/**
 * A register block decoded as 32-bit words: the byte-lane arithmetic of every sub-word
 * access lives here once, and a model only says what reading and writing a word does.
 */
export abstract class WordRegisterDevice implements MmioDevice {
  abstract readonly name: string;
  abstract readonly size: number;

  /** The value of the aligned 32-bit register at `word` (reading may have side effects). */
  protected abstract readWord(word: number): number;
  /** Writes the aligned 32-bit register at `word`. */
  protected abstract writeWord(word: number, value: number): void;

  /**
   * Called after every access: a write (or a read with side effects) may change what the
   * device drives, such as its interrupt lines. Nothing by default.
   */
  protected afterAccess(): void {}

  read(offset: number, size: AccessSize): number {
    const word = wordOffset(this.name, this.size, offset, size);
    const value = extractLanes(this.readWord(word), offset, size);
    this.afterAccess();
    return value;
  }

  write(offset: number, size: AccessSize, value: number): void {
    const word = wordOffset(this.name, this.size, offset, size);
    this.writeWord(word, mergeLanes(this.readWord(word), offset, size, value));
    this.afterAccess();
  }
}
