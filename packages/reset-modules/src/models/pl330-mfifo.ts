import type { DmaPort, IommuFault, Iova } from '@vfiokit/core';
import { PL330_MFIFO_BYTES } from './pl330-regs.js';

/**
 * A channel thread's share of the PL330 MFIFO and the bus side of DMALD/DMAST bursts. Data is
 * bytes [0, length) of one buffer; stores take from the front. Nothing here allocates on the
 * hot path: the burst scratch buffer and every view (cached by length) are made once.
 */
export class Pl330Mfifo {
  /** Bytes held. */
  length = 0;
  /** The bus fault that ended the last {@link load} or {@link store} early, else `null`. */
  fault: IommuFault | null = null;
  private readonly data: Uint8Array = new Uint8Array(PL330_MFIFO_BYTES);
  private readonly scratch: Uint8Array = new Uint8Array(PL330_MFIFO_BYTES);
  private readonly dataViews: (Uint8Array | undefined)[] = [];
  private readonly scratchViews: (Uint8Array | undefined)[] = [];

  constructor(private readonly dma: DmaPort) {}

  /** Whether `bytes` more fit. */
  fits(bytes: number): boolean {
    return this.length + bytes <= PL330_MFIFO_BYTES;
  }

  clear(): void {
    this.length = 0;
    this.fault = null;
  }

  /**
   * DMALD: `beats` beats of `size` bytes from `address` (the same address each beat unless
   * `increment`). Returns the beats done; fewer than `beats` means {@link fault} stopped it.
   */
  load(address: number, size: number, beats: number, increment: boolean): number {
    this.fault = null;
    if (increment) {
      // Consecutive addresses: one port access for the whole burst.
      const total = size * beats;
      const into = view(this.scratchViews, this.scratch, total);
      const fault = this.dma.read(asIova(address), into);
      const done = fault === null ? beats : beatsBefore(fault, address, size, beats);
      this.data.set(done === beats ? into : into.subarray(0, done * size), this.length);
      this.length += done * size;
      this.fault = fault;
      return done;
    }
    // A fixed address (a peripheral FIFO) is read once per beat.
    const into = view(this.scratchViews, this.scratch, size);
    for (let beat = 0; beat < beats; beat++) {
      const fault = this.dma.read(asIova(address), into);
      if (fault !== null) {
        this.fault = fault;
        return beat;
      }
      this.data.set(into, this.length);
      this.length += size;
    }
    return beats;
  }

  /** DMAST: as {@link load}, from the front of the FIFO to the bus. The caller checks {@link length}. */
  store(address: number, size: number, beats: number, increment: boolean): number {
    this.fault = null;
    if (increment) {
      const total = size * beats;
      const fault = this.dma.write(asIova(address), view(this.dataViews, this.data, total));
      const done = fault === null ? beats : beatsBefore(fault, address, size, beats);
      this.consume(done * size);
      this.fault = fault;
      return done;
    }
    const from = view(this.dataViews, this.data, size);
    for (let beat = 0; beat < beats; beat++) {
      const fault = this.dma.write(asIova(address), from);
      if (fault !== null) {
        this.fault = fault;
        return beat;
      }
      this.consume(size);
    }
    return beats;
  }

  private consume(bytes: number): void {
    if (bytes === 0) return;
    this.data.copyWithin(0, bytes, this.length);
    this.length -= bytes;
  }
}

function view(cache: (Uint8Array | undefined)[], of: Uint8Array, length: number): Uint8Array {
  let found = cache[length];
  if (found === undefined) {
    found = of.subarray(0, length);
    cache[length] = found;
  }
  return found;
}

/**
 * Whole beats of a burst at `start` done before `fault`: the port stops at the faulting page,
 * so beats below the fault address were transferred, as beat-by-beat would have left them.
 */
function beatsBefore(fault: IommuFault, start: number, size: number, beats: number): number {
  const done = Math.floor(((fault.iova as number) - start) / size);
  return Math.max(0, Math.min(beats, done));
}

/**
 * Channel addresses are u32 register values (`>>> 0` on every update), always a valid IOVA, so
 * the hot path skips iova()'s check.
 */
export function asIova(address: number): Iova {
  return (address >>> 0) as Iova;
}
