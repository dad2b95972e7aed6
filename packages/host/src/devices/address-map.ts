import { KernelError, type MmioDevice } from '@vfiokit/core';

interface Window {
  readonly start: number;
  readonly size: number;
  readonly model: MmioDevice;
}

/**
 * The host's physical MMIO map: which register model answers at a physical address, so a
 * user mapping of a device region (VFIO mmap → `remap_pfn_range`) reaches the same model the
 * kernel's `ioremap` does.
 */
export class AddressMap {
  private readonly windows: Window[] = [];

  /** Maps `model` at `start`; `EBUSY` when it overlaps a window already mapped. */
  add(start: number, size: number, model: MmioDevice): void {
    if (this.windows.some((w) => start < w.start + w.size && w.start < start + size)) {
      throw new KernelError(
        'EBUSY',
        `MMIO window 0x${start.toString(16)}+0x${size.toString(16)} overlaps another`,
      );
    }
    this.windows.push({ start, size, model });
  }

  /** The model and offset at physical `address`; `EFAULT` where nothing decodes it. */
  resolve(address: number, size: number): { model: MmioDevice; offset: number } {
    const window = this.windows.find((w) => address >= w.start && address + size <= w.start + w.size);
    if (window === undefined || address - window.start + size > window.model.size) {
      throw new KernelError('EFAULT', `nothing decodes physical address 0x${address.toString(16)}`);
    }
    return { model: window.model, offset: address - window.start };
  }
}
