import { type AccessSize, KernelError, type MmioDevice, type PhysAddr } from '@vfiokit/core';
import {
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
} from '../uapi/flags.js';
import { VFIO_PLATFORM_OFFSET_SHIFT, vfioPlatformSplitOffset } from '../uapi/platform-offsets.js';
import type { MmapRequest, MmapResult } from '../user/file.js';
import type { PlatformResource } from './binder.js';

const PAGE_SIZE = 0x1000;

/** `struct vfio_platform_region`. */
export interface PlatformRegion {
  readonly addr: PhysAddr;
  readonly size: number;
  readonly flags: number;
  /** `VFIO_PLATFORM_REGION_TYPE_MMIO` (1) or `_PIO` (2). */
  readonly type: 'mmio' | 'pio';
  /** What ioremap maps; mapped lazily on first access. */
  readonly model: MmioDevice | undefined;
  ioaddr: MmioDevice | undefined;
}

/**
 * `vfio_platform_regions_init` (drivers/vfio/platform/vfio_platform_common.c): MEM resources
 * become MMIO regions (READ, WRITE unless read-only, MMAP iff address and size are
 * page-aligned), IO resources PIO regions with no access; anything else `EINVAL`.
 */
export function regionsInit(getResource: (index: number) => PlatformResource | undefined): PlatformRegion[] {
  const regions: PlatformRegion[] = [];
  for (let i = 0; ; i++) {
    const res = getResource(i);
    if (res === undefined) break;
    if (res.type === 'mem') {
      let flags = VFIO_REGION_INFO_FLAG_READ;
      if (res.readOnly !== true) flags |= VFIO_REGION_INFO_FLAG_WRITE;
      if (res.start % PAGE_SIZE === 0 && res.size % PAGE_SIZE === 0) flags |= VFIO_REGION_INFO_FLAG_MMAP;
      regions.push({
        addr: res.start,
        size: res.size,
        flags,
        type: 'mmio',
        model: res.model,
        ioaddr: undefined,
      });
    } else if (res.type === 'io') {
      regions.push({
        addr: res.start,
        size: res.size,
        flags: 0,
        type: 'pio',
        model: res.model,
        ioaddr: undefined,
      });
    } else {
      throw new KernelError('EINVAL', `resource ${i} is neither MEM nor IO`);
    }
  }
  return regions;
}

// The lazy ioremap of vfio_platform_read_mmio/_write_mmio.
function ioremap(region: PlatformRegion): MmioDevice {
  if (region.ioaddr === undefined) {
    if (region.model === undefined)
      throw new KernelError('ENOMEM', `ioremap of 0x${region.addr.toString(16)} failed`);
    region.ioaddr = region.model;
  }
  return region.ioaddr;
}

function regionAt(
  regions: readonly PlatformRegion[],
  position: number,
  flag: number,
): { region: PlatformRegion; off: number } {
  const { index, offset } = vfioPlatformSplitOffset(position);
  const region = regions[index];
  if (region === undefined) throw new KernelError('EINVAL', `region index ${index} ≥ ${regions.length}`);
  if ((region.flags & flag) === 0)
    throw new KernelError('EINVAL', `region ${index} does not allow this access`);
  if (region.type !== 'mmio')
    throw new KernelError('EINVAL', `region ${index} is PIO, which vfio-platform does not support`);
  // CVE-2025-21687 ("vfio/platform: check the bounds of read/write syscalls").
  if (offset >= region.size)
    throw new KernelError('EINVAL', `offset 0x${offset.toString(16)} past region ${index}`);
  return { region, off: offset };
}

// The access-size loop: 4 bytes when count ≥ 4 and off is 4-aligned, else 2, else 1.
function accessSize(count: number, off: number): AccessSize {
  if (count >= 4 && off % 4 === 0) return 4;
  if (count >= 2 && off % 2 === 0) return 2;
  return 1;
}

