// The emulated-IOMMU path beside the IOMMU-backed one, in one run (issue #12): what a device
// without DMA costs a driver that copies for it (vfio_pin_pages / vfio_dma_rw through type1's
// recorded mappings) against a device whose DMA is translated by io-pgtable-arm tables an SMMUv3
// walks (type1 over an ArmLpaeDomain); and how many assignments of an emulated device per second.
import { performance } from 'node:perf_hooks';
import {
  IOMMU_READ,
  IOMMU_WRITE,
  IommuGroup,
  type Iova,
  type PhysAddr,
  PhysicalMemory,
  physAddr,
  TranslatedDmaPort,
} from '@vfiokit/core';
import { ArmLpaeDomain, ArmSmmuV3, TablePageAllocator } from '@vfiokit/smmu';
import { ArmSmmuV3Programmer } from '@vfiokit/smmu/testing';
import { UserProcess, Vfio, VfioContainerHandle, type VfioDeviceOps, VfioGroupHandle } from '@vfiokit/vfio';
import { countingDeviceOps } from '@vfiokit/vfio/testing';
import { VFIO_TYPE1v2_IOMMU } from '@vfiokit/vfio/uapi';
import { medianMs, printTable } from './measure.js';

const VADDR = 0x10_0000;
const RAM = 0x8000_0000;
const RAM_SIZE = 0x400_0000; // 64 MiB mapped at IOVA 0x4000_0000
const IOVA = 0x4000_0000;
const SZ_4K = 0x1000;
const SID = 1;
const ASID = 1;

// A host with one emulated device (pins and unpins when told) and, when `smmu`, an IOMMU group
// whose domain is an ArmLpaeDomain behind an SMMUv3 model, in the same TYPE1v2 container.
function world(smmu: boolean) {
  const memory = new PhysicalMemory();
  memory.allocate(physAddr(RAM), RAM_SIZE);
  const vfio = new Vfio({ allowUnsafeInterrupts: true });
  // dma_unmap has nothing to do: the benchmark unpins what it pins before anything unmaps.
  const ops: VfioDeviceOps = { ...countingDeviceOps(), dmaUnmap: () => undefined };
  const device = vfio.registerEmulatedIommuDevice({ name: 'emu0', ops });
  const process = new UserProcess({ vfio, rlimitMemlock: 2 * RAM_SIZE });
  process.addressSpace.mmap(VADDR, physAddr(RAM), RAM_SIZE);
  const container = VfioContainerHandle.open(process);
  const group = VfioGroupHandle.open(process, vfio.groupOf(device)?.name ?? '');
  group.setContainer(container);
  let port: TranslatedDmaPort | undefined;
  let smmuModel: ArmSmmuV3 | undefined;
  if (smmu) {
    const tables = new PhysicalMemory();
    const allocator = new TablePageAllocator({
      memory: tables,
      base: 0x1_0000_0000 as PhysAddr,
      size: 0x1000_0000,
    });
    smmuModel = new ArmSmmuV3({ memory: tables });
    const driver = new ArmSmmuV3Programmer(smmuModel, { allocator });
    driver.reset();
    const domain = new ArmLpaeDomain({ allocator, flushOps: driver.flushOps(1, ASID) });
    driver.attachStage1(SID, domain.pgtable, ASID);
    const iommuGroup = new IommuGroup({ id: 50, allocateDomain: () => domain });
    vfio.registerGroupDevice({ name: 'dma0', ops: countingDeviceOps(), iommuGroup });
    VfioGroupHandle.open(process, '50').setContainer(container);
    port = new TranslatedDmaPort({ memory, domain });
  }
  container.setIommu(VFIO_TYPE1v2_IOMMU);
  container.mapDma({ vaddr: VADDR, iova: IOVA, size: RAM_SIZE });
  group.getDevice('emu0');
  return { vfio, device, memory, port, smmu: smmuModel };
}

function rate(ops: number, ms: number, unit = 'M/s'): string {
  return `${(ops / ms / 1000).toFixed(2)} ${unit}`;
}

function mbPerS(bytes: number, ms: number): string {
  return `${(bytes / ms / 1000).toFixed(0)} MB/s`;
}

