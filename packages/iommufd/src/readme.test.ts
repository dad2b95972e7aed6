// The README's usage example, verbatim apart from the fixtures and assertions.
import { describe, expect, it } from 'vitest';
import { IOMMU_IOAS_MAP_READABLE, IOMMU_IOAS_MAP_WRITEABLE, IommufdContext } from './index.js';
import { testGroup, testTask } from './test-support/fixture.js';

describe('README usage', () => {
  it('binds, attaches through an auto domain, and maps two pinned pages', () => {
    const task = testTask();
    const group = testGroup({ devices: ['7ff00000.dma'] });

    const ctx = new IommufdContext({ task }); // task: the opener (its mm, RLIMIT_MEMLOCK, capabilities)
    const ioas = ctx.ioasAlloc();
    const idev = ctx.deviceBind({ group, device: '7ff00000.dma', isolatedMsi: true }); // out_devid = idev.id
    const hwpt = ctx.deviceAttach(idev, ioas); // an auto-domain HWPT from group.allocateDomain()
    const iova = ctx.ioasMap({
      flags: IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
      ioas_id: ioas,
      user_va: 0x10_0000,
      length: 0x2000,
    }); // pins 2 pages (charged to the user's locked_vm) and maps them into the group's domain

    expect([ioas, idev.id, hwpt]).toEqual([1, 2, 3]);
    expect(iova).toBe(0x1000n); // iopt_alloc_iova: the first page-aligned hole above PAGE_SIZE
    expect(task.user.lockedVm).toBe(2);
    expect(group.currentDomain.translate(Number(iova) as never, 'read')).toBe(0x8000_0000);
  });
});
