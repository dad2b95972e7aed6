import { IommuGroupIda } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VfioContainerHandle } from '../api/container-handle.js';
import { VfioGroupHandle } from '../api/group-handle.js';
import { DEVICE, platformFixture } from '../test-support/platform-fixture.js';
import { countingDeviceOps } from '../testing/counting-device.js';
import { testIommuGroup } from '../testing/test-group.js';
import {
  VFIO_CHECK_EXTENSION,
  VFIO_IOMMU_GET_INFO,
  VFIO_IOMMU_MAP_DMA,
  VFIO_NOIOMMU_IOMMU,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
} from '../uapi/ioctls.js';
import { UserProcess } from '../user/process.js';
import { Vfio } from '../vfio.js';

// No-IOMMU mode as Linux 6.12 has it: drivers/vfio/group.c vfio_group_find_or_alloc /
// vfio_noiommu_group_alloc / vfio_create_group / vfio_group_fops_open, container.c
// vfio_noiommu_ops, vfio_main.c module_param_named(enable_unsafe_noiommu_mode).

const rawio = (vfio: Vfio): UserProcess => new UserProcess({ vfio, capabilities: ['CAP_SYS_RAWIO'] });

describe('vfio.enable_unsafe_noiommu_mode off (the default)', () => {
  it('a device without an IOMMU group fails registration, so probe, with EINVAL (vfio_group_find_or_alloc)', () => {
    const vfio = new Vfio();
    expect(
      thrownErrno(() =>
        vfio.registerGroupDevice({ name: 'd', ops: countingDeviceOps(), iommuGroup: undefined }),
      ),
    ).toBe('EINVAL');
    const f = platformFixture({ noIommu: true });
    expect(f.device.lastProbeError?.code).toBe('EINVAL');
    expect(f.vfio.taint).toBe(0);
    expect(f.vfio.devNodes()).toEqual(['vfio']);
  });

  it('CHECK_EXTENSION(VFIO_NOIOMMU_IOMMU) is 0 (vfio_noiommu_ioctl)', () => {
    const p = rawio(new Vfio());
    expect(VfioContainerHandle.open(p).checkExtension(VFIO_NOIOMMU_IOMMU)).toBe(false);
  });
});

