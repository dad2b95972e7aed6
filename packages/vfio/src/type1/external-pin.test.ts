import { IOMMU_READ, IOMMU_WRITE, KernelError, PhysicalMemory, physAddr } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { VfioContainerHandle } from '../api/container-handle.js';
import { VfioGroupHandle } from '../api/group-handle.js';
import type { VfioDeviceOps } from '../device/vfio-device.js';
import { countingDeviceOps } from '../testing/counting-device.js';
import { testIommuGroup } from '../testing/test-group.js';
import { VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU } from '../uapi/ioctls.js';
import { UserProcess } from '../user/process.js';
import { Vfio } from '../vfio.js';

const VADDR = 0x10_0000;
const PHYS = 0x8000_0000;

// An mdev-like emulated device: pins pages for its own DMA and unpins on dma_unmap when `obliging`.
function emulatedHost(type = VFIO_TYPE1v2_IOMMU) {
  const vfio = new Vfio();
  const pinned = new Map<number, number>();
  const state = { obliging: true, unmapCalls: 0 };
  const ops: VfioDeviceOps = {
    openDevice: () => undefined,
    closeDevice: () => undefined,
    ioctl: () => {
      throw new KernelError('ENOTTY', 'none');
    },
    read: () => 0,
    write: () => 0,
    mmap: () => {
      throw new KernelError('ENODEV', 'none');
    },
    dmaUnmap: (iova, length) => {
      state.unmapCalls++;
      if (!state.obliging) return;
      for (const [page, count] of [...pinned]) {
        if (page >= iova && page < iova + length) {
          vfio.unpinPages(device, page, 1);
          if (count > 1) pinned.set(page, count - 1);
          else pinned.delete(page);
        }
      }
    },
  };
  const device = vfio.registerEmulatedIommuDevice({ name: 'mdev0', ops });
  const name = [...vfio.groups.keys()][0] ?? '';
  const process = new UserProcess({ vfio, rlimitMemlock: 0x4000 });
  process.addressSpace.mmap(VADDR, physAddr(PHYS), 0x10_0000);
  const container = VfioContainerHandle.open(process);
  const group = VfioGroupHandle.open(process, name);
  group.setContainer(container);
  container.setIommu(type);
  const pin = (iova: number, npage: number, prot: number): number[] => {
    const pages = vfio.pinPages(device, iova, npage, prot);
    for (let i = 0; i < npage; i++) pinned.set(iova + i * 0x1000, (pinned.get(iova + i * 0x1000) ?? 0) + 1);
    return pages;
  };
  return { vfio, device, process, container, group, pin, state };
}

describe('type1 with emulated groups only (no IOMMU domain: mappings are only recorded)', () => {
  it('still refuses overlaps (EEXIST) and counts dma_avail, without charging locked_vm', () => {
    const h = emulatedHost();
    h.container.mapDma({ vaddr: VADDR, iova: 0x4000_0000, size: 0x4000 });
    expect(thrownErrno(() => h.container.mapDma({ vaddr: VADDR, iova: 0x4000_3000, size: 0x2000 }))).toBe(
      'EEXIST',
    );
    expect(thrownErrno(() => h.container.mapDma({ vaddr: VADDR, iova: 0x3fff_f000, size: 0x2000 }))).toBe(
      'EEXIST',
    );
    h.container.mapDma({ vaddr: VADDR, iova: 0x4000_4000, size: 0x1000 });
    expect(h.container.iommuInfo().dmaAvail).toBe(65533);
    expect(h.process.mm.lockedVm).toBe(0);
    expect(h.container.unmapDma({ all: true })).toBe(0x5000n);
  });
});

