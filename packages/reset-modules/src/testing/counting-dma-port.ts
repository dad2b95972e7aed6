import type { DmaPort, IommuFault, Iova } from '@vfiokit/core';

/** A DmaPort that counts the accesses a device issues, to prove none happen after a reset. */
export class CountingDmaPort implements DmaPort {
  /** Accesses since construction or the last {@link resetCount}. */
  accesses = 0;

  constructor(private readonly inner: DmaPort) {}

  read(address: Iova, into: Uint8Array): IommuFault | null {
    this.accesses++;
    return this.inner.read(address, into);
  }

  write(address: Iova, from: Uint8Array): IommuFault | null {
    this.accesses++;
    return this.inner.write(address, from);
  }

  resetCount(): void {
    this.accesses = 0;
  }
}
