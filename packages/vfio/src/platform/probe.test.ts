import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { VfioContainerHandle } from '../api/container-handle.js';
import { VfioGroupHandle } from '../api/group-handle.js';
import { DEVICE, openedPlatformFixture, platformFixture } from '../test-support/platform-fixture.js';
import { VFIO_DEVICE_FLAGS_PLATFORM, VFIO_DEVICE_FLAGS_RESET } from '../uapi/flags.js';
import { VFIO_DEVICE_GET_INFO, VFIO_NOIOMMU_IOMMU, VFIO_TYPE1v2_IOMMU } from '../uapi/ioctls.js';
import { vfioDeviceInfo } from '../uapi/structs-device.js';
import { vfioMetaDriverData } from './meta-driver.js';

describe('vfio-platform probe (vfio_platform.c, vfio_platform_init_common)', () => {
  it('binds through driver_override, registers the device in its IOMMU group, leaves owner_cnt alone', () => {
    const f = platformFixture();
    expect(f.device.driverName).toBe('vfio-platform');
    expect(vfioMetaDriverData(f.device)?.registration).toBe('iommu');
    expect(f.vfio.groups.get('5')?.devices.map((d) => d.name)).toEqual([DEVICE]);
    expect(f.iommuGroup.ownerCnt).toBe(0);
  });

  it('ENOENT and stays unbound without a reset while reset_required (the default)', () => {
    const f = platformFixture({ withReset: false });
    expect(f.device.driverName).toBeNull();
    expect(f.device.lastProbeError?.code).toBe('ENOENT');
    expect(f.vfio.groups.size).toBe(0);
  });

  it('binds without a reset when reset_required=0; GET_INFO then has no RESET flag and RESET is EINVAL', () => {
    const f = platformFixture({ withReset: false, resetRequired: false });
    expect(f.device.driverName).toBe('vfio-platform');
    const container = VfioContainerHandle.open(f.process);
    const group = VfioGroupHandle.open(f.process, 5);
    group.setContainer(container);
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    const handle = group.getDevice(DEVICE);
    expect(handle.info().flags).toBe(VFIO_DEVICE_FLAGS_PLATFORM);
    expect(thrownErrno(() => handle.reset())).toBe('EINVAL');
  });

  it('EINVAL without an IOMMU group, unless no-IOMMU mode or a DMA policy that proves no DMA', () => {
    expect(platformFixture({ noIommu: true }).device.lastProbeError?.code).toBe('EINVAL');
    const emulated = platformFixture({
      noIommu: true,
      dmaPolicy: { assess: () => ({ cannotDma: true, reason: 'no bus master port' }) },
    });
    expect(vfioMetaDriverData(emulated.device)?.registration).toBe('emulated');
    const refused = platformFixture({
      noIommu: true,
      dmaPolicy: { assess: () => ({ cannotDma: false, reason: 'may master' }) },
    });
    expect(refused.device.lastProbeError?.code).toBe('EINVAL');
    const noiommu = platformFixture({ noIommu: true, enableUnsafeNoiommuMode: true });
    expect(vfioMetaDriverData(noiommu.device)?.registration).toBe('noiommu');
    expect(noiommu.vfio.tainted).toBe(true);
  });

  it('an emulated group needs no DMA ownership and works with TYPE1v2 (mappings only recorded)', () => {
    const f = platformFixture({
      noIommu: true,
      dmaPolicy: { assess: () => ({ cannotDma: true, reason: 'test' }) },
    });
    const name = [...f.vfio.groups.keys()][0] ?? '';
    const container = VfioContainerHandle.open(f.process);
    const group = VfioGroupHandle.open(f.process, name);
    group.setContainer(container);
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    container.mapDma({ vaddr: 0x10_0000, iova: 0x10_0000, size: 0x1000 });
    expect(f.process.mm.lockedVm).toBe(0);
    expect(container.iommuInfo().iovaRanges).toEqual([]);
    group.getDevice(DEVICE).close();
    expect(thrownErrno(() => container.setIommu(VFIO_NOIOMMU_IOMMU))).toBe('EINVAL');
  });

  it('while the group is claimed a host driver cannot probe the other device (EBUSY via dma_configure)', () => {
    const f = openedPlatformFixture();
    f.core.platform.addDevice({
      name: '1c100000.other',
      bus: 'platform',
      compatible: ['test,other'],
      iommuGroup: 5,
    });
    f.core.platform.registerDriver({
      name: 'other-driver',
      ofMatchTable: ['test,other'],
      probe: () => undefined,
    });
    const other = f.core.platform.device('1c100000.other');
    expect(other?.driverName).toBeNull();
    expect(other?.lastProbeError).toMatchObject({ code: 'EBUSY', stage: 'dma_configure' });
  });

  it('a bound host driver makes the group non-viable and SET_CONTAINER EPERM', () => {
    const f = platformFixture();
    f.core.platform.registerDriver({
      name: 'other-driver',
      ofMatchTable: ['test,other'],
      probe: () => undefined,
    });
    f.core.platform.addDevice({
      name: '1c100000.other',
      bus: 'platform',
      compatible: ['test,other'],
      iommuGroup: 5,
    });
    const group = VfioGroupHandle.open(f.process, 5);
    expect(group.status().viable).toBe(false);
    expect(thrownErrno(() => group.setContainer(VfioContainerHandle.open(f.process)))).toBe('EPERM');
    f.core.platform.unbind('other-driver', '1c100000.other');
    expect(group.status().viable).toBe(true);
    group.setContainer(VfioContainerHandle.open(f.process));
  });

  it('unbind of an open device waits until its fds are closed, then the reset module is released', async () => {
    const f = openedPlatformFixture();
    let unbound = false;
    const done = Promise.resolve(f.core.platform.unbind('vfio-platform', DEVICE)).then(() => {
      unbound = true;
    });
    await Promise.resolve();
    expect(unbound).toBe(false);
    expect(f.resets.usersOf('test-reset')).toBe(1);
    f.handle.close();
    await done;
    expect(unbound).toBe(true);
    expect(f.device.driverName).toBeNull();
    expect(f.resets.usersOf('test-reset')).toBe(0);
  });
});

