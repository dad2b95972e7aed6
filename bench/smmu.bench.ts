import { performance } from 'node:perf_hooks';
import { IOMMU_READ, IOMMU_WRITE, type Iova, type PhysAddr, PhysicalMemory } from '@vfiokit/core';
import { ArmLpaeDomain, ArmSmmuV3, TablePageAllocator } from '@vfiokit/smmu';
import { ArmSmmuV3Programmer } from '@vfiokit/smmu/testing';
import { medianMs, printTable } from './measure.js';

const PAGES = 1_000_000;
const SZ_4K = 0x1000;
const SZ_2M = 0x20_0000;
const RW = IOMMU_READ | IOMMU_WRITE;
const SID = 1;
const ASID = 1;
// Physical pages sit 4 KiB off the 2 MiB alignment of their IOVAs, so every mapping is a 4K leaf.
const PA_BASE = 0x1_0000_1000;

function rate(ops: number, ms: number): string {
  return `${(ops / ms / 1000).toFixed(2)} M/s`;
}

function smmuWithDomain() {
  const memory = new PhysicalMemory();
  const allocator = new TablePageAllocator({ memory, base: 0x8000_0000 as PhysAddr, size: 0x1000_0000 });
  const smmu = new ArmSmmuV3({ memory });
  const driver = new ArmSmmuV3Programmer(smmu, { allocator });
  driver.reset();
  const domain = new ArmLpaeDomain({ allocator, flushOps: driver.flushOps(1, ASID) });
  driver.attachStage1(SID, domain.pgtable, ASID);
  return { memory, allocator, smmu, domain };
}

export default function run(): void {
  const { memory, allocator, smmu, domain } = smmuWithDomain();
  const tablesBefore = allocator.allocatedBytes;
  const populatedBefore = memory.populatedPages;
  const heapBefore = process.memoryUsage().heapUsed;

  // Map throughput, 4K pages: one iommu_map per page, as vfio type1 maps unaligned memory.
  let start = performance.now();
  for (let i = 0; i < PAGES; i++)
    domain.map((i * SZ_4K) as Iova, (PA_BASE + i * SZ_4K) as PhysAddr, SZ_4K, RW);
  const map4k = performance.now() - start;
  const tableBytes = allocator.allocatedBytes - tablesBefore;
  const simulatedBytes = (memory.populatedPages - populatedBefore) * SZ_4K;

  const reference = new Map<number, number>();
  for (let i = 0; i < PAGES; i++) reference.set(i, PA_BASE + i * SZ_4K);
  let sink = 0;
  const mapLookup = medianMs(() => {
    for (let i = 0; i < PAGES; i++) sink += reference.get((i * SZ_4K) / SZ_4K) ?? 0;
  });
  // Full walks from memory: the IOTLB is emptied first, so every access walks 4 levels and fills.
  const walks = medianMs(() => {
    smmu.iotlb.invalidateAll();
    for (let i = 0; i < PAGES; i++) sink += smmu.translate(SID, (i * SZ_4K) as Iova, 'read') as number;
  }, 3);
  // IOTLB hits: the previous run left every page cached.
  const hits = medianMs(() => {
    for (let i = 0; i < PAGES; i++) sink += smmu.translate(SID, (i * SZ_4K) as Iova, 'read') as number;
  });
  const heapAfter = process.memoryUsage().heapUsed;

  // Unmap throughput, 4K pages: each iommu_unmap issues CMD_TLBI_NH_VA + CMD_SYNC through the queue.
  const UNMAPS = 200_000;
  start = performance.now();
  for (let i = 0; i < UNMAPS; i++) domain.unmap((i * SZ_4K) as Iova, SZ_4K);
  const unmap4k = performance.now() - start;

  // 2M blocks on a fresh domain: 2048 blocks (4 GiB), mapped then unmapped, five times.
  const blocks = smmuWithDomain();
  const BLOCKS = 2048;
  const map2m = medianMs(() => {
    for (let i = 0; i < BLOCKS; i++)
      blocks.domain.map((i * SZ_2M) as Iova, (0x1_0000_0000 + i * SZ_2M) as PhysAddr, SZ_2M, RW);
    for (let i = 0; i < BLOCKS; i++) blocks.domain.unmap((i * SZ_2M) as Iova, SZ_2M);
  });
  start = performance.now();
  for (let i = 0; i < BLOCKS; i++)
    blocks.domain.map((i * SZ_2M) as Iova, (0x1_0000_0000 + i * SZ_2M) as PhysAddr, SZ_2M, RW);
  const map2mOnly = performance.now() - start;
  start = performance.now();
  for (let i = 0; i < BLOCKS; i++) blocks.domain.unmap((i * SZ_2M) as Iova, SZ_2M);
  const unmap2mOnly = performance.now() - start;

  printTable(
    ['operation (SMMUv3, stage 1, 4K granule, 1,000,000 4K mappings)', 'rate'],
    [
      ['Map.get of the same pages (baseline)', rate(PAGES, mapLookup)],
      ['translate, IOTLB hit', `${rate(PAGES, hits)} (${(hits / mapLookup).toFixed(2)}× the Map)`],
      ['translate, IOTLB miss: 4-level walk from memory + fill', rate(PAGES, walks)],
      ['map 4K page (iommu_map, one page per call)', rate(PAGES, map4k)],
      ['unmap 4K page (with CMD_TLBI_NH_VA + CMD_SYNC)', rate(UNMAPS, unmap4k)],
      ['map 2M block', rate(BLOCKS, map2mOnly)],
      ['unmap 2M block (with CMD_TLBI_NH_VA + CMD_SYNC)', rate(BLOCKS, unmap2mOnly)],
      ['map + unmap 2M block (median of 5)', rate(2 * BLOCKS, map2m)],
      ['page-table bytes per 4K mapping', (tableBytes / PAGES).toFixed(2)],
      ['simulated memory (populated pages) bytes per 4K mapping', (simulatedBytes / PAGES).toFixed(2)],
      [
        'JS heap bytes per 4K mapping (tables + IOTLB + reference Map; a heap delta, GC-dependent)',
        ((heapAfter - heapBefore) / PAGES).toFixed(0),
      ],
    ],
  );
  if (sink === 0) throw new RangeError('lookups were optimised away');
}
