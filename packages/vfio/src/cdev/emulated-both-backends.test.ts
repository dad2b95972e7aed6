import { type EventFd, KernelError, PhysicalMemory, physAddr } from '@vfiokit/core';
import {
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IommufdFile,
} from '@vfiokit/iommufd';
import { describe, expect, it } from 'vitest';
import { VfioContainerHandle } from '../api/container-handle.js';
import { VfioGroupHandle } from '../api/group-handle.js';
import type { VfioDevice } from '../device/vfio-device.js';
import { countingDeviceOps } from '../testing/index.js';
import {
  VFIO_DEVICE_ATTACH_IOMMUFD_PT,
  VFIO_DEVICE_BIND_IOMMUFD,
  VFIO_TYPE1v2_IOMMU,
} from '../uapi/ioctls.js';
import { UserAddressSpace } from '../user/address-space.js';
import type { VfioFile } from '../user/file.js';
import { UserProcess } from '../user/process.js';
import type { Task } from '../user/task.js';
import { Vfio } from '../vfio.js';
import { openDeviceCdev } from './open-cdev.js';

// The emulated-IOMMU path on both back ends with the same device-side code: an mdev-style
// driver calls vfio_pin_pages / vfio_dma_rw / vfio_unpin_pages, and gets the same pages and
// bytes whether user space went through a type1 container or through /dev/iommu and the cdev.

const VADDR = 0x10_0000;
const IOVA = 0x4000_0000;
const RAM = 0x8000_0000;

/** The device side: pin two pages, write through dma_rw, read it back, unpin. */
function deviceSide(vfio: Vfio, device: VfioDevice, memory: PhysicalMemory): unknown {
  const pages = vfio.pinPages(device, IOVA + 0x10, 2, 3);
  vfio.dmaRw(device, memory, IOVA + 0xffe, Uint8Array.of(1, 2, 3, 4), true);
  const back = new Uint8Array(4);
  vfio.dmaRw(device, memory, IOVA + 0xffe, back, false);
  vfio.unpinPages(device, IOVA + 0x10, 2);
  return { pages, back: [...back], ram: memory.readU32(physAddr(RAM + 0xffe)) };
}

function memoryWithRam(): PhysicalMemory {
  const memory = new PhysicalMemory();
  memory.allocate(physAddr(RAM), 0x10_0000);
  return memory;
}

function viaType1(): unknown {
  const memory = memoryWithRam();
  const vfio = new Vfio();
  const device = vfio.registerEmulatedIommuDevice({
    name: 'mdev',
    ops: { ...countingDeviceOps(), dmaUnmap: () => undefined },
  });
  const vmm = new UserProcess({ vfio, rlimitMemlock: 1 << 24 });
  vmm.addressSpace.mmap(VADDR, physAddr(RAM), 0x10_0000);
  const container = VfioContainerHandle.open(vmm);
  const group = VfioGroupHandle.open(vmm, Number(vfio.groupOf(device)?.name));
  group.setContainer(container);
  container.setIommu(VFIO_TYPE1v2_IOMMU);
  container.mapDma({ vaddr: VADDR, iova: IOVA, size: 0x4000 });
  group.getDevice('mdev');
  return deviceSide(vfio, device, memory);
}

class Proc implements Task {
  readonly pid = 7;
  readonly comm = 'vmm';
  readonly mm = { addressSpace: new UserAddressSpace(), lockedVm: 0 };
  readonly rlimitMemlock = 1 << 24;
  private readonly fds = new Map<number, VfioFile | EventFd>();
  capable(): boolean {
    return false;
  }
  install(file: VfioFile | EventFd): number {
    this.fds.set(this.fds.size + 3, file);
    return this.fds.size + 2;
  }
  fdget(fd: number): VfioFile | EventFd {
    const f = this.fds.get(fd);
    if (f === undefined) throw new KernelError('EBADF', `fd ${fd}`);
    return f;
  }
}

function viaIommufd(): unknown {
  const memory = memoryWithRam();
  const vfio = new Vfio({ deviceCdev: true });
  const device = vfio.registerEmulatedIommuDevice({
    name: 'mdev',
    ops: { ...countingDeviceOps(), dmaUnmap: () => undefined },
  });
  const proc = new Proc();
  proc.mm.addressSpace.mmap(VADDR, physAddr(RAM), 0x10_0000);
  const iommufd = new IommufdFile({
    task: { mm: proc.mm, user: { lockedVm: 0 }, rlimitMemlock: proc.rlimitMemlock, capable: () => false },
  });
  const cdev = openDeviceCdev(vfio, 'vfio0');
  const bind = new Uint8Array(16);
  new DataView(bind.buffer).setUint32(0, 16, true);
  new DataView(bind.buffer).setInt32(8, proc.install(iommufd), true);
  cdev.ioctl(proc, VFIO_DEVICE_BIND_IOMMUFD, bind);
  const ioas = iommufd.iommufd.ioasAlloc();
  const attach = new Uint8Array(12);
  new DataView(attach.buffer).setUint32(0, 12, true);
  new DataView(attach.buffer).setUint32(8, ioas, true);
  cdev.ioctl(proc, VFIO_DEVICE_ATTACH_IOMMUFD_PT, attach);
  iommufd.iommufd.ioasMap({
    flags: IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
    ioas_id: ioas,
    user_va: VADDR,
    length: 0x4000,
    iova: IOVA,
  });
  return deviceSide(vfio, device, memory);
}

describe('the emulated-IOMMU path on both back ends', () => {
  it('vfio_pin_pages / vfio_dma_rw / vfio_unpin_pages give the same pages and bytes through type1 and through iommufd', () => {
    const type1 = viaType1();
    expect(type1).toEqual({ pages: [RAM, RAM + 0x1000], back: [1, 2, 3, 4], ram: 0x04030201 });
    expect(viaIommufd()).toEqual(type1);
  });
});
