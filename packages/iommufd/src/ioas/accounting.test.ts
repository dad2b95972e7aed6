import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { IommufdContext } from '../context.js';
import { TestUserMemory, testContext, testGroup, testTask } from '../test-support/fixture.js';
import {
  IOMMU_IOAS_MAP_FIXED_IOVA as FIXED,
  IOMMU_OPTION_OP_SET,
  IOMMU_OPTION_RLIMIT_MODE,
  IOMMU_IOAS_MAP_READABLE as R,
  IOMMU_IOAS_MAP_WRITEABLE as W,
} from '../uapi/constants.js';

// Pinned-page accounting of drivers/iommu/iommufd/pages.c (Linux 6.12): do_update_pinned,
// incr_user_locked_vm (pages.c:817 ENOMEM), __account_locked_vm for ACCOUNT_MM, and
// pin_user_pages' EFAULT for VM_PFNMAP and read-only vmas.

function attached(task = testTask()) {
  const ctx = testContext(task);
  const ioas = ctx.ioasAlloc();
  const group = testGroup();
  const idev = ctx.deviceBind({ group, device: 'dev0' });
  ctx.deviceAttach(idev, ioas);
  return { ctx, ioas, task, group, idev };
}

describe('RLIMIT_MEMLOCK accounting', () => {
  it('ACCOUNT_USER: user->locked_vm is charged per pinned page; pages.c:817 past the limit is ENOMEM and nothing stays pinned', () => {
    const { ctx, ioas, task } = attached(testTask({ rlimitMemlock: 2 * 4096 }));
    ctx.ioasMap({ flags: R | W, ioas_id: ioas, user_va: 0x10_0000, length: 0x2000 });
    expect(task.user.lockedVm).toBe(2);
    expect(task.mm.lockedVm).toBe(0);
    expect(
      thrownErrno(() => ctx.ioasMap({ flags: R | W, ioas_id: ioas, user_va: 0x20_0000, length: 0x1000 })),
    ).toBe('ENOMEM');
    expect(task.user.lockedVm).toBe(2);
    expect(ctx.pinnedPages()).toBe(2);
  });
  it('CAP_IPC_LOCK: ACCOUNT_NONE, nothing charged but mm->pinned_vm still counts', () => {
    const { ctx, ioas, task } = attached(testTask({ rlimitMemlock: 0, caps: ['CAP_IPC_LOCK'] }));
    ctx.ioasMap({ flags: R, ioas_id: ioas, user_va: 0x10_0000, length: 0x3000 });
    expect(task.user.lockedVm).toBe(0);
    expect(task.mm.pinnedVm).toBe(3);
  });
  it('IOMMU_OPTION_RLIMIT_MODE 1: ACCOUNT_MM charges mm->locked_vm, as type1 does', () => {
    const task = testTask({ caps: ['CAP_SYS_RESOURCE'] });
    const ctx = testContext(task);
    ctx.option({ option_id: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_SET, val64: 1 });
    const ioas = ctx.ioasAlloc();
    ctx.deviceAttach(ctx.deviceBind({ group: testGroup(), device: 'dev0' }), ioas);
    ctx.ioasMap({ flags: R, ioas_id: ioas, user_va: 0x10_0000, length: 0x2000 });
    expect(task.mm.lockedVm).toBe(2);
    expect(task.user.lockedVm).toBe(0);
  });
  it('a page is pinned and charged once however many domains and IOASes (IOMMU_IOAS_COPY) hold it', () => {
    const { ctx, ioas, task } = attached();
    ctx.ioasMap({ flags: R | FIXED, ioas_id: ioas, user_va: 0x10_0000, length: 0x4000, iova: 0x10_0000 });
    const second = testGroup({ id: 1 });
    const ioas2 = ctx.ioasAlloc();
    ctx.deviceAttach(ctx.deviceBind({ group: second, device: 'dev0' }), ioas2);
    ctx.ioasCopy({
      flags: R | FIXED,
      src_ioas_id: ioas,
      dst_ioas_id: ioas2,
      length: 0x4000,
      src_iova: 0x10_0000,
      dst_iova: 0x40_0000,
    });
    const third = testGroup({ id: 2 });
    ctx.hwptAlloc({ dev_id: ctx.deviceBind({ group: third, device: 'dev0' }).id, pt_id: ioas });
    expect(task.user.lockedVm).toBe(4);
    ctx.ioasUnmap({ ioas_id: ioas, iova: 0x10_0000, length: 0x4000 });
    expect(task.user.lockedVm).toBe(4); // the copy still holds them
    ctx.ioasUnmap({ ioas_id: ioas2, iova: 0x40_0000, length: 0x4000 });
    expect(task.user.lockedVm).toBe(0);
  });
  it('an IOAS mapped before any domain pins when the first HWPT arrives, and unpins when the last goes', () => {
    const task = testTask();
    const ctx = testContext(task);
    const ioas = ctx.ioasAlloc();
    ctx.ioasMap({ flags: R, ioas_id: ioas, user_va: 0x10_0000, length: 0x2000 });
    expect(task.user.lockedVm).toBe(0);
    const idev = ctx.deviceBind({ group: testGroup(), device: 'dev0' });
    ctx.deviceAttach(idev, ioas);
    expect(task.user.lockedVm).toBe(2);
    ctx.deviceDetach(idev);
    expect(task.user.lockedVm).toBe(0);
  });
  it('attaching over unmapped user memory fails EFAULT (iopt_fill_domain) and leaves the group blocked', () => {
    const ctx = testContext();
    const ioas = ctx.ioasAlloc();
    ctx.ioasMap({ flags: R, ioas_id: ioas, user_va: 0x7000_0000, length: 0x1000 });
    const group = testGroup();
    const idev = ctx.deviceBind({ group, device: 'dev0' });
    expect(thrownErrno(() => ctx.deviceAttach(idev, ioas))).toBe('EFAULT');
    expect(group.currentDomain.type).toBe('blocked');
    expect(ctx.objectIds()).toEqual([ioas, idev.id]);
  });
});

describe('pin_user_pages refusals', () => {
  it('a VM_PFNMAP range (a device mmap) is EFAULT', () => {
    const memory = new TestUserMemory()
      .map(0x10_0000, 0x8000_0000, 0x10_0000)
      .map(0x40_0000, 0x1000_0000, 0x1000, { pfnmap: true });
    const { ctx, ioas } = attached(testTask({ memory }));
    expect(
      thrownErrno(() => ctx.ioasMap({ flags: R, ioas_id: ioas, user_va: 0x40_0000, length: 0x1000 })),
    ).toBe('EFAULT');
  });
  it('a writeable map of a read-only vma is EFAULT; a read-only map of it is fine', () => {
    const memory = new TestUserMemory().map(0x10_0000, 0x8000_0000, 0x1000, { writable: false });
    const { ctx, ioas } = attached(testTask({ memory }));
    expect(
      thrownErrno(() => ctx.ioasMap({ flags: R | W, ioas_id: ioas, user_va: 0x10_0000, length: 0x1000 })),
    ).toBe('EFAULT');
    ctx.ioasMap({ flags: R, ioas_id: ioas, user_va: 0x10_0000, length: 0x1000 });
  });
  it('rejects unknown context options with EINVAL', () => {
    expect(thrownErrno(() => new IommufdContext({ task: testTask(), typo: true } as never))).toBe('EINVAL');
  });
});
