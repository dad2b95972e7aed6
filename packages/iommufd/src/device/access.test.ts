import { PhysicalMemory, physAddr } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { IommufdContext } from '../context.js';
import { ULONG_MAX } from '../ioas/bits.js';
import { testTask } from '../test-support/fixture.js';
import {
  IOMMU_IOAS_MAP_FIXED_IOVA as FIXED,
  IOMMU_IOAS_MAP_READABLE as R,
  IOMMU_IOAS_MAP_WRITEABLE as W,
} from '../uapi/constants.js';
import { IOMMUFD_ACCESS_RW_READ, IOMMUFD_ACCESS_RW_WRITE, type IommufdAccessOps } from './access.js';

// iommufd_access (drivers/iommu/iommufd/device.c, Linux 6.12): how emulated devices reach an
// IOAS; the errno of each bad argument cites its line.

function setup() {
  const memory = new PhysicalMemory();
  memory.allocate(physAddr(0x8000_0000), 0x100_0000);
  const task = testTask();
  const ctx = new IommufdContext({ task, memory });
  const ioas = ctx.ioasAlloc();
  ctx.ioasMap({ flags: R | W | FIXED, ioas_id: ioas, user_va: 0x10_0000, length: 0x4000, iova: 0x100_0000 });
  ctx.ioasMap({ flags: R | FIXED, ioas_id: ioas, user_va: 0x20_0000, length: 0x1000, iova: 0x200_0000 });
  const unmaps: [bigint, bigint][] = [];
  const ops: IommufdAccessOps & { pins: [bigint, bigint][] } = {
    needsPinPages: true,
    pins: [],
    unmap(iova, length) {
      unmaps.push([iova, length]);
      for (const [at, len] of [...ops.pins])
        if (at < iova + length && iova < at + len) ctx.accessUnpinPages(access, at, len);
      ops.pins = ops.pins.filter(([at, len]) => !(at < iova + length && iova < at + len));
    },
  };
  const access = ctx.accessCreate(ops);
  return { memory, task, ctx, ioas, access, ops, unmaps };
}

describe('iommufd_access_attach / detach / destroy', () => {
  it('device.c:1026 (iommufd_get_ioas) no IOAS is ENOENT; device.c:1023 attaching twice is EINVAL', () => {
    const { ctx, ioas, access } = setup();
    expect(thrownErrno(() => ctx.accessAttach(access, 99))).toBe('ENOENT');
    ctx.accessAttach(access, ioas);
    expect(thrownErrno(() => ctx.accessAttach(access, ioas))).toBe('EINVAL');
  });
  it('an attached access holds its IOAS (IOMMU_DESTROY is EBUSY); detach first tells the driver to unmap everything', () => {
    const { ctx, ioas, access, unmaps } = setup();
    ctx.accessAttach(access, ioas);
    expect(thrownErrno(() => ctx.destroy(ioas))).toBe('EBUSY');
    expect(thrownErrno(() => ctx.destroy(access.id))).toBe('EBUSY');
    ctx.accessDetach(access);
    expect(unmaps).toEqual([[0n, ULONG_MAX]]);
    ctx.destroy(ioas);
    ctx.accessDestroy(access);
    expect(ctx.objectIds()).toEqual([]);
  });
  it('needs_pin_pages makes the IOAS page aligned (iopt_add_access)', () => {
    const { ctx, ioas, access } = setup();
    ctx.accessAttach(access, ioas);
    expect(ctx.ioasIovaRanges({ ioas_id: ioas }).out_iova_alignment).toBe(4096n);
  });
});