describe('vfio_pin_pages / vfio_dma_rw for emulated-IOMMU devices (type1)', () => {
  it('the last IOMMU group leaving re-charges the pages emulated devices still pin (unmap_unpin_reaccount)', () => {
    const h = emulatedHost();
    h.vfio.params.allowUnsafeInterrupts = true;
    const iommuGroup = testIommuGroup({ id: 9, devices: [{ name: 'dev9' }] });
    h.vfio.registerGroupDevice({ name: 'dev9', ops: countingDeviceOps(), iommuGroup });
    const group9 = VfioGroupHandle.open(h.process, 9);
    group9.setContainer(h.container);
    h.container.mapDma({ vaddr: VADDR, iova: 0x4000_0000, size: 0x4000 });
    expect(h.process.mm.lockedVm).toBe(4);
    const fd = h.group.getDevice('mdev0');
    h.pin(0x4000_1000, 2, IOMMU_READ);
    // Covered by the IOMMU pin: not charged twice.
    expect(h.process.mm.lockedVm).toBe(4);
    group9.unsetContainer();
    expect(h.process.mm.lockedVm).toBe(2);
    fd.close();
  });

  it('pins through the recorded mapping, counts pins per page, charges locked_vm once per page', () => {
    const h = emulatedHost();
    h.container.mapDma({ vaddr: VADDR, iova: 0x4000_0000, size: 0x10000 });
    expect(h.process.mm.lockedVm).toBe(0);
    expect(thrownErrno(() => h.vfio.pinPages(h.device, 0x4000_0000, 1, IOMMU_READ))).toBe('EINVAL');
    const fd = h.group.getDevice('mdev0');
    expect(h.pin(0x4000_1000, 2, IOMMU_READ | IOMMU_WRITE)).toEqual([PHYS + 0x1000, PHYS + 0x2000]);
    h.pin(0x4000_1000, 1, IOMMU_READ);
    expect(h.process.mm.lockedVm).toBe(2);
    expect(thrownErrno(() => h.pin(0x4000_4000, 3, IOMMU_READ))).toBe('ENOMEM');
    expect(h.process.mm.lockedVm).toBe(2);
    fd.close();
  });

  it('EINVAL, E2BIG, EPERM and EINVAL outside mappings; EACCES on TYPE1', () => {
    const h = emulatedHost();
    h.container.mapDma({ vaddr: VADDR, iova: 0x4000_0000, size: 0x10000, write: false });
    h.group.getDevice('mdev0');
    expect(thrownErrno(() => h.vfio.pinPages(h.device, 0x4000_0000, 0, IOMMU_READ))).toBe('EINVAL');
    expect(thrownErrno(() => h.vfio.pinPages(h.device, 0x4000_0000, 513, IOMMU_READ))).toBe('E2BIG');
    expect(thrownErrno(() => h.vfio.pinPages(h.device, 0x4000_0000, 1, IOMMU_WRITE))).toBe('EPERM');
    expect(thrownErrno(() => h.vfio.pinPages(h.device, 0x5000_0000, 1, IOMMU_READ))).toBe('EINVAL');
    const v1 = emulatedHost(VFIO_TYPE1_IOMMU);
    v1.container.mapDma({ vaddr: VADDR, iova: 0x4000_0000, size: 0x1000 });
    v1.group.getDevice('mdev0');
    expect(thrownErrno(() => v1.vfio.pinPages(v1.device, 0x4000_0000, 1, IOMMU_READ))).toBe('EACCES');
  });

  it('UNMAP_DMA asks the device to unpin first; a device that does not unpin is a kernel BUG (EBUSY here)', () => {
    const h = emulatedHost();
    h.container.mapDma({ vaddr: VADDR, iova: 0x4000_0000, size: 0x10000 });
    h.group.getDevice('mdev0');
    h.pin(0x4000_2000, 2, IOMMU_READ);
    expect(h.container.unmapDma({ iova: 0x4000_0000, size: 0x10000 })).toBe(0x10000n);
    expect(h.state.unmapCalls).toBe(1);
    expect(h.process.mm.lockedVm).toBe(0);
    h.container.mapDma({ vaddr: VADDR, iova: 0x4000_0000, size: 0x10000 });
    h.pin(0x4000_0000, 1, IOMMU_READ);
    h.state.obliging = false;
    expect(thrownErrno(() => h.container.unmapDma({ all: true }))).toBe('EBUSY');
  });

  it('dma_rw copies through user memory across mappings; EPERM for a forbidden direction', () => {
    const h = emulatedHost();
    const memory = new PhysicalMemory();
    memory.allocate(physAddr(PHYS), 0x10_0000);
    h.container.mapDma({ vaddr: VADDR, iova: 0x4000_0000, size: 0x1000 });
    h.container.mapDma({ vaddr: VADDR + 0x1000, iova: 0x4000_1000, size: 0x1000, write: false });
    h.group.getDevice('mdev0');
    const data = Uint8Array.from({ length: 32 }, (_, i) => i);
    h.vfio.dmaRw(h.device, memory, 0x4000_0ff0, data.subarray(0, 16), true);
    expect(thrownErrno(() => h.vfio.dmaRw(h.device, memory, 0x4000_0ff0, data, true))).toBe('EPERM');
    const back = new Uint8Array(16);
    h.vfio.dmaRw(h.device, memory, 0x4000_0ff0, back, false);
    expect([...back]).toEqual([...data.subarray(0, 16)]);
    expect(thrownErrno(() => h.vfio.dmaRw(h.device, memory, 0x6000_0000, back, false))).toBe('EINVAL');
  });

  it('dma_rw: EPERM for a write-only mapping in either direction, EFAULT from another process (vfio_iommu_type1_dma_rw_chunk)', () => {
    const h = emulatedHost();
    const memory = new PhysicalMemory();
    h.container.mapDma({ vaddr: VADDR, iova: 0x4000_0000, size: 0x1000, read: false });
    h.container.mapDma({ vaddr: VADDR + 0x1000, iova: 0x4000_1000, size: 0x1000 });
    h.group.getDevice('mdev0');
    const data = new Uint8Array(8);
    expect(thrownErrno(() => h.vfio.dmaRw(h.device, memory, 0x4000_0000, data, true))).toBe('EPERM');
    expect(thrownErrno(() => h.vfio.dmaRw(h.device, memory, 0x4000_0000, data, false))).toBe('EPERM');
    // The owning process and a kernel thread may copy; another process gets EFAULT.
    h.vfio.dmaRw(h.device, memory, 0x4000_1000, data, true, h.process);
    h.vfio.dmaRw(h.device, memory, 0x4000_1000, data, true);
    const other = new UserProcess({ vfio: h.vfio, pid: 2000 });
    expect(thrownErrno(() => h.vfio.dmaRw(h.device, memory, 0x4000_1000, data, true, other))).toBe('EFAULT');
  });

  it('pin counts are per page: each pin needs its unpin, the last one uncharges, one more does nothing (vfio_unpin_page_external: no vpfn → 0)', () => {
    const h = emulatedHost();
    h.container.mapDma({ vaddr: VADDR, iova: 0x4000_0000, size: 0x4000 });
    h.group.getDevice('mdev0');
    h.vfio.pinPages(h.device, 0x4000_1000, 1, IOMMU_READ);
    h.vfio.pinPages(h.device, 0x4000_1000, 1, IOMMU_READ);
    expect(h.process.mm.lockedVm).toBe(1);
    h.vfio.unpinPages(h.device, 0x4000_1000, 1);
    expect(h.process.mm.lockedVm).toBe(1);
    h.vfio.unpinPages(h.device, 0x4000_1000, 1);
    expect(h.process.mm.lockedVm).toBe(0);
    h.vfio.unpinPages(h.device, 0x4000_1000, 1);
    expect(h.process.mm.lockedVm).toBe(0);
  });
});
