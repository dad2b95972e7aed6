import { physAddr } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { RegisterFile } from '../testing/register-file.js';
import { VFIO_REGION_INFO_FLAG_MMAP, VFIO_REGION_INFO_FLAG_READ } from '../uapi/flags.js';
import { regionMmap, regionRead, regionsInit, regionWrite } from './regions.js';

describe('region kinds (vfio_platform_regions_init)', () => {
  const regions = regionsInit(
    (i) =>
      [
        {
          type: 'mem' as const,
          start: physAddr(0x2000_0000),
          size: 0x1000,
          readOnly: true,
          model: new RegisterFile(0x1000),
        },
        { type: 'io' as const, start: physAddr(0x100), size: 0x10 },
      ][i],
  );

  it('a read-only MEM resource is READ|MMAP without WRITE; an IO resource has no access', () => {
    expect(regions.map((r) => [r.type, r.flags])).toEqual([
      ['mmio', VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_MMAP],
      ['pio', 0],
    ]);
  });

  it('EINVAL: writes to a read-only region, any PIO access, a writable mmap of a read-only region', () => {
    expect(regionRead(regions, new Uint8Array(4), 0)).toBe(4);
    expect(thrownErrno(() => regionWrite(regions, new Uint8Array(4), 0))).toBe('EINVAL');
    expect(thrownErrno(() => regionRead(regions, new Uint8Array(4), 2 ** 40))).toBe('EINVAL');
    const map = { start: 0x1000, length: 0x1000, offset: 0, read: true, write: true, shared: true };
    expect(thrownErrno(() => regionMmap(regions, map))).toBe('EINVAL');
    expect(regionMmap(regions, { ...map, write: false }).paddr).toBe(0x2000_0000);
  });

  it('EINVAL for a resource that is neither MEM nor IO', () => {
    expect(
      thrownErrno(() =>
        regionsInit((i) => (i === 0 ? { type: 'other', start: physAddr(0), size: 1 } : undefined)),
      ),
    ).toBe('EINVAL');
  });
});
