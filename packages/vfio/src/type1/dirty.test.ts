import { IOMMU_READ, PhysicalMemory, physAddr } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VfioContainerHandle } from '../api/container-handle.js';
import { VfioGroupHandle } from '../api/group-handle.js';
import { GUEST_RAM_VADDR, type1Fixture } from '../test-support/type1-fixture.js';
import { countingDeviceOps } from '../testing/counting-device.js';
import { VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION } from '../uapi/flags.js';
import {
  VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_START,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP,
} from '../uapi/generated-constants.js';
import {
  vfioBitmap,
  vfioIommuType1DirtyBitmap,
  vfioIommuType1DirtyBitmapGet,
} from '../uapi/generated-structs.js';
import {
  VFIO_IOMMU_DIRTY_PAGES,
  VFIO_IOMMU_GET_INFO,
  VFIO_IOMMU_UNMAP_DMA,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
} from '../uapi/ioctls.js';
import { vfioInfoCapHeader } from '../uapi/structs-device.js';
import { vfioIommuType1DmaUnmap, vfioIommuType1Info } from '../uapi/structs-iommu.js';
import { UserProcess } from '../user/process.js';
import { Vfio } from '../vfio.js';

// VFIO_IOMMU_DIRTY_PAGES as drivers/vfio/vfio_iommu_type1.c has it, so that the advertised
// VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION is true: START/STOP, GET_BITMAP into user memory, and
// UNMAP_DMA with GET_DIRTY_BITMAP.

const BITMAP_VADDR = 0x10_0000;
const BITMAP_PHYS = 0x2000_0000;

function tracked() {
  const memory = new PhysicalMemory();
  const f = type1Fixture({ memory });
  f.process.addressSpace.mmap(BITMAP_VADDR, physAddr(BITMAP_PHYS), 0x1000);
  return { f, memory };
}

function dirtyPages(
  f: ReturnType<typeof type1Fixture>,
  flags: number,
  extra?: Uint8Array,
  argsz?: number,
): void {
  const header = vfioIommuType1DirtyBitmap.size;
  const bytes = new Uint8Array(header + (extra?.length ?? 0));
  vfioIommuType1DirtyBitmap.encode({ argsz: argsz ?? bytes.length, flags }, bytes);
  if (extra !== undefined) bytes.set(extra, header);
  f.process.ioctl(f.container.fd, VFIO_IOMMU_DIRTY_PAGES, bytes);
}

function getRange(
  iova: number,
  size: number,
  pgsize = 0x1000,
  bitmapSize = 8,
  data = BITMAP_VADDR,
): Uint8Array {
  return vfioIommuType1DirtyBitmapGet.encode({
    iova,
    size,
    'bitmap.pgsize': pgsize,
    'bitmap.size': bitmapSize,
    'bitmap.data': data,
  });
}

