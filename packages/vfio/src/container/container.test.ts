import { physAddr } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { VfioContainerHandle } from '../api/container-handle.js';
import { VfioGroupHandle } from '../api/group-handle.js';
import { GUEST_RAM_VADDR, type1Fixture } from '../test-support/type1-fixture.js';
import { countingDeviceOps } from '../testing/counting-device.js';
import { testIommuGroup } from '../testing/test-group.js';
import {
  VFIO_DMA_MAP_FLAG_VADDR,
  VFIO_DMA_UNMAP_FLAG_VADDR,
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_INFO_PGSIZES,
} from '../uapi/flags.js';
import {
  VFIO_DMA_CC_IOMMU,
  VFIO_IOMMU_DIRTY_PAGES,
  VFIO_IOMMU_GET_INFO,
  VFIO_IOMMU_MAP_DMA,
  VFIO_IOMMU_UNMAP_DMA,
  VFIO_NOIOMMU_IOMMU,
  VFIO_SPAPR_TCE_IOMMU,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  VFIO_UNMAP_ALL,
  VFIO_UPDATE_VADDR,
} from '../uapi/ioctls.js';
import { vfioIommuType1DmaMap, vfioIommuType1DmaUnmap, vfioIommuType1Info } from '../uapi/structs-iommu.js';
import { UserProcess } from '../user/process.js';
import { Vfio } from '../vfio.js';

describe('the container (drivers/vfio/container.c)', () => {
  it('reports API version 0 and the type1 extensions before any group joins', () => {
    const vfio = new Vfio();
    const container = VfioContainerHandle.open(new UserProcess({ vfio }));
    expect(container.apiVersion()).toBe(0);
    expect(container.checkExtension(VFIO_TYPE1_IOMMU)).toBe(true);
    expect(container.checkExtension(VFIO_TYPE1v2_IOMMU)).toBe(true);
    expect(container.checkExtension(VFIO_UNMAP_ALL)).toBe(true);
    expect(container.checkExtension(VFIO_UPDATE_VADDR)).toBe(false);
    expect(container.checkExtension(VFIO_DMA_CC_IOMMU)).toBe(false);
    expect(container.checkExtension(VFIO_SPAPR_TCE_IOMMU)).toBe(false);
    expect(container.checkExtension(VFIO_NOIOMMU_IOMMU)).toBe(false);
  });

  it('VFIO_SET_IOMMU: EINVAL without a group; other ioctls EINVAL before it', () => {
    const vfio = new Vfio();
    const process = new UserProcess({ vfio });
    const container = VfioContainerHandle.open(process);
    expect(thrownErrno(() => container.setIommu(VFIO_TYPE1v2_IOMMU))).toBe('EINVAL');
    expect(thrownErrno(() => process.ioctl(container.fd, VFIO_IOMMU_MAP_DMA, new Uint8Array(32)))).toBe(
      'EINVAL',
    );
  });

  it('VFIO_SET_IOMMU: ENODEV for an unsupported type, EINVAL once set; UPDATE_VADDR answers after', () => {
    const f = type1Fixture({ setIommu: false });
    expect(thrownErrno(() => f.container.setIommu(VFIO_SPAPR_TCE_IOMMU))).toBe('ENODEV');
    expect(thrownErrno(() => f.container.setIommu(VFIO_NOIOMMU_IOMMU))).toBe('ENODEV');
    f.container.setIommu(VFIO_TYPE1v2_IOMMU);
    expect(thrownErrno(() => f.container.setIommu(VFIO_TYPE1v2_IOMMU))).toBe('EINVAL');
    expect(f.container.checkExtension(VFIO_UPDATE_VADDR)).toBe(true);
  });

  it('unknown ioctls reach type1 (ENOTTY); DIRTY_PAGES needs v2 (EACCES)', () => {
    const f = type1Fixture({ type: VFIO_TYPE1_IOMMU });
    expect(thrownErrno(() => f.process.ioctl(f.container.fd, 0x3b7f, new Uint8Array(8)))).toBe('ENOTTY');
    expect(
      thrownErrno(() => f.process.ioctl(f.container.fd, VFIO_IOMMU_DIRTY_PAGES, new Uint8Array(8))),
    ).toBe('EACCES');
    expect(thrownErrno(() => f.process.ioctl(f.container.fd, VFIO_IOMMU_MAP_DMA, 0))).toBe('EFAULT');
  });

  it('GET_INFO: EINVAL below minsz; a short argsz gets CAPS and the size needed; caps list ranges minus the MSI window', () => {
    const f = type1Fixture();
    expect(
      thrownErrno(() =>
        f.process.ioctl(
          f.container.fd,
          VFIO_IOMMU_GET_INFO,
          vfioIommuType1Info.encode({ argsz: 15, flags: 0, iova_pgsizes: 0, cap_offset: 0, pad: 0 }),
        ),
      ),
    ).toBe('EINVAL');
    const short = vfioIommuType1Info.encode({ argsz: 24, flags: 0, iova_pgsizes: 0, cap_offset: 0, pad: 0 });
    f.process.ioctl(f.container.fd, VFIO_IOMMU_GET_INFO, short);
    const reply = vfioIommuType1Info.decode(short);
    expect(reply.flags).toBe(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS);
    expect(reply.cap_offset).toBe(0);
    // migration (32) + dma_avail (12, padded to 16) + iova_range (16 + 2 ranges × 16)
    expect(reply.argsz).toBe(24 + 32 + 16 + 48);
    const info = f.container.iommuInfo();
    expect(info.iovaPgsizes).toBe(0x4020_1000n);
    expect(info.dmaAvail).toBe(65535);
    expect(info.iovaRanges).toEqual([
      { start: 0n, end: 0x7ff_ffffn },
      { start: 0x810_0000n, end: 2n ** 48n - 1n },
    ]);
  });

  it('packs capabilities without padding for pre-v6.5 profiles', () => {
    const f = type1Fixture({ profile: { version: [6, 1] } });
    const short = vfioIommuType1Info.encode({ argsz: 24, flags: 0, iova_pgsizes: 0, cap_offset: 0, pad: 0 });
    f.process.ioctl(f.container.fd, VFIO_IOMMU_GET_INFO, short);
    expect(vfioIommuType1Info.decode(short).argsz).toBe(24 + 32 + 12 + 48);
    expect(f.container.iommuInfo().dmaAvail).toBe(65535);
  });
});