describe('vfio.enable_unsafe_noiommu_mode=1', () => {
  it('vfio-platform binds a device with no IOMMU: group noiommu-0, IOMMU group 0 named vfio-noiommu, taint 64, the dev_warn', () => {
    const f = platformFixture({ noIommu: true, enableUnsafeNoiommuMode: true });
    expect(f.device.driverName).toBe('vfio-platform');
    expect(f.vfio.devNodes()).toEqual(['noiommu-0', 'vfio']);
    expect([...f.vfio.fakeIommuGroups.values()]).toEqual([
      { id: 0, name: 'vfio-noiommu', devices: [DEVICE] },
    ]);
    expect(f.vfio.groups.get('noiommu-0')?.iommuGroupName).toBe('vfio-noiommu');
    expect(f.vfio.taint).toBe(64);
    expect(f.log).toContain(`vfio-platform ${DEVICE}: Adding kernel taint for vfio-noiommu group on device`);
  });

  it('is settable by the kernel parameter name, as on the command line or in sysfs (kstrtobool)', () => {
    const vfio = new Vfio({ moduleParams: { 'vfio.enable_unsafe_noiommu_mode': '1' } });
    expect(vfio.params.enableUnsafeNoiommuMode).toBe(true);
    expect(vfio.param('enable_unsafe_noiommu_mode')).toBe('Y');
    for (const [value, on] of [
      ['N', false],
      ['y', true],
      ['off', false],
      ['on', true],
      ['0', false],
      [true, true],
    ] as const) {
      vfio.setParam('enable_unsafe_noiommu_mode', value);
      expect(vfio.params.enableUnsafeNoiommuMode).toBe(on);
    }
    expect(thrownErrno(() => vfio.setParam('vfio.enable_unsafe_noiommu_mode', 'maybe'))).toBe('EINVAL');
    expect(thrownErrno(() => vfio.setParam('vfio.enable_unsafe_noiommu', '1'))).toBe('ENOENT');
    expect(thrownErrno(() => vfio.setParam('vfio_iommu_type1.enable_unsafe_noiommu_mode', '1'))).toBe(
      'ENOENT',
    );
    vfio.setParam('vfio_iommu_type1.dma_entry_limit', '0x10');
    expect(vfio.param('dma_entry_limit')).toBe('16');
    vfio.setParam('allow_unsafe_interrupts', 'Y');
    expect(vfio.params.allowUnsafeInterrupts).toBe(true);
  });

  it('rejects an unknown option key (a typo is an error)', () => {
    expect(thrownErrno(() => new Vfio({ enableUnsafeNoIommuMode: true } as never))).toBe('EINVAL');
  });

  it('opening /dev/vfio/noiommu-N needs CAP_SYS_RAWIO (EPERM), then works as a container of its own kind', () => {
    const vfio = new Vfio({ enableUnsafeNoiommuMode: true });
    const ops = countingDeviceOps();
    vfio.registerGroupDevice({ name: 'd0', ops, iommuGroup: undefined });
    const plain = new UserProcess({ vfio });
    expect(thrownErrno(() => plain.open('/dev/vfio/noiommu-0'))).toBe('EPERM');
    expect(thrownErrno(() => plain.open('/dev/vfio/0'))).toBe('ENOENT');
    const p = rawio(vfio);
    const container = VfioContainerHandle.open(p);
    expect(p.ioctl(container.fd, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU)).toBe(1);
    expect(p.ioctl(container.fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)).toBe(1);
    const group = VfioGroupHandle.open(p, 'noiommu-0');
    expect(group.status()).toEqual({ viable: true, containerSet: false });
    group.setContainer(container);
    // Only vfio-noiommu is allowed for a no-IOMMU container (vfio_iommu_driver_allowed).
    expect(p.ioctl(container.fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)).toBe(0);
    expect(thrownErrno(() => container.setIommu(VFIO_TYPE1_IOMMU))).toBe('ENODEV');
    container.setIommu(VFIO_NOIOMMU_IOMMU);
    // vfio_noiommu_ioctl: everything but CHECK_EXTENSION is ENOTTY.
    expect(thrownErrno(() => p.ioctl(container.fd, VFIO_IOMMU_GET_INFO, new Uint8Array(16)))).toBe('ENOTTY');
    expect(thrownErrno(() => p.ioctl(container.fd, VFIO_IOMMU_MAP_DMA, new Uint8Array(32)))).toBe('ENOTTY');
    expect(p.ioctl(container.fd, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU)).toBe(1);
    const device = group.getDevice('d0');
    expect(ops.opens).toBe(1);
    device.close();
  });

  it('SET_IOMMU(VFIO_NOIOMMU_IOMMU) without CAP_SYS_RAWIO is EPERM (vfio_noiommu_open), a real group cannot join (EPERM)', () => {
    const vfio = new Vfio({ enableUnsafeNoiommuMode: true });
    vfio.registerGroupDevice({ name: 'd0', ops: countingDeviceOps(), iommuGroup: undefined });
    const iommuGroup = testIommuGroup({ id: 7, devices: [{ name: 'r0' }] });
    vfio.registerGroupDevice({ name: 'r0', ops: countingDeviceOps(), iommuGroup });
    const p = rawio(vfio);
    const container = VfioContainerHandle.open(p);
    VfioGroupHandle.open(p, 'noiommu-0').setContainer(container);
    expect(thrownErrno(() => VfioGroupHandle.open(p, 7).setContainer(container))).toBe('EPERM');
    p.setCapability('CAP_SYS_RAWIO', false);
    expect(thrownErrno(() => container.setIommu(VFIO_NOIOMMU_IOMMU))).toBe('EPERM');
  });

  it('GET_DEVICE_FD logs the dev_warn with comm and pid (vfio_device_open_file)', () => {
    const log: string[] = [];
    const vfio = new Vfio({ enableUnsafeNoiommuMode: true, log: (l) => log.push(l) });
    vfio.registerGroupDevice({
      name: 'd0',
      ops: countingDeviceOps(),
      iommuGroup: undefined,
      driver: 'vfio-amba',
    });
    const p = new UserProcess({ vfio, capabilities: ['CAP_SYS_RAWIO'], comm: 'runner', pid: 42 });
    const container = VfioContainerHandle.open(p);
    const group = VfioGroupHandle.open(p, 'noiommu-0');
    group.setContainer(container);
    container.setIommu(VFIO_NOIOMMU_IOMMU);
    group.getDevice('d0').close();
    expect(log).toEqual([
      'vfio-amba d0: Adding kernel taint for vfio-noiommu group on device',
      'vfio-amba d0: vfio-noiommu device opened by user (runner:42)',
    ]);
  });

  it('fake groups share the IOMMU group id space: a real group id is skipped, a freed id is reused', () => {
    const ids = new IommuGroupIda();
    const vfio = new Vfio({ enableUnsafeNoiommuMode: true, iommuGroupIds: ids });
    vfio.registerGroupDevice({
      name: 'r0',
      ops: countingDeviceOps(),
      iommuGroup: testIommuGroup({ id: 0, devices: [{ name: 'r0' }] }),
    });
    const a = vfio.registerGroupDevice({ name: 'a', ops: countingDeviceOps(), iommuGroup: undefined });
    const e = vfio.registerEmulatedIommuDevice({ name: 'e', ops: countingDeviceOps() });
    expect(vfio.devNodes()).toEqual(['0', '2', 'noiommu-1', 'vfio']);
    // An emulated group is named vfio-noiommu too, but taints nothing by itself.
    expect(vfio.fakeIommuGroups.get(2)).toEqual({ id: 2, name: 'vfio-noiommu', devices: ['e'] });
    // The group fd keeps the IOMMU group (and its id) alive after the device left.
    const p = rawio(vfio);
    const fd = p.open('/dev/vfio/noiommu-1');
    expect(vfio.unregisterDevice(a)).toBeUndefined();
    expect(vfio.devNodes()).toEqual(['0', '2', 'vfio']);
    expect(vfio.fakeIommuGroups.get(1)?.devices).toEqual([]);
    p.close(fd);
    expect(vfio.fakeIommuGroups.has(1)).toBe(false);
    expect(vfio.unregisterDevice(e)).toBeUndefined();
    vfio.registerGroupDevice({ name: 'b', ops: countingDeviceOps(), iommuGroup: undefined });
    expect(vfio.devNodes()).toEqual(['0', 'noiommu-1', 'vfio']);
  });

  it('property: fake group ids are always the lowest free ids and never a live group id', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 20 }), (steps) => {
        const vfio = new Vfio({ enableUnsafeNoiommuMode: true });
        const live: ReturnType<Vfio['registerGroupDevice']>[] = [];
        steps.forEach((add, i) => {
          const victim = live.shift();
          if (add || victim === undefined) {
            if (victim !== undefined) live.unshift(victim);
            live.push(
              vfio.registerGroupDevice({ name: `d${i}`, ops: countingDeviceOps(), iommuGroup: undefined }),
            );
          } else vfio.unregisterDevice(victim);
          const ids = [...vfio.fakeIommuGroups.keys()].sort((x, y) => x - y);
          expect(ids).toEqual(live.map((d) => vfio.groupOf(d)?.id).sort((x, y) => (x ?? 0) - (y ?? 0)));
          expect(new Set(ids).size).toBe(ids.length);
        });
      }),
    );
  });

  it('with CONFIG_VFIO_DEVICE_CDEV, /dev/vfio/devices lists vfio<index> except for no-IOMMU devices (vfio_device_add)', () => {
    const vfio = new Vfio({ enableUnsafeNoiommuMode: true, deviceCdev: true });
    vfio.registerGroupDevice({ name: 'n0', ops: countingDeviceOps(), iommuGroup: undefined });
    expect(vfio.devNodes()).toEqual(['noiommu-0', 'vfio']);
    const e = vfio.registerEmulatedIommuDevice({ name: 'mdev0', ops: countingDeviceOps() });
    expect(vfio.devNodes()).toEqual(['1', 'devices', 'noiommu-0', 'vfio']);
    expect(vfio.deviceNodes()).toEqual(['vfio1']);
    expect(vfio.deviceIndex(e)).toBe(1);
    vfio.unregisterDevice(e);
    expect(vfio.devNodes()).toEqual(['noiommu-0', 'vfio']);
  });
});
