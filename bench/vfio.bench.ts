import { physAddr } from '@vfiokit/core';
import { ResetRegistry } from '@vfiokit/reset-modules';
import {
  SimpleIrqChip,
  UserProcess,
  Vfio,
  VfioContainerHandle,
  VfioGroupHandle,
  VfioPlatformDevice,
} from '@vfiokit/vfio';
import { RegisterFile, testIommuGroup } from '@vfiokit/vfio/testing';
import {
  encodeIrqSet,
  VFIO_DEVICE_SET_IRQS,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_TYPE1v2_IOMMU,
} from '@vfiokit/vfio/uapi';
import { medianMs, printTable } from './measure.js';

const GIB = 0x4000_0000;
const VADDR = 0x7f00_0000_0000;

export default function run(): void {
  const vfio = new Vfio({ allowUnsafeInterrupts: true });
  const iommuGroup = testIommuGroup({ id: 1, devices: [{ name: 'dev' }] });
  const irqChip = new SimpleIrqChip({ 50: 'edge-rising' });
  const regs = new RegisterFile(0x1000);
  const ops = new VfioPlatformDevice(
    {
      devName: 'dev',
      name: 'dev',
      flags: 4,
      compatible: ['bench,dev'],
      resetRequired: false,
      getResource: (i) =>
        i === 0 ? { type: 'mem', start: physAddr(0x1000_0000), size: 0x1000, model: regs } : undefined,
      getIrq: (i) => (i === 0 ? 50 : -6),
    },
    { resets: new ResetRegistry(), irqChip },
  );
  vfio.registerGroupDevice({ name: 'dev', ops, iommuGroup });
  const vmm = new UserProcess({ vfio, rlimitMemlock: 4 * GIB });
  vmm.addressSpace.mmap(VADDR, physAddr(0x8_0000_0000), 2 * GIB);
  const container = VfioContainerHandle.open(vmm);
  const group = VfioGroupHandle.open(vmm, 1);
  group.setContainer(container);
  container.setIommu(VFIO_TYPE1v2_IOMMU);

  const N = 500;
  // N mappings, then N unmaps of one mapping each: 2N ioctls, with up to N mappings in the tree.
  const mapUnmap = medianMs(() => {
    for (let i = 0; i < N; i++)
      container.mapDma({
        vaddr: VADDR + i * 0x20_0000,
        iova: 0x1_0000_0000 + i * 0x20_0000,
        size: 0x20_0000,
      });
    for (let i = 0; i < N; i++) container.unmapDma({ iova: 0x1_0000_0000 + i * 0x20_0000, size: 0x20_0000 });
  }, 15);
  const bigMap = medianMs(() => {
    container.mapDma({ vaddr: VADDR, iova: 0x1_0000_0000, size: GIB });
    container.unmapDma({ iova: 0x1_0000_0000, size: GIB });
  });

  const device = group.getDevice('dev');
  const trigger = vmm.eventfd();
  vmm.ioctl(
    device.fd,
    VFIO_DEVICE_SET_IRQS,
    encodeIrqSet({
      flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
      index: 0,
      start: 0,
      count: 1,
      data: [trigger],
    }),
  );
  const IRQS = 200_000;
  const irqs = medianMs(() => {
    for (let i = 0; i < IRQS; i++) irqChip.pulse(50);
    vmm.eventfdOf(trigger).consume();
  });
  const region = device.regionInfo(0);
  const buffer = new Uint8Array(0x1000);
  const READS = 500;
  const reads = medianMs(() => {
    for (let i = 0; i < READS; i++) device.read(region, 0, buffer);
  });
  device.close();

  printTable(
    ['operation', 'rate'],
    [
      [
        'MAP_DMA + UNMAP_DMA (2 MiB, through the ioctl seam)',
        `${((2 * N) / mapUnmap / 1000).toFixed(2)} M ioctls/s (${((mapUnmap / (2 * N)) * 1000).toFixed(1)} µs each)`,
      ],
      ['MAP_DMA + UNMAP_DMA of 1 GiB (262144 pages pinned)', `${bigMap.toFixed(2)} ms`],
      ['edge IRQ → automatic eventfd signal', `${(IRQS / irqs / 1000).toFixed(2)} M IRQs/s`],
      [
        'region pread of 4 KiB (1024 × 4-byte MMIO reads)',
        `${((READS * 0x1000) / reads / 1000).toFixed(1)} MB/s`,
      ],
    ],
  );
}
