import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Iova, PhysAddr } from './address.js';
import { TranslatedDmaPort } from './dma-port.js';
import { IOMMU_READ, IOMMU_WRITE } from './iommu/iommu-domain.js';
import { PhysicalMemory } from './physical-memory.js';
import { FlatIommuDomain } from './testing/flat-iommu-domain.js';

const io = (value: number) => value as Iova;
const pa = (value: number) => value as PhysAddr;

describe('TranslatedDmaPort', () => {
  it('moves bytes through the domain to the translated physical pages', () => {
    const memory = new PhysicalMemory();
    const domain = new FlatIommuDomain();
    domain.map(io(0x1000), pa(0x8000_0000), 0x1000, IOMMU_READ | IOMMU_WRITE);
    domain.map(io(0x2000), pa(0x9000_0000), 0x1000, IOMMU_READ | IOMMU_WRITE);
    const port = new TranslatedDmaPort({ memory, domain });
    expect(port.write(io(0x1ffe), Uint8Array.of(1, 2, 3, 4))).toBeNull();
    expect(memory.readU16(pa(0x8000_0ffe))).toBe(0x0201);
    expect(memory.readU16(pa(0x9000_0000))).toBe(0x0403);
    const back = new Uint8Array(4);
    expect(port.read(io(0x1ffe), back)).toBeNull();
    expect([...back]).toEqual([1, 2, 3, 4]);
  });

  it('returns the fault instead of throwing, naming the first IOVA that failed', () => {
    const memory = new PhysicalMemory();
    memory.allocate(pa(0x8000_0000), 0x1000);
    const domain = new FlatIommuDomain();
    domain.map(io(0x1000), pa(0x8000_0000), 0x1000, IOMMU_READ);
    const port = new TranslatedDmaPort({ memory, domain });
    expect(port.write(io(0x1000), new Uint8Array(4))).toMatchObject({ kind: 'permission', iova: 0x1000 });
    expect(port.read(io(0x1800), new Uint8Array(0x1000))).toMatchObject({
      kind: 'translation',
      iova: 0x2000,
    });
    expect(port.read(io(2 ** 48), new Uint8Array(1))).toMatchObject({ kind: 'address-size' });
  });

  it('reports a bus error (no RAM behind a mapping) as a fault', () => {
    const domain = new FlatIommuDomain();
    domain.map(io(0), pa(0x4000_0000), 0x1000, IOMMU_READ);
    const port = new TranslatedDmaPort({ memory: new PhysicalMemory(), domain });
    expect(port.read(io(0), new Uint8Array(4))).toMatchObject({ kind: 'translation', iova: 0 });
  });

  it('without a domain reaches physical memory directly', () => {
    const memory = new PhysicalMemory();
    const port = new TranslatedDmaPort({ memory, domain: null });
    expect(port.write(io(0x3000), Uint8Array.of(9))).toBeNull();
    expect(memory.readU8(pa(0x3000))).toBe(9);
  });

  it('never touches memory outside a mapping (property)', () => {
    const page = 0x1000;
    const mapping = fc.record({
      page: fc.nat(15),
      prot: fc.constantFrom(IOMMU_READ, IOMMU_WRITE, IOMMU_READ | IOMMU_WRITE),
    });
    const transfer = fc.record({ address: fc.nat(16 * page), length: fc.integer({ min: 1, max: 2 * page }) });
    fc.assert(
      fc.property(
        fc.uniqueArray(mapping, { selector: (m) => m.page }),
        fc.array(transfer, { maxLength: 8 }),
        (maps, transfers) => {
          const memory = new PhysicalMemory();
          memory.allocate(pa(0x10_0000), 16 * page);
          const domain = new FlatIommuDomain();
          const prot = new Map<number, number>();
          for (const m of maps) {
            domain.map(io(m.page * page), pa(0x10_0000 + m.page * page), page, m.prot);
            prot.set(m.page, m.prot);
          }
          const port = new TranslatedDmaPort({ memory, domain });
          for (const t of transfers) {
            const fault = port.write(io(t.address), new Uint8Array(t.length).fill(0xee));
            const firstPage = Math.floor(t.address / page);
            const lastPage = Math.floor((t.address + t.length - 1) / page);
            let firstBad: number | undefined;
            for (let p = firstPage; p <= lastPage && firstBad === undefined; p++) {
              if (((prot.get(p) ?? 0) & IOMMU_WRITE) === 0) firstBad = p;
            }
            if (firstBad === undefined) expect(fault).toBeNull();
            else expect(fault?.iova).toBe(Math.max(t.address, firstBad * page));
          }
          // Every byte written lies in a page mapped writable.
          for (let p = 0; p < 16; p++) {
            const bytes = new Uint8Array(page);
            memory.read(pa(0x10_0000 + p * page), bytes);
            if (bytes.some((byte) => byte !== 0)) expect((prot.get(p) ?? 0) & IOMMU_WRITE).not.toBe(0);
          }
        },
      ),
    );
  });
});