describe('type1 attach: MSI isolation (vfio_iommu_type1_attach_group)', () => {
  it('EPERM without isolated MSI unless allow_unsafe_interrupts; the group is released again', () => {
    const f = type1Fixture({ allowUnsafeInterrupts: false, setIommu: false });
    expect(thrownErrno(() => f.container.setIommu(VFIO_TYPE1v2_IOMMU))).toBe('EPERM');
    expect(f.iommuGroup.domain).toBeNull();
    f.vfio.params.allowUnsafeInterrupts = true;
    f.container.setIommu(VFIO_TYPE1v2_IOMMU);
    expect(f.iommuGroup.domain).not.toBeNull();
  });

  it('succeeds when every device of the group has an isolating MSI parent (v6.3+: per device)', () => {
    const f = type1Fixture({
      allowUnsafeInterrupts: false,
      setIommu: false,
      msiIsolation: { deviceHasIsolatedMsi: (d) => d === 'dev0', systemHasIsolatedMsi: () => false },
    });
    f.container.setIommu(VFIO_TYPE1v2_IOMMU);
  });

  it('before v6.3 the check is system-wide: an ITS anywhere is enough', () => {
    const query = { deviceHasIsolatedMsi: () => false, systemHasIsolatedMsi: () => true };
    type1Fixture({ allowUnsafeInterrupts: false, msiIsolation: query, profile: { version: [6, 2] } });
    expect(thrownErrno(() => type1Fixture({ allowUnsafeInterrupts: false, msiIsolation: query }))).toBe(
      'EPERM',
    );
  });

  it('several groups share a container; mappings replay into the new domain and are pinned once', () => {
    const f = type1Fixture();
    f.container.mapDma({ vaddr: 0x7f00_0000_0000, iova: 0x4000_0000, size: 0x20_0000 });
    const second = testIommuGroup({ id: 6, devices: [{ name: 'dev1' }] });
    f.vfio.registerGroupDevice({ name: 'dev1', ops: countingDeviceOps(), iommuGroup: second });
    const group6 = VfioGroupHandle.open(f.process, 6);
    group6.setContainer(f.container);
    expect(second.domains[0]?.translate(0x4000_1000 as never, 'read')).toBe(0x8_8000_1000);
    expect(f.process.mm.lockedVm).toBe(0x200);
    group6.unsetContainer();
    expect(second.domain).toBeNull();
    expect(f.container.unmapDma({ all: true })).toBe(0x20_0000n);
  });

  it('a group whose domain cannot hold existing mappings (reserved overlap) is refused with EINVAL', () => {
    const f = type1Fixture();
    f.container.mapDma({ vaddr: 0x7f00_0000_0000, iova: 0x1000_0000, size: 0x1000 });
    const other = testIommuGroup({
      id: 7,
      devices: [{ name: 'dev2' }],
      reservedRegions: [{ start: 0x1000_0000 as never, size: 0x10_0000, type: 'reserved', prot: 0 }],
    });
    f.vfio.registerGroupDevice({ name: 'dev2', ops: countingDeviceOps(), iommuGroup: other });
    const group7 = VfioGroupHandle.open(f.process, 7);
    expect(thrownErrno(() => group7.setContainer(f.container))).toBe('EINVAL');
    expect(other.owner).toBeNull();
  });
});