describe('iommufd_access_pin_pages', () => {
  it('device.c:1184 length 0 is EINVAL, device.c:1186 a wrap EOVERFLOW, device.c:1191 unattached ENOENT', () => {
    const { ctx, ioas, access } = setup();
    expect(thrownErrno(() => ctx.accessPinPages(access, 0x100_0000, 0, 0))).toBe('EINVAL');
    expect(thrownErrno(() => ctx.accessPinPages(access, ULONG_MAX, 2, 0))).toBe('EOVERFLOW');
    expect(thrownErrno(() => ctx.accessPinPages(access, 0x100_0000, 0x1000, 0))).toBe('ENOENT');
    ctx.accessAttach(access, ioas);
    expect(thrownErrno(() => ctx.accessPinPages(access, 0x300_0000, 0x1000, 0))).toBe('ENOENT');
  });
  it('device.c:1209 a write pin of a read-only mapping is EPERM', () => {
    const { ctx, ioas, access } = setup();
    ctx.accessAttach(access, ioas);
    expect(thrownErrno(() => ctx.accessPinPages(access, 0x200_0000, 0x1000, IOMMUFD_ACCESS_RW_WRITE))).toBe(
      'EPERM',
    );
  });
  it('pins and charges the pages, returns their physical addresses, and unpin releases them', () => {
    const { ctx, ioas, access, task } = setup();
    ctx.accessAttach(access, ioas);
    expect(ctx.accessPinPages(access, 0x100_1000, 0x2000, IOMMUFD_ACCESS_RW_WRITE)).toEqual([
      0x8000_1000, 0x8000_2000,
    ]);
    expect(task.user.lockedVm).toBe(2);
    ctx.accessUnpinPages(access, 0x100_1000, 0x2000);
    expect(task.user.lockedVm).toBe(0);
    expect(thrownErrno(() => ctx.accessUnpinPages(access, 0x100_1000, 0x2000))).toBe('EINVAL');
  });
  it('IOMMU_IOAS_UNMAP over pinned pages calls the driver back, which unpins, then unmaps', () => {
    const { ctx, ioas, access, ops, unmaps, task } = setup();
    ctx.accessAttach(access, ioas);
    ctx.accessPinPages(access, 0x100_1000, 0x1000, 0);
    ops.pins.push([0x100_1000n, 0x1000n]);
    expect(ctx.ioasUnmap({ ioas_id: ioas, iova: 0x100_0000, length: 0x4000 })).toBe(0x4000n);
    expect(unmaps).toEqual([[0x100_0000n, 0x4000n]]);
    expect(task.user.lockedVm).toBe(0);
  });
  it('io_pagetable.c:713 a driver that never unpins makes the unmap EDEADLOCK (EDEADLK) after 100 tries', () => {
    const memory = new PhysicalMemory();
    const ctx = new IommufdContext({ task: testTask(), memory });
    const ioas = ctx.ioasAlloc();
    ctx.ioasMap({ flags: R | FIXED, ioas_id: ioas, user_va: 0x10_0000, length: 0x1000, iova: 0x1000 });
    let calls = 0;
    const access = ctx.accessCreate({ needsPinPages: true, unmap: () => void calls++ });
    ctx.accessAttach(access, ioas);
    ctx.accessPinPages(access, 0x1000, 0x1000, 0);
    expect(thrownErrno(() => ctx.ioasUnmap({ ioas_id: ioas, iova: 0x1000, length: 0x1000 }))).toBe('EDEADLK');
    expect(calls).toBe(101);
    // device.c:1204 prevent_access stays set: a new pin of the area is EINVAL
    expect(thrownErrno(() => ctx.accessPinPages(access, 0x1000, 0x1000, 0))).toBe('EINVAL');
  });
});

describe('iommufd_access_rw', () => {
  it('device.c:1267 length 0 is EINVAL, device.c:1274 unattached ENOENT, device.c:1289 a write to a read-only mapping EPERM', () => {
    const { ctx, ioas, access } = setup();
    expect(thrownErrno(() => ctx.accessRw(access, 0x100_0000, new Uint8Array(0), 0))).toBe('EINVAL');
    expect(thrownErrno(() => ctx.accessRw(access, 0x100_0000, new Uint8Array(4), 0))).toBe('ENOENT');
    ctx.accessAttach(access, ioas);
    expect(
      thrownErrno(() => ctx.accessRw(access, 0x200_0000, new Uint8Array(4), IOMMUFD_ACCESS_RW_WRITE)),
    ).toBe('EPERM');
    expect(thrownErrno(() => ctx.accessRw(access, 0x100_3ffe, new Uint8Array(4), 0))).toBe('ENOENT');
  });
  it('copies through the user memory behind the IOVA, across pages, without pinning', () => {
    const { ctx, ioas, access, memory, task } = setup();
    ctx.accessAttach(access, ioas);
    ctx.accessRw(access, 0x100_0ffe, Uint8Array.of(1, 2, 3, 4), IOMMUFD_ACCESS_RW_WRITE);
    expect(memory.readU32(physAddr(0x8000_0ffe))).toBe(0x04030201);
    const back = new Uint8Array(4);
    ctx.accessRw(access, 0x100_0ffe, back, IOMMUFD_ACCESS_RW_READ);
    expect([...back]).toEqual([1, 2, 3, 4]);
    expect(task.user.lockedVm).toBe(0);
  });
});