describe('VFIO_IOMMU_DIRTY_PAGES (vfio_iommu_type1_dirty_pages)', () => {
  it('GET_INFO advertises CAP_MIGRATION, and START / STOP succeed (idempotent)', () => {
    const f = type1Fixture();
    const bytes = new Uint8Array(256);
    vfioIommuType1Info.encodePrefix(
      { argsz: 256, flags: 0, iova_pgsizes: 0, cap_offset: 0, pad: 0 },
      4,
      bytes,
    );
    f.process.ioctl(f.container.fd, VFIO_IOMMU_GET_INFO, bytes);
    const first = vfioIommuType1Info.decode(bytes).cap_offset;
    expect(vfioInfoCapHeader.decode(bytes, first).id).toBe(VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION);
    dirtyPages(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
    dirtyPages(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
    dirtyPages(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP);
    dirtyPages(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP);
  });

  it.each([
    ['argsz below minsz', () => [VFIO_IOMMU_DIRTY_PAGES_FLAG_START, undefined, 7] as const, 'EINVAL'],
    ['an unknown flag', () => [8, undefined, undefined] as const, 'EINVAL'],
    [
      'two flags',
      () =>
        [VFIO_IOMMU_DIRTY_PAGES_FLAG_START | VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP, undefined, undefined] as const,
      'EINVAL',
    ],
    ['no flag', () => [0, undefined, undefined] as const, 'EINVAL'],
    [
      'GET_BITMAP without a range',
      () => [VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, undefined, undefined] as const,
      'EINVAL',
    ],
    [
      'GET_BITMAP before START',
      () => [VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, getRange(0x4000_0000, 0x1000), undefined] as const,
      'EINVAL',
    ],
  ])('%s → %s', (_what, args, errno) => {
    const f = type1Fixture();
    const [flags, extra, argsz] = args();
    expect(thrownErrno(() => dirtyPages(f, flags, extra, argsz))).toBe(errno);
  });

  it('EACCES on TYPE1 (v1)', () => {
    const f = type1Fixture({ type: VFIO_TYPE1_IOMMU });
    expect(thrownErrno(() => dirtyPages(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START))).toBe('EACCES');
  });

  it('GET_BITMAP reports every page of an IOMMU-mapped range dirty (the group cannot report), into user memory', () => {
    const { f, memory } = tracked();
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 0x4000_0000, size: 0x3000 });
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR + 0x3000, iova: 0x4000_3000, size: 0x2000 });
    dirtyPages(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
    // A bitmap at an unmapped user address: copy_to_user faults.
    expect(
      thrownErrno(() =>
        dirtyPages(
          f,
          VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
          getRange(0x4000_0000, 0x5000, 0x1000, 8, 0x30_0000),
        ),
      ),
    ).toBe('EFAULT');
    dirtyPages(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, getRange(0x4000_0000, 0x5000));
    const out = new Uint8Array(8);
    memory.read(physAddr(BITMAP_PHYS), out);
    expect([...out]).toEqual([0x1f, 0, 0, 0, 0, 0, 0, 0]);
    // A range that bisects a mapping is EINVAL; a bitmap too small or of another page size too.
    expect(
      thrownErrno(() => dirtyPages(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, getRange(0x4000_1000, 0x2000))),
    ).toBe('EINVAL');
    expect(
      thrownErrno(() =>
        dirtyPages(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, getRange(0x4000_0000, 0x3000, 0x2000)),
      ),
    ).toBe('EINVAL');
    expect(
      thrownErrno(() =>
        dirtyPages(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, getRange(0x4000_0000, 0x3000, 0x1000, 0)),
      ),
    ).toBe('EINVAL');
    expect(
      thrownErrno(() =>
        dirtyPages(
          f,
          VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
          getRange(0x4000_0000, 0x3000, 0x1000, 8, 2 ** 48),
        ),
      ),
    ).toBe('EINVAL');
  });

  it('UNMAP_DMA with GET_DIRTY_BITMAP writes the unmapped range bits; EINVAL without tracking or with another pgsize', () => {
    const { f, memory } = tracked();
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 0x4000_0000, size: 0x2000 });
    const unmapWithBitmap = (pgsize = 0x1000): void => {
      const bytes = new Uint8Array(vfioIommuType1DmaUnmap.size + vfioBitmap.size);
      vfioIommuType1DmaUnmap.encode(
        { argsz: bytes.length, flags: VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, iova: 0x4000_0000, size: 0x2000 },
        bytes,
      );
      vfioBitmap.encode({ pgsize, size: 8, data: BITMAP_VADDR }, bytes, vfioIommuType1DmaUnmap.size);
      f.process.ioctl(f.container.fd, VFIO_IOMMU_UNMAP_DMA, bytes);
      expect(vfioIommuType1DmaUnmap.decode(bytes).size).toBe(0x2000n);
    };
    expect(thrownErrno(unmapWithBitmap)).toBe('EINVAL');
    dirtyPages(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
    // vfio_dma_do_unmap: "When dirty tracking is enabled, allow only min supported pgsize".
    expect(thrownErrno(() => unmapWithBitmap(0x2000))).toBe('EINVAL');
    unmapWithBitmap();
    const out = new Uint8Array(1);
    memory.read(physAddr(BITMAP_PHYS), out);
    expect(out[0]).toBe(0x03);
    expect(f.process.mm.lockedVm).toBe(0);
  });

  it('with only emulated groups, pinned pages and dma_rw writes are the dirty ones; a report re-populates with the pins', () => {
    const memory = new PhysicalMemory();
    const vfio = new Vfio();
    const ops = { ...countingDeviceOps(), dmaUnmap: () => undefined };
    const device = vfio.registerEmulatedIommuDevice({ name: 'mdev0', ops });
    const process = new UserProcess({ vfio, memory, rlimitMemlock: 2 ** 30 });
    process.addressSpace.mmap(GUEST_RAM_VADDR, physAddr(0x8000_0000), 0x10_0000);
    process.addressSpace.mmap(BITMAP_VADDR, physAddr(BITMAP_PHYS), 0x1000);
    const container = VfioContainerHandle.open(process);
    const group = VfioGroupHandle.open(process, [...vfio.groups.keys()][0] ?? '');
    group.setContainer(container);
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 0x4000_0000, size: 0x8000 });
    group.getDevice('mdev0');
    const f = { process, container } as unknown as ReturnType<typeof type1Fixture>;
    dirtyPages(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
    vfio.pinPages(device, 0x4000_1000, 1, IOMMU_READ);
    vfio.dmaRw(device, memory, 0x4000_5000, new Uint8Array(0x1001), true);
    const report = (): number => {
      dirtyPages(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, getRange(0x4000_0000, 0x8000));
      const out = new Uint8Array(1);
      memory.read(physAddr(BITMAP_PHYS), out);
      return out[0] ?? -1;
    };
    expect(report()).toBe(0b0110_0010);
    expect(report()).toBe(0b0000_0010);
  });

  it('property: with only emulated groups a report is exactly the pages pinned or written since the last report, plus those still pinned', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ op: fc.constantFrom('pin', 'unpin', 'write', 'report'), page: fc.nat(7) }), {
          maxLength: 30,
        }),
        (steps) => {
          const memory = new PhysicalMemory();
          const vfio = new Vfio();
          const ops = { ...countingDeviceOps(), dmaUnmap: () => undefined };
          const device = vfio.registerEmulatedIommuDevice({ name: 'mdev0', ops });
          const process = new UserProcess({ vfio, memory, rlimitMemlock: 2 ** 30 });
          process.addressSpace.mmap(GUEST_RAM_VADDR, physAddr(0x8000_0000), 0x10_0000);
          process.addressSpace.mmap(BITMAP_VADDR, physAddr(BITMAP_PHYS), 0x1000);
          const container = VfioContainerHandle.open(process);
          const group = VfioGroupHandle.open(process, [...vfio.groups.keys()][0] ?? '');
          group.setContainer(container);
          container.setIommu(VFIO_TYPE1v2_IOMMU);
          container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 0x4000_0000, size: 0x8000 });
          group.getDevice('mdev0');
          const f = { process, container } as unknown as ReturnType<typeof type1Fixture>;
          dirtyPages(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
          const pins = new Map<number, number>();
          let dirty = new Set<number>();
          for (const { op, page } of steps) {
            const iova = 0x4000_0000 + page * 0x1000;
            if (op === 'pin') {
              if ((pins.get(page) ?? 0) === 0) dirty.add(page);
              vfio.pinPages(device, iova, 1, IOMMU_READ);
              pins.set(page, (pins.get(page) ?? 0) + 1);
            } else if (op === 'unpin' && (pins.get(page) ?? 0) > 0) {
              vfio.unpinPages(device, iova, 1);
              pins.set(page, (pins.get(page) ?? 0) - 1);
            } else if (op === 'write') {
              vfio.dmaRw(device, memory, iova, new Uint8Array(8), true);
              dirty.add(page);
            } else if (op === 'report') {
              memory.write(physAddr(BITMAP_PHYS), new Uint8Array(8));
              dirtyPages(f, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, getRange(0x4000_0000, 0x8000));
              const out = new Uint8Array(1);
              memory.read(physAddr(BITMAP_PHYS), out);
              let expected = 0;
              for (const p of dirty) expected |= 1 << p;
              expect(out[0]).toBe(expected);
              // vfio_iova_dirty_bitmap re-populates with the pages still pinned.
              dirty = new Set([...pins].filter(([, n]) => n > 0).map(([p]) => p));
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
