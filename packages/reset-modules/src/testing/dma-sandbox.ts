import {
  IOMMU_READ,
  IOMMU_WRITE,
  type Iova,
  isIommuFault,
  KernelError,
  type PhysAddr,
  PhysicalMemory,
  TranslatedDmaPort,
} from '@vfiokit/core';
import { FlatIommuDomain } from '@vfiokit/core/testing';
import { CountingDmaPort } from './counting-dma-port.js';

/** The IOVA window a {@link dmaSandbox} maps (read/write). */
export const SANDBOX_IOVA: Iova = 0x10000 as Iova;
export const SANDBOX_SIZE = 0x20000;
/** Where the window lands in physical memory. */
export const SANDBOX_PHYS: PhysAddr = 0x8000_0000 as PhysAddr;
/** An IOVA nothing maps: DMA to it faults in the domain. */
export const UNMAPPED_IOVA: Iova = 0x40_0000 as Iova;

/**
 * A device's view of memory for tests: RAM, an IOMMU domain mapping one window of it
 * (`FlatIommuDomain` from @vfiokit/core/testing, standing in until @vfiokit/smmu exists), the
 * translated DMA port, and a counter on that port.
 */
export interface DmaSandbox {
  readonly memory: PhysicalMemory;
  readonly domain: FlatIommuDomain;
  readonly port: TranslatedDmaPort;
  readonly dma: CountingDmaPort;
  /** CPU-side write at an IOVA (through the mapping, as a driver's CPU alias would). */
  writeIova(address: number, bytes: Uint8Array): void;
  readIova(address: number, length: number): Uint8Array;
}

export function dmaSandbox(): DmaSandbox {
  const memory = new PhysicalMemory();
  memory.allocate(SANDBOX_PHYS, SANDBOX_SIZE);
  const domain = new FlatIommuDomain();
  domain.map(SANDBOX_IOVA, SANDBOX_PHYS, SANDBOX_SIZE, IOMMU_READ | IOMMU_WRITE);
  const port = new TranslatedDmaPort({ memory, domain });
  const translate = (address: number, length: number): PhysAddr => {
    const pa = domain.translate(address as Iova, 'write');
    if (isIommuFault(pa) || address + length > SANDBOX_IOVA + SANDBOX_SIZE) {
      throw new KernelError('EFAULT', `0x${address.toString(16)}+${length} is outside the sandbox window`);
    }
    return pa;
  };
  return {
    memory,
    domain,
    port,
    dma: new CountingDmaPort(port),
    writeIova: (address, bytes) => memory.write(translate(address, bytes.length), bytes),
    readIova: (address, length) => {
      const into = new Uint8Array(length);
      memory.read(translate(address, length), into);
      return into;
    },
  };
}
