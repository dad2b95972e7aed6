import { thrownErrno } from '@vfiokit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openedPlatformFixture } from '../test-support/platform-fixture.js';
import {
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
} from '../uapi/flags.js';
import { VFIO_DEVICE_GET_REGION_INFO } from '../uapi/ioctls.js';
import { vfioRegionInfo } from '../uapi/structs-device.js';
import type { MmapRequest } from '../user/file.js';

const RW = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;

describe('regions (vfio_platform_regions_init, GET_REGION_INFO)', () => {
  it('reports index << 40 offsets; MMAP only for page-aligned address and size', () => {
    const f = openedPlatformFixture();
    expect(f.handle.regionInfo(0)).toEqual({
      index: 0,
      flags: RW | VFIO_REGION_INFO_FLAG_MMAP,
      size: 0x1000,
      offset: 0,
    });
    expect(f.handle.regionInfo(1)).toEqual({ index: 1, flags: RW, size: 0x100, offset: 2 ** 40 });
    expect(thrownErrno(() => f.handle.regionInfo(2))).toBe('EINVAL');
    const short = vfioRegionInfo.encode({ argsz: 31, flags: 0, index: 0, cap_offset: 0, size: 0, offset: 0 });
    expect(thrownErrno(() => f.process.ioctl(f.handle.fd, VFIO_DEVICE_GET_REGION_INFO, short))).toBe(
      'EINVAL',
    );
  });
});

describe('read/write (vfio_platform_read_mmio / _write_mmio)', () => {
  it('loops with 4-byte accesses when aligned, else 2, else 1', () => {
    const f = openedPlatformFixture();
    const region = f.handle.regionInfo(0);
    f.regs.accesses.length = 0;
    expect(f.handle.write(region, 1, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toBe(8);
    expect(f.regs.accesses.map((a) => [a.offset, a.size])).toEqual([
      [1, 1],
      [2, 2],
      [4, 4],
      [8, 1],
    ]);
    const back = new Uint8Array(8);
    expect(f.handle.read(region, 1, back)).toBe(8);
    expect([...back]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('round-trips any bytes at any in-bounds offset, and clips at the region end', () => {
    const f = openedPlatformFixture();
    const region = f.handle.regionInfo(0);
    fc.assert(
      fc.property(fc.nat(0xfff), fc.uint8Array({ minLength: 1, maxLength: 64 }), (offset, data) => {
        const written = f.handle.write(region, offset, data);
        expect(written).toBe(Math.min(data.length, 0x1000 - offset));
        const back = new Uint8Array(data.length);
        expect(f.handle.read(region, offset, back)).toBe(written);
        expect([...back.subarray(0, written)]).toEqual([...data.subarray(0, written)]);
      }),
    );
  });

  it('EINVAL past the region end (CVE-2025-21687), for an index past the regions; ENOMEM when ioremap fails', () => {
    const f = openedPlatformFixture();
    expect(thrownErrno(() => f.handle.read(f.handle.regionInfo(0), 0x1000, new Uint8Array(4)))).toBe(
      'EINVAL',
    );
    expect(thrownErrno(() => f.process.pread(f.handle.fd, new Uint8Array(4), 5 * 2 ** 40))).toBe('EINVAL');
    expect(thrownErrno(() => f.handle.read(f.handle.regionInfo(1), 0, new Uint8Array(4)))).toBe('ENOMEM');
  });
});

describe('mmap (vfio_platform_mmap / _mmap_mmio)', () => {
  const ok: MmapRequest = {
    start: 0x7000_0000,
    length: 0x1000,
    offset: 0,
    read: true,
    write: true,
    shared: true,
  };
  it('maps region 0 uncached at its physical address', () => {
    const f = openedPlatformFixture();
    expect(f.handle.mmap(ok)).toMatchObject({
      start: 0x7000_0000,
      length: 0x1000,
      paddr: 0x1c00_0000,
      noncached: true,
    });
  });

  it('rounds the length up to whole pages before the driver sees it (do_mmap PAGE_ALIGN)', () => {
    const f = openedPlatformFixture();
    expect(f.handle.mmap({ ...ok, length: 0x800 }).length).toBe(0x1000);
    f.process.munmap(0x7000_0000, 0x800);
  });

  it.each([
    ['a private mapping', { shared: false }],
    ['length 0', { length: 0 }],
    ['an unaligned file offset', { offset: 0x10 }],
    ['an unaligned start', { start: 0x7000_0010 }],
    ['an index past the regions', { offset: 7 * 2 ** 40 }],
    ['a region without MMAP', { offset: 2 ** 40 }],
    ['a range past the region', { length: 0x2000 }],
    ['an offset inside past the region', { offset: 0x1000 }],
  ])('EINVAL for %s', (_name, change) => {
    const f = openedPlatformFixture();
    expect(thrownErrno(() => f.handle.mmap({ ...ok, ...change }))).toBe('EINVAL');
  });
});