/** `vfio_platform_read` → `_read_mmio`: returns the bytes read into `buffer`. */
export function regionRead(regions: readonly PlatformRegion[], buffer: Uint8Array, position: number): number {
  const { region, off: start } = regionAt(regions, position, VFIO_REGION_INFO_FLAG_READ);
  const io = ioremap(region);
  const count = Math.min(buffer.length, region.size - start);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let done = 0;
  while (done < count) {
    const off = start + done;
    const size = accessSize(count - done, off);
    const value = io.read(off, size);
    if (size === 4) view.setUint32(done, value >>> 0, true);
    else if (size === 2) view.setUint16(done, value, true);
    else view.setUint8(done, value);
    done += size;
  }
  return done;
}

/** `vfio_platform_write` → `_write_mmio`: returns the bytes written from `data`. */
export function regionWrite(regions: readonly PlatformRegion[], data: Uint8Array, position: number): number {
  const { region, off: start } = regionAt(regions, position, VFIO_REGION_INFO_FLAG_WRITE);
  const io = ioremap(region);
  const count = Math.min(data.length, region.size - start);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let done = 0;
  while (done < count) {
    const off = start + done;
    const size = accessSize(count - done, off);
    const value =
      size === 4 ? view.getUint32(done, true) : size === 2 ? view.getUint16(done, true) : view.getUint8(done);
    io.write(off, size, value);
    done += size;
  }
  return done;
}

/**
 * `vfio_platform_mmap` + `_mmap_mmio`, every check in the kernel's order: `EINVAL` for an
 * empty or unaligned request (mmap(2) itself), a private mapping, an index past the regions,
 * unaligned `vm_start`/`vm_end`, a region without MMAP, VM_READ/VM_WRITE the region does not
 * allow, a PIO region, a region smaller than a page, or a range past the region's end.
 */
export function regionMmap(regions: readonly PlatformRegion[], request: MmapRequest): MmapResult {
  const vmStart = request.start;
  const vmEnd = request.start + request.length;
  if (request.length <= 0 || request.offset % PAGE_SIZE !== 0 || !Number.isSafeInteger(vmEnd)) {
    throw new KernelError('EINVAL', 'mmap length or offset is invalid');
  }
  const pgoff = request.offset / PAGE_SIZE;
  const index = Math.floor(pgoff / 2 ** (VFIO_PLATFORM_OFFSET_SHIFT - 12));
  if (vmEnd < vmStart) throw new KernelError('EINVAL', 'vm_end < vm_start');
  if (!request.shared) throw new KernelError('EINVAL', 'VFIO regions need MAP_SHARED');
  const region = regions[index];
  if (region === undefined) throw new KernelError('EINVAL', `region index ${index} ≥ ${regions.length}`);
  if (vmStart % PAGE_SIZE !== 0 || vmEnd % PAGE_SIZE !== 0)
    throw new KernelError('EINVAL', 'vm_start/vm_end not page aligned');
  if ((region.flags & VFIO_REGION_INFO_FLAG_MMAP) === 0)
    throw new KernelError('EINVAL', `region ${index} cannot be mmapped`);
  if ((region.flags & VFIO_REGION_INFO_FLAG_READ) === 0 && request.read)
    throw new KernelError('EINVAL', `region ${index} is not readable`);
  if ((region.flags & VFIO_REGION_INFO_FLAG_WRITE) === 0 && request.write)
    throw new KernelError('EINVAL', `region ${index} is not writable`);
  if (region.type !== 'mmio') throw new KernelError('EINVAL', `region ${index} is PIO`);
  const inner = pgoff % 2 ** (VFIO_PLATFORM_OFFSET_SHIFT - 12);
  const reqStart = inner * PAGE_SIZE;
  if (region.size < PAGE_SIZE || reqStart + request.length > region.size) {
    throw new KernelError(
      'EINVAL',
      `mmap of 0x${request.length.toString(16)} at 0x${reqStart.toString(16)} passes region ${index}`,
    );
  }
  return {
    start: vmStart,
    length: request.length,
    paddr: region.addr + reqStart,
    noncached: true,
    ...(region.model === undefined ? {} : { mmio: region.model, mmioOffset: reqStart }),
  };
}