export default function run(): void {
  const emulated = world(false);
  const mixed = world(true);
  const PINS = 20_000;
  const pinUnpin = (w: ReturnType<typeof world>, npage: number) =>
    medianMs(() => {
      for (let i = 0; i < PINS; i++) {
        const iova = IOVA + ((i * SZ_4K * npage) % (RAM_SIZE - npage * SZ_4K));
        w.vfio.pinPages(w.device, iova, npage, IOMMU_READ | IOMMU_WRITE);
        w.vfio.unpinPages(w.device, iova, npage);
      }
    }, 3);
  const pin1Emulated = pinUnpin(emulated, 1);
  const pin1Mixed = pinUnpin(mixed, 1);
  const pin16Emulated = pinUnpin(emulated, 16);
  const pin16Mixed = pinUnpin(mixed, 16);

  // 4 KiB copies, page-aligned, walking the 64 MiB: vfio_dma_rw vs a DMA through the SMMU.
  const COPIES = 16_384;
  const buffer = new Uint8Array(SZ_4K);
  const dmaRw = (write: boolean) =>
    medianMs(() => {
      for (let i = 0; i < COPIES; i++)
        emulated.vfio.dmaRw(emulated.device, emulated.memory, IOVA + ((i * SZ_4K) % RAM_SIZE), buffer, write);
    }, 3);
  const rwWrite = dmaRw(true);
  const rwRead = dmaRw(false);
  const port = mixed.port;
  if (port === undefined) throw new RangeError('no SMMU port');
  const smmuCopy = (write: boolean) =>
    medianMs(() => {
      for (let i = 0; i < COPIES; i++) {
        const iova = (IOVA + ((i * SZ_4K) % RAM_SIZE)) as Iova;
        const fault = write ? port.write(iova, buffer) : port.read(iova, buffer);
        if (fault !== null) throw new RangeError(`fault at 0x${iova.toString(16)}`);
      }
    }, 3);
  const smmuWrite = smmuCopy(true);
  const smmuRead = smmuCopy(false);
  // The SMMU model's own translation (stream table, IOTLB) for the same pages.
  const smmuModel = mixed.smmu;
  if (smmuModel === undefined) throw new RangeError('no SMMU');
  let sink = 0;
  const walk = medianMs(() => {
    for (let i = 0; i < COPIES; i++)
      sink += smmuModel.translate(SID, (IOVA + ((i * SZ_4K) % RAM_SIZE)) as Iova, 'read') as number;
  }, 3);

  // Assignments per second: open container + group, SET_CONTAINER, SET_IOMMU, MAP_DMA 2 MiB,
  // GET_DEVICE_FD, then close everything.
  const vfio = new Vfio();
  const device = vfio.registerEmulatedIommuDevice({ name: 'uart0', ops: countingDeviceOps() });
  const groupName = vfio.groupOf(device)?.name ?? '';
  const process = new UserProcess({ vfio });
  process.addressSpace.mmap(VADDR, physAddr(RAM), 0x20_0000);
  const ASSIGNMENTS = 5_000;
  const start = performance.now();
  for (let i = 0; i < ASSIGNMENTS; i++) {
    const container = VfioContainerHandle.open(process);
    const group = VfioGroupHandle.open(process, groupName);
    group.setContainer(container);
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    container.mapDma({ vaddr: VADDR, iova: IOVA, size: 0x20_0000 });
    const fd = group.getDevice('uart0');
    fd.close();
    group.close();
    container.close();
  }
  const assignMs = performance.now() - start;

  printTable(
    ['operation', 'emulated IOMMU (no domain)', 'IOMMU-backed (type1 over ArmLpaeDomain, SMMUv3)'],
    [
      ['vfio_pin_pages + vfio_unpin_pages, 1 page (calls)', rate(PINS, pin1Emulated), rate(PINS, pin1Mixed)],
      [
        'vfio_pin_pages + vfio_unpin_pages, 16 pages (calls)',
        rate(PINS, pin16Emulated),
        rate(PINS, pin16Mixed),
      ],
      [
        '4 KiB write: vfio_dma_rw / device DMA through the domain (TranslatedDmaPort → io-pgtable walk)',
        mbPerS(COPIES * SZ_4K, rwWrite),
        mbPerS(COPIES * SZ_4K, smmuWrite),
      ],
      [
        '4 KiB read: vfio_dma_rw / device DMA through the domain',
        mbPerS(COPIES * SZ_4K, rwRead),
        mbPerS(COPIES * SZ_4K, smmuRead),
      ],
      ['SMMUv3 model translate of the same pages (stream table + IOTLB)', '—', rate(COPIES, walk)],
      [
        'assignment (open → SET_IOMMU → MAP_DMA 2 MiB → GET_DEVICE_FD → close)',
        `${((ASSIGNMENTS / assignMs) * 1000).toFixed(0)} /s`,
        '—',
      ],
    ],
  );
  if (sink === 0) throw new RangeError('translations were optimised away');
}