describe('no-IOMMU mode', () => {
  it('registers a device without IOMMU group as noiommu-N, tainting; needs CAP_SYS_RAWIO; only VFIO_NOIOMMU_IOMMU', () => {
    const vfio = new Vfio({ enableUnsafeNoiommuMode: true });
    vfio.registerGroupDevice({ name: 'nodma', ops: countingDeviceOps(), iommuGroup: undefined });
    expect(vfio.tainted).toBe(true);
    const [name] = [...vfio.groups.keys()];
    expect(name).toMatch(/^noiommu-\d+$/);
    const user = new UserProcess({ vfio });
    expect(thrownErrno(() => user.open(`/dev/vfio/${name}`))).toBe('EPERM');
    const root = new UserProcess({ vfio, capabilities: ['CAP_SYS_RAWIO'] });
    const container = VfioContainerHandle.open(root);
    const group = VfioGroupHandle.open(root, name ?? '');
    group.setContainer(container);
    expect(container.checkExtension(VFIO_NOIOMMU_IOMMU)).toBe(true);
    expect(thrownErrno(() => container.setIommu(VFIO_TYPE1v2_IOMMU))).toBe('ENODEV');
    container.setIommu(VFIO_NOIOMMU_IOMMU);
    expect(thrownErrno(() => container.mapDma({ vaddr: 0, iova: 0, size: 0x1000 }))).toBe('ENOTTY');
    group.getDevice('nodma').close();
  });

  it('without the mode, registration of a device without IOMMU group fails EINVAL; so does a non-coherent one', () => {
    const vfio = new Vfio();
    expect(
      thrownErrno(() =>
        vfio.registerGroupDevice({ name: 'x', ops: countingDeviceOps(), iommuGroup: undefined }),
      ),
    ).toBe('EINVAL');
    const incoherent = testIommuGroup({ id: 9, devices: [{ name: 'y' }], coherent: false });
    expect(
      thrownErrno(() =>
        vfio.registerGroupDevice({ name: 'y', ops: countingDeviceOps(), iommuGroup: incoherent }),
      ),
    ).toBe('EINVAL');
  });

  it('no-IOMMU and IOMMU groups never share a container (EPERM)', () => {
    const vfio = new Vfio({ enableUnsafeNoiommuMode: true, allowUnsafeInterrupts: true });
    vfio.registerGroupDevice({ name: 'nodma', ops: countingDeviceOps(), iommuGroup: undefined });
    vfio.registerGroupDevice({
      name: 'dev0',
      ops: countingDeviceOps(),
      iommuGroup: testIommuGroup({ id: 5, devices: [{ name: 'dev0' }] }),
    });
    const root = new UserProcess({ vfio, capabilities: ['CAP_SYS_RAWIO'] });
    root.addressSpace.mmap(0x1000_0000, physAddr(0x8000_0000), 0x1000);
    const container = VfioContainerHandle.open(root);
    VfioGroupHandle.open(root, 5).setContainer(container);
    const noiommu = [...vfio.groups.keys()].find((n) => n.startsWith('noiommu')) ?? '';
    expect(thrownErrno(() => VfioGroupHandle.open(root, noiommu).setContainer(container))).toBe('EPERM');
  });
});

