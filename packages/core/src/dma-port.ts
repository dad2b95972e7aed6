import type { Iova, PhysAddr } from './address.js';
import {
  type IommuAccess,
  type IommuDomain,
  type IommuFault,
  isIommuFault,
  minPageSize,
} from './iommu/iommu-domain.js';
import { isKernelError } from './kernel-error.js';
import { rejectUnknownOptions } from './options.js';
import type { PhysicalMemory } from './physical-memory.js';

/**
 * How a device model masters the bus. Every access names a bus address (an IOVA when an
 * IOMMU sits in front of the device) and either completes or returns the fault that stopped
 * it; nothing is thrown, so a model can latch the fault in its own registers as hardware
 * does. On a fault, bytes before the faulting page may already have moved.
 */
export interface DmaPort {
  /** Reads `into.length` bytes at `address`; `null` on success, else the fault. */
  read(address: Iova, into: Uint8Array): IommuFault | null;
  /** Writes `from` at `address`; `null` on success, else the fault. */
  write(address: Iova, from: Uint8Array): IommuFault | null;
}

/** Where a {@link TranslatedDmaPort} sends accesses. */
export interface DmaPortOptions {
  readonly memory: PhysicalMemory;
  /** The translating domain; `null` means the device reaches physical memory untranslated. */
  readonly domain: IommuDomain | null;
}

/**
 * The DMA path `DmaPort` → `IommuDomain.translate` → `PhysicalMemory`: each access is split
 * at the domain's smallest page size and every piece is translated before it moves. A bus
 * error from memory (no RAM at the target) is reported as a fault too.
 */
export class TranslatedDmaPort implements DmaPort {
  private readonly memory: PhysicalMemory;
  private readonly domain: IommuDomain | null;
  private readonly granule: number;

  constructor(options: DmaPortOptions) {
    rejectUnknownOptions(options, ['memory', 'domain'], 'TranslatedDmaPort');
    this.memory = options.memory;
    this.domain = options.domain;
    // The bitmap is fixed for a domain's life, so the split size is computed once.
    this.granule = this.domain === null ? 4096 : minPageSize(this.domain.pgsizeBitmap) || 4096;
  }

  read(address: Iova, into: Uint8Array): IommuFault | null {
    return this.transfer(address, into, 'read');
  }

  write(address: Iova, from: Uint8Array): IommuFault | null {
    return this.transfer(address, from, 'write');
  }

  private transfer(address: Iova, bytes: Uint8Array, access: IommuAccess): IommuFault | null {
    const granule = this.granule;
    let done = 0;
    while (done < bytes.length) {
      const at = (address + done) as Iova;
      const chunk = Math.min(granule - (at % granule), bytes.length - done);
      const target = this.domain === null ? (at as number as PhysAddr) : this.domain.translate(at, access);
      if (isIommuFault(target)) return target;
      // The common case, one access within one page, moves the caller's buffer as it is.
      const piece = chunk === bytes.length ? bytes : bytes.subarray(done, done + chunk);
      try {
        if (access === 'read') this.memory.read(target, piece);
        else this.memory.write(target, piece);
      } catch (error) {
        if (!isKernelError(error)) throw error;
        return { kind: 'translation', iova: at, access, reason: `bus error: ${error.message}` };
      }
      done += chunk;
    }
    return null;
  }
}
