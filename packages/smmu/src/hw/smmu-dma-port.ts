import {
  type DmaPort,
  type IommuAccess,
  type IommuFault,
  type Iova,
  isIommuFault,
  isKernelError,
  type PhysAddr,
  type PhysicalMemory,
  rejectUnknownOptions,
} from '@vfiokit/core';

/** What an SMMU offers its masters: one transaction of a stream ID at a time. */
export interface StreamTranslator {
  translate(streamId: number, iova: Iova, access: IommuAccess, privileged?: boolean): PhysAddr | IommuFault;
}

/** Options of a {@link SmmuDmaPort}. */
export interface SmmuDmaPortOptions {
  /** The SMMU in front of the master. */
  readonly smmu: StreamTranslator;
  /** The stream ID the master's transactions carry. */
  readonly streamId: number;
  /** Where translated accesses land. */
  readonly memory: PhysicalMemory;
  /** Whether the master's transactions are privileged (default unprivileged). */
  readonly privileged?: boolean;
}

const PAGE = 0x1000;

/**
 * A bus master behind an SMMU: every access is split at 4 KiB (the smallest granule), each
 * piece is translated by the SMMU for the master's stream ID, then moved in memory. A fault
 * stops the access and is returned, after the SMMU recorded it (FSR or event record); bytes
 * before the faulting page may have moved, as on a real bus.
 */
export class SmmuDmaPort implements DmaPort {
  private readonly smmu: StreamTranslator;
  private readonly streamId: number;
  private readonly memory: PhysicalMemory;
  private readonly privileged: boolean;

  constructor(options: SmmuDmaPortOptions) {
    rejectUnknownOptions(options, ['smmu', 'streamId', 'memory', 'privileged'], 'SmmuDmaPort');
    this.smmu = options.smmu;
    this.streamId = options.streamId;
    this.memory = options.memory;
    this.privileged = options.privileged ?? false;
  }

  read(address: Iova, into: Uint8Array): IommuFault | null {
    return this.transfer(address, into, 'read');
  }

  write(address: Iova, from: Uint8Array): IommuFault | null {
    return this.transfer(address, from, 'write');
  }

  private transfer(address: Iova, bytes: Uint8Array, access: IommuAccess): IommuFault | null {
    let done = 0;
    while (done < bytes.length) {
      const at = (address + done) as Iova;
      const chunk = Math.min(PAGE - (at % PAGE), bytes.length - done);
      const target = this.smmu.translate(this.streamId, at, access, this.privileged);
      if (isIommuFault(target)) return target;
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
