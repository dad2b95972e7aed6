// IOAS map/unmap throughput (iommufd, /dev/iommu) beside type1 MAP_DMA/UNMAP_DMA (legacy
// container) of the same sizes, in one run: both with one device attached, so both pin and
// map every page into a FlatIommuDomain of the device's group.
import { physAddr } from '@vfiokit/core';
import {
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IommufdContext,
} from '@vfiokit/iommufd';
import { UserProcess, Vfio, VfioContainerHandle, type VfioDeviceOps, VfioGroupHandle } from '@vfiokit/vfio';
import { testIommuGroup } from '@vfiokit/vfio/testing';
import { VFIO_TYPE1v2_IOMMU } from '@vfiokit/vfio/uapi';
import { medianMs, printTable } from './measure.js';

const GIB = 0x4000_0000;
const VADDR = 0x7f00_0000_0000;
const IOVA = 0x1_0000_0000;
const N = 500;

const idleOps: VfioDeviceOps = {
  openDevice: () => undefined,
  closeDevice: () => undefined,
  ioctl: () => 0,
  read: () => 0,
  write: () => 0,
  mmap: () => {
    throw new RangeError('no mmap');
  },
};

function type1(): { map: (iova: number, size: number) => void; unmap: (iova: number, size: number) => void } {
  const vfio = new Vfio({ allowUnsafeInterrupts: true });
  vfio.registerGroupDevice({
    name: 'dev',
    ops: idleOps,
    iommuGroup: testIommuGroup({ id: 1, devices: [{ name: 'dev' }] }),
  });
  const vmm = new UserProcess({ vfio, rlimitMemlock: 4 * GIB });
  vmm.addressSpace.mmap(VADDR, physAddr(0x8_0000_0000), 2 * GIB);
  const container = VfioContainerHandle.open(vmm);
  const group = VfioGroupHandle.open(vmm, 1);
  group.setContainer(container);
  container.setIommu(VFIO_TYPE1v2_IOMMU);
  return {
    map: (iova, size) => container.mapDma({ vaddr: VADDR + (iova - IOVA), iova, size }),
    unmap: (iova, size) => void container.unmapDma({ iova, size }),
  };
}

function iommufd(): {
  map: (iova: number, size: number) => void;
  unmap: (iova: number, size: number) => void;
} {
  const vmm = new UserProcess({ vfio: new Vfio({ allowUnsafeInterrupts: true }), rlimitMemlock: 4 * GIB });
  vmm.addressSpace.mmap(VADDR, physAddr(0x8_0000_0000), 2 * GIB);
  const ctx = new IommufdContext({
    task: {
      mm: { addressSpace: vmm.addressSpace, lockedVm: 0 },
      user: { lockedVm: 0 },
      rlimitMemlock: 4 * GIB,
      capable: () => false,
    },
    allowUnsafeInterrupts: true,
  });
  const ioas = ctx.ioasAlloc();
  const idev = ctx.deviceBind({
    group: testIommuGroup({ id: 1, devices: [{ name: 'dev' }] }),
    device: 'dev',
  });
  ctx.deviceAttach(idev, ioas);
  const flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
  return {
    map: (iova, size) =>
      void ctx.ioasMap({ flags, ioas_id: ioas, user_va: VADDR + (iova - IOVA), length: size, iova }),
    unmap: (iova, size) => void ctx.ioasUnmap({ ioas_id: ioas, iova, length: size }),
  };
}

export default function run(): void {
  const rows: string[][] = [];
  const backends = [
    ['type1 (VFIO_IOMMU_MAP_DMA/UNMAP_DMA)', type1()],
    ['iommufd (IOMMU_IOAS_MAP/UNMAP)', iommufd()],
  ] as const;
  for (const [size, label] of [
    [0x1000, '4 KiB'],
    [0x20_0000, '2 MiB'],
  ] as const) {
    for (const [name, b] of backends) {
      const ms = medianMs(() => {
        for (let i = 0; i < N; i++) b.map(IOVA + i * size, size);
        for (let i = 0; i < N; i++) b.unmap(IOVA + i * size, size);
      }, 9);
      rows.push([
        name,
        `${N} maps + ${N} unmaps of ${label}`,
        ms.toFixed(2),
        `${Math.round((2 * N) / (ms / 1000))}`,
      ]);
    }
  }
  for (const [name, b] of backends) {
    const ms = medianMs(() => {
      b.map(IOVA, GIB);
      b.unmap(IOVA, GIB);
    }, 3);
    rows.push([name, '1 map + 1 unmap of 1 GiB', ms.toFixed(2), `${Math.round(2 / (ms / 1000))}`]);
  }
  printTable(['back end', 'work', 'median ms', 'ioctls/s'], rows);
}