describe('page sizes (vfio_update_pgsize_bitmap, vfio_dma_do_map alignment)', () => {
  function withPgsizes(...bitmaps: number[]) {
    const vfio = new Vfio({ allowUnsafeInterrupts: true });
    const process = new UserProcess({ vfio, rlimitMemlock: 2 ** 40 });
    process.addressSpace.mmap(0x7f00_0000_0000, physAddr(0x8_8000_0000), 0x100_0000);
    const container = VfioContainerHandle.open(process);
    bitmaps.forEach((pgsizeBitmap, i) => {
      const iommuGroup = testIommuGroup({ id: 10 + i, devices: [{ name: `d${i}` }], pgsizeBitmap });
      vfio.registerGroupDevice({ name: `d${i}`, ops: countingDeviceOps(), iommuGroup });
      VfioGroupHandle.open(process, 10 + i).setContainer(container);
    });
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    return container;
  }

  it('aligns MAP/UNMAP to the smallest page of the AND of every domain; sub-page sizes fold into 4K', () => {
    const c64k = withPgsizes(0x1_0000 | 0x2000_0000);
    expect(c64k.iommuInfo().iovaPgsizes).toBe(0x2001_0000n);
    expect(
      thrownErrno(() => c64k.mapDma({ vaddr: 0x7f00_0000_0000, iova: 0x4000_1000, size: 0x1_0000 })),
    ).toBe('EINVAL');
    expect(thrownErrno(() => c64k.mapDma({ vaddr: 0x7f00_0000_0000, iova: 0x4000_0000, size: 0x1000 }))).toBe(
      'EINVAL',
    );
    c64k.mapDma({ vaddr: 0x7f00_0000_0000, iova: 0x4000_0000, size: 0x1_0000 });
    expect(thrownErrno(() => c64k.unmapDma({ iova: 0x4000_0000, size: 0x1000 }))).toBe('EINVAL');
    expect(c64k.unmapDma({ iova: 0x4000_0000, size: 0x1_0000 })).toBe(0x1_0000n);
    // Two domains: only sizes both support; 512-byte pages are hidden behind PAGE_SIZE.
    expect(withPgsizes(0x1000 | 0x20_0000, 0x1000 | 0x1_0000).iommuInfo().iovaPgsizes).toBe(0x1000n);
    expect(withPgsizes(0x200 | 0x1000 | 0x20_0000).iommuInfo().iovaPgsizes).toBe(0x20_1000n);
  });
});