describe('first open / last close (vfio_platform_open_device / _close_device)', () => {
  it('walks unbound → bound → open (reset) → reset ioctl → closed (reset) → unbound', () => {
    const f = openedPlatformFixture();
    const platformDevice = vfioMetaDriverData(f.device)?.platformDevice;
    expect(platformDevice?.events).toEqual(['reset', 'open']);
    f.handle.reset();
    const second = f.group.getDevice(DEVICE);
    expect(platformDevice?.events).toEqual(['reset', 'open', 'reset']);
    f.handle.close();
    second.close();
    expect(platformDevice?.events).toEqual(['reset', 'open', 'reset', 'reset', 'close']);
    expect(f.resetLog).toEqual([DEVICE, DEVICE, DEVICE]);
    expect(f.core.platform.unbind('vfio-platform', DEVICE)).toBeUndefined();
    expect(f.device.driverName).toBeNull();
  });

  it('a failing reset fails GET_DEVICE_FD with its errno when reset_required, unwinding the open', () => {
    const f = platformFixture({ resetFails: true });
    const container = VfioContainerHandle.open(f.process);
    const group = VfioGroupHandle.open(f.process, 5);
    group.setContainer(container);
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    expect(thrownErrno(() => group.getDevice(DEVICE))).toBe('ETIMEDOUT');
    expect(f.irqChip.hasHandler(40)).toBe(false);
    expect(f.vfio.groups.get('5')?.containerUsers).toBe(1);
    expect(vfioMetaDriverData(f.device)?.platformDevice.events).toEqual(['reset-failed']);
    // Nothing is left half-open: UNSET_CONTAINER sees no device user.
    group.unsetContainer();
  });

  it('without reset_required a failing reset is ignored at open (no warning)', () => {
    const f = platformFixture({ resetFails: true, resetRequired: false });
    const handle = VfioGroupHandle.open(f.process, 5);
    const container = VfioContainerHandle.open(f.process);
    handle.setContainer(container);
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    handle.getDevice(DEVICE).close();
    expect(vfioMetaDriverData(f.device)?.platformDevice.events).toEqual([
      'reset-failed',
      'open',
      'reset-failed',
      'close',
    ]);
    expect(f.log).toEqual([]);
  });

  it('a reset failing at the last close does not fail the close; with reset_required it warns as the kernel', () => {
    const f = openedPlatformFixture({ resetFails: 'after-open' });
    f.handle.close();
    expect(vfioMetaDriverData(f.device)?.platformDevice.events).toEqual([
      'reset',
      'open',
      'reset-failed',
      'close',
    ]);
    expect(f.log).toHaveLength(1);
    expect(f.log[0]).toMatch(/^reset driver is required and reset call failed in release \(-110\) /);
    expect(f.irqChip.hasHandler(40)).toBe(false);
  });

  it('GET_INFO: PLATFORM|RESET, 2 regions, 2 IRQs; EINVAL below argsz 16; ENOTTY for unknown', () => {
    const f = openedPlatformFixture();
    expect(f.handle.info()).toEqual({
      flags: VFIO_DEVICE_FLAGS_PLATFORM | VFIO_DEVICE_FLAGS_RESET,
      numRegions: 2,
      numIrqs: 2,
    });
    const short = vfioDeviceInfo.encode({
      argsz: 15,
      flags: 0,
      num_regions: 0,
      num_irqs: 0,
      cap_offset: 0,
      pad: 0,
    });
    expect(thrownErrno(() => f.process.ioctl(f.handle.fd, VFIO_DEVICE_GET_INFO, short))).toBe('EINVAL');
    // v6.1-era userspace passes argsz 16; only minsz bytes are written back.
    const old = new Uint8Array(16);
    new DataView(old.buffer).setUint32(0, 16, true);
    f.process.ioctl(f.handle.fd, VFIO_DEVICE_GET_INFO, old);
    expect(new DataView(old.buffer).getUint32(8, true)).toBe(2);
    expect(thrownErrno(() => f.process.ioctl(f.handle.fd, 0x3b7a, new Uint8Array(16)))).toBe('ENOTTY');
  });
});
