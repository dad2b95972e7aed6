import type { AccessSize, MmioDevice } from '@vfiokit/core';
import { extractLanes, mergeLanes, wordOffset } from '@vfiokit/reset-modules';

/**
 * A 32-bit register block (the shape of QEMU's pl0xx models): a sub-word read takes the
 * byte lanes of the word, a sub-word write merges into the word's current value. Reads of
 * the models here have no side effects, so the merge may read.
 */
export abstract class WordDevice implements MmioDevice {
  abstract readonly name: string;
  abstract readonly size: number;

  /** The aligned 32-bit register at `word`. */
  protected abstract readWord(word: number): number;
  /** Writes the aligned 32-bit register at `word`. */
  protected abstract writeWord(word: number, value: number): void;

  read(offset: number, size: AccessSize): number {
    const word = wordOffset(this.name, this.size, offset, size);
    return extractLanes(this.readWord(word), offset, size);
  }

  write(offset: number, size: AccessSize, value: number): void {
    const word = wordOffset(this.name, this.size, offset, size);
    this.writeWord(word, mergeLanes(this.readWord(word), offset, size, value));
  }
}

/**
 * The PrimeCell identification block: one byte per word, PeriphID0..3 at 0xfe0–0xfec and
 * PCellID0..3 at 0xff0–0xffc (some cells, like the PL061, start their table at 0xfd0).
 * `bytes` are the table as QEMU lists it, starting at `base`.
 */
export function primecellIdWord(bytes: readonly number[], base: number, word: number): number | undefined {
  if (word < base || word >= base + 4 * bytes.length) return undefined;
  return bytes[(word - base) >> 2];
}