describe('emulated and IOMMU groups in one container', () => {
  it('the last IOMMU group leaving unpins but keeps mappings for the emulated group; the last group drops them', () => {
    const f = type1Fixture();
    const emulated = f.vfio.registerEmulatedIommuDevice({ name: 'mdev0', ops: countingDeviceOps() });
    const emulatedName =
      [...f.vfio.groups.entries()].find(([, g]) => g.devices.includes(emulated))?.[0] ?? '';
    const group2 = VfioGroupHandle.open(f.process, emulatedName);
    group2.setContainer(f.container);
    expect(f.container.checkExtension(VFIO_UPDATE_VADDR)).toBe(false);
    f.container.mapDma({ vaddr: 0x7f00_0000_0000, iova: 0x4000_0000, size: 0x4000 });
    expect(f.process.mm.lockedVm).toBe(4);
    f.group.unsetContainer();
    expect(f.process.mm.lockedVm).toBe(0);
    expect(f.container.iommuInfo().dmaAvail).toBe(65534);
    group2.unsetContainer();
    expect(thrownErrno(() => f.container.iommuInfo())).toBe('EINVAL');
  });

  it('UNMAP_DMA with VADDR is EBUSY while an emulated group is attached, and works once it left', () => {
    const f = type1Fixture();
    const emulated = f.vfio.registerEmulatedIommuDevice({ name: 'mdev0', ops: countingDeviceOps() });
    const emulatedName =
      [...f.vfio.groups.entries()].find(([, g]) => g.devices.includes(emulated))?.[0] ?? '';
    const group2 = VfioGroupHandle.open(f.process, emulatedName);
    group2.setContainer(f.container);
    f.container.mapDma({ vaddr: 0x7f00_0000_0000, iova: 0x4000_0000, size: 0x4000 });
    const invalidate = (): number => {
      const bytes = vfioIommuType1DmaUnmap.encode({
        argsz: 24,
        flags: VFIO_DMA_UNMAP_FLAG_VADDR,
        iova: 0x4000_0000,
        size: 0x4000,
      });
      f.process.ioctl(f.container.fd, VFIO_IOMMU_UNMAP_DMA, bytes);
      return Number(vfioIommuType1DmaUnmap.decode(bytes).size);
    };
    expect(thrownErrno(invalidate)).toBe('EBUSY');
    group2.unsetContainer();
    expect(invalidate()).toBe(0x4000);
  });

  it('DMA_CC: 0 before SET_IOMMU and with an SMMU domain; 1 over emulated groups only (no domain)', () => {
    const f = type1Fixture();
    expect(f.container.checkExtension(VFIO_DMA_CC_IOMMU)).toBe(false);
    const vfio = new Vfio();
    const process = new UserProcess({ vfio });
    const emulated = vfio.registerEmulatedIommuDevice({ name: 'mdev0', ops: countingDeviceOps() });
    const name = [...vfio.groups.entries()].find(([, g]) => g.devices.includes(emulated))?.[0] ?? '';
    const container = VfioContainerHandle.open(process);
    VfioGroupHandle.open(process, name).setContainer(container);
    expect(container.checkExtension(VFIO_DMA_CC_IOMMU)).toBe(false);
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    expect(container.checkExtension(VFIO_DMA_CC_IOMMU)).toBe(true);
  });
});

describe('type1 attach while a vaddr is invalid (vfio_iommu_type1_attach_group)', () => {
  it('EBUSY until the vaddr is supplied again (attach could require pinning)', () => {
    const f = type1Fixture();
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 0x4000_0000, size: 0x1000 });
    f.container.unmapDma({ iova: 0x4000_0000, size: 0x1000, vaddrOnly: true });
    const other = testIommuGroup({ id: 6, devices: [{ name: 'dev6' }] });
    f.vfio.registerGroupDevice({ name: 'dev6', ops: countingDeviceOps(), iommuGroup: other });
    const group6 = VfioGroupHandle.open(f.process, 6);
    expect(thrownErrno(() => group6.setContainer(f.container))).toBe('EBUSY');
    expect(other.owner).toBeNull();
    const remap = vfioIommuType1DmaMap.encode({
      argsz: vfioIommuType1DmaMap.size,
      flags: VFIO_DMA_MAP_FLAG_VADDR,
      vaddr: GUEST_RAM_VADDR,
      iova: 0x4000_0000,
      size: 0x1000,
    });
    f.process.ioctl(f.container.fd, VFIO_IOMMU_MAP_DMA, remap);
    group6.setContainer(f.container);
    expect(other.owner).not.toBeNull();
  });
});
