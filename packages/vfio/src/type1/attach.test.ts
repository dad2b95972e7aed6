import { IOMMU_READ, type Iova, physAddr } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { VfioContainerHandle } from '../api/container-handle.js';
import { VfioGroupHandle } from '../api/group-handle.js';
import { GUEST_RAM_VADDR, type Type1Fixture, type1Fixture } from '../test-support/type1-fixture.js';
import { countingDeviceOps } from '../testing/counting-device.js';
import { testIommuGroup } from '../testing/test-group.js';
import { VFIO_TYPE1v2_IOMMU } from '../uapi/ioctls.js';
import { UserProcess } from '../user/process.js';
import { Vfio } from '../vfio.js';

// vfio_iommu_type1_attach_group / _detach_group (drivers/vfio/vfio_iommu_type1.c) with a
// second IOMMU group whose domain has a 40-bit aperture, under the fixture's 48-bit one.
const TOP40 = 2 ** 40;

function narrowGroup(f: Type1Fixture) {
  const iommuGroup = testIommuGroup({ id: 6, devices: [{ name: 'dev1', streamIds: [4] }], inputBits: 40 });
  f.vfio.registerGroupDevice({ name: 'dev1', ops: countingDeviceOps(), iommuGroup });
  return { iommuGroup, group: VfioGroupHandle.open(f.process, 6) };
}

describe('a new domain must hold the existing mappings (vfio_iommu_aper_conflict)', () => {
  it('mappings from iova 0 up to the last page of the aperture fit; the narrower domain then limits MAP_DMA', () => {
    const f = type1Fixture();
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 0, size: 0x1000 });
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR + 0x1000, iova: TOP40 - 0x1000, size: 0x1000 });
    const narrow = narrowGroup(f);
    narrow.group.setContainer(f.container);
    const ranges = f.container.iommuInfo().iovaRanges;
    expect(ranges.at(-1)?.end).toBe(BigInt(TOP40 - 1));
    expect(thrownErrno(() => f.container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: TOP40, size: 0x1000 }))).toBe(
      'EINVAL',
    );
    // vfio_iommu_type1_detach_group → vfio_iommu_aper_expand: the 48-bit aperture is back.
    narrow.group.unsetContainer();
    expect(f.container.iommuInfo().iovaRanges.at(-1)?.end).toBe(2n ** 48n - 1n);
    // Not the last domain: the mappings stay (only the last one unmaps and unpins all).
    expect(f.process.mm.lockedVm).toBe(2);
    expect(f.container.unmapDma({ iova: 0, size: 0x1000 })).toBe(0x1000n);
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: TOP40, size: 0x1000 });
  });

  it('a mapping past the new aperture refuses the group (EINVAL) and leaves it detached', () => {
    const f = type1Fixture();
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: TOP40 - 0x1000, size: 0x2000 });
    const narrow = narrowGroup(f);
    expect(thrownErrno(() => narrow.group.setContainer(f.container))).toBe('EINVAL');
    expect(narrow.iommuGroup.domain).toBeNull();
  });
});

describe('MSI isolation per device (iommu_group_has_isolated_msi, v6.3+)', () => {
  it('every device of the group must have isolated MSIs: one without is EPERM', () => {
    const isolated = new Set(['dev0']);
    const f = type1Fixture({
      allowUnsafeInterrupts: false,
      setIommu: false,
      msiIsolation: { deviceHasIsolatedMsi: (d) => isolated.has(d), systemHasIsolatedMsi: () => true },
    });
    f.iommuGroup.addDevice({ device: 'dev0b', streamIds: [7] });
    expect(thrownErrno(() => f.container.setIommu(VFIO_TYPE1v2_IOMMU))).toBe('EPERM');
    isolated.add('dev0b');
    f.container.setIommu(VFIO_TYPE1v2_IOMMU);
  });
});

describe('vfio_iommu_resv_exclude leaving nothing', () => {
  it('a domain whose reserved regions cover its whole aperture is refused (EINVAL)', () => {
    const vfio = new Vfio({ allowUnsafeInterrupts: true });
    const iommuGroup = testIommuGroup({
      id: 7,
      devices: [{ name: 'dev7' }],
      inputBits: 32,
      reservedRegions: [{ start: 0 as Iova, size: 2 ** 32, type: 'reserved', prot: 0 }],
    });
    vfio.registerGroupDevice({ name: 'dev7', ops: countingDeviceOps(), iommuGroup });
    const process = new UserProcess({ vfio });
    const container = VfioContainerHandle.open(process);
    VfioGroupHandle.open(process, 7).setContainer(container);
    expect(thrownErrno(() => container.setIommu(VFIO_TYPE1v2_IOMMU))).toBe('EINVAL');
    expect(iommuGroup.domain).toBeNull();
  });
});

describe('vfio_iommu_replay into the first IOMMU domain', () => {
  it('mappings recorded over an emulated group are pinned and mapped when the first IOMMU group joins', () => {
    const vfio = new Vfio({ allowUnsafeInterrupts: true });
    const mdev = vfio.registerEmulatedIommuDevice({
      name: 'mdev0',
      ops: { ...countingDeviceOps(), dmaUnmap: () => undefined },
    });
    const emulatedName = [...vfio.groups.keys()][0] ?? '';
    const iommuGroup = testIommuGroup({ id: 5, devices: [{ name: 'dev0', streamIds: [3] }] });
    vfio.registerGroupDevice({ name: 'dev0', ops: countingDeviceOps(), iommuGroup });
    const process = new UserProcess({ vfio });
    process.addressSpace.mmap(GUEST_RAM_VADDR, physAddr(0x8_8000_0000), 0x10_0000);
    const container = VfioContainerHandle.open(process);
    const emulated = VfioGroupHandle.open(process, emulatedName);
    emulated.setContainer(container);
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    emulated.getDevice('mdev0');
    container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 0x4000_0000, size: 0x4000 });
    expect(process.mm.lockedVm).toBe(0);
    // The emulated device pins one page: with no IOMMU domain it is charged (vfio_pin_page_external).
    vfio.pinPages(mdev, 0x4000_0000, 1, IOMMU_READ);
    expect(process.mm.lockedVm).toBe(1);
    const real = VfioGroupHandle.open(process, 5);
    real.setContainer(container);
    // vfio_pin_pages_remote skips the page already accounted (vfio_find_vpfn): 4 pages, not 5.
    expect(process.mm.lockedVm).toBe(4);
    expect(iommuGroup.domains[0]?.translate(0x4000_1000 as Iova, 'read')).toBe(0x8_8000_1000);
    // The last IOMMU domain leaving with the emulated group still there: the IOMMU pins go and the
    // page the device still pins is charged again (vfio_iommu_unmap_unpin_reaccount)...
    real.unsetContainer();
    expect(process.mm.lockedVm).toBe(1);
    // ...so unpinning it uncharges it.
    vfio.unpinPages(mdev, 0x4000_0000, 1);
    expect(process.mm.lockedVm).toBe(0);
  });
});
