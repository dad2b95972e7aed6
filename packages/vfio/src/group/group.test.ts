import { KernelError } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { VfioContainerHandle } from '../api/container-handle.js';
import { VfioGroupHandle } from '../api/group-handle.js';
import { GUEST_RAM_VADDR, type1Fixture } from '../test-support/type1-fixture.js';
import { countingDeviceOps } from '../testing/counting-device.js';
import { testIommuGroup } from '../testing/test-group.js';
import {
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_GET_STATUS,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_TYPE1v2_IOMMU,
} from '../uapi/ioctls.js';
import { vfioGroupStatus } from '../uapi/structs-device.js';
import { UserProcess } from '../user/process.js';
import { Vfio } from '../vfio.js';

function host(options: ConstructorParameters<typeof Vfio>[0] = {}) {
  const vfio = new Vfio({ allowUnsafeInterrupts: true, ...options });
  const iommuGroup = testIommuGroup({ id: 5, devices: [{ name: 'dev0' }, { name: 'dev1' }] });
  const ops = countingDeviceOps();
  const device = vfio.registerGroupDevice({ name: 'dev0', ops, iommuGroup });
  const process = new UserProcess({ vfio });
  return { vfio, iommuGroup, ops, device, process };
}

describe('the group file (drivers/vfio/group.c)', () => {
  it('registers a device in its group once: a second registration is EINVAL (vfio_group_find_or_alloc)', () => {
    const { vfio, iommuGroup } = host();
    expect(
      thrownErrno(() => vfio.registerGroupDevice({ name: 'dev0', ops: countingDeviceOps(), iommuGroup })),
    ).toBe('EINVAL');
    vfio.registerGroupDevice({ name: 'dev1', ops: countingDeviceOps(), iommuGroup });
    expect(vfio.groups.get('5')?.devices.map((d) => d.name)).toEqual(['dev0', 'dev1']);
  });

  it('has a single opener (EBUSY), ENOENT for no such group, and reopens after close', () => {
    const { process } = host();
    const group = VfioGroupHandle.open(process, 5);
    expect(thrownErrno(() => process.open('/dev/vfio/5'))).toBe('EBUSY');
    expect(thrownErrno(() => process.open('/dev/vfio/6'))).toBe('ENOENT');
    group.close();
    VfioGroupHandle.open(process, 5).close();
  });

  it('GET_STATUS: VIABLE while no kernel driver uses the group, VIABLE|CONTAINER_SET with a container; EINVAL below argsz 8', () => {
    const { process, iommuGroup } = host();
    const group = VfioGroupHandle.open(process, 5);
    expect(group.status()).toEqual({ viable: true, containerSet: false });
    iommuGroup.deviceUseDefaultDomain('dev1');
    expect(group.status()).toEqual({ viable: false, containerSet: false });
    expect(
      thrownErrno(() =>
        process.ioctl(group.fd, VFIO_GROUP_GET_STATUS, vfioGroupStatus.encode({ argsz: 7, flags: 0 })),
      ),
    ).toBe('EINVAL');
    iommuGroup.deviceUnuseDefaultDomain('dev1');
    group.setContainer(VfioContainerHandle.open(process));
    expect(group.status()).toEqual({ viable: true, containerSet: true });
  });

  it('SET_CONTAINER: EPERM while a host driver is bound in the group; EBADF, EBADFD, EFAULT, EINVAL', () => {
    const { process, iommuGroup } = host();
    const group = VfioGroupHandle.open(process, 5);
    const container = VfioContainerHandle.open(process);
    iommuGroup.deviceUseDefaultDomain('dev1');
    expect(thrownErrno(() => group.setContainer(container))).toBe('EPERM');
    iommuGroup.deviceUnuseDefaultDomain('dev1');
    expect(thrownErrno(() => group.setContainer(-1))).toBe('EBADF');
    expect(thrownErrno(() => group.setContainer(99))).toBe('EBADF');
    expect(thrownErrno(() => group.setContainer(process.eventfd()))).toBe('EBADFD');
    expect(thrownErrno(() => group.setContainer(group.fd))).toBe('EBADFD');
    expect(thrownErrno(() => process.ioctl(group.fd, VFIO_GROUP_SET_CONTAINER, 3))).toBe('EFAULT');
    group.setContainer(container);
    expect(thrownErrno(() => group.setContainer(container))).toBe('EINVAL');
  });

  it('while claimed, a kernel driver probe in the group fails EBUSY (iommu_device_use_default_domain)', () => {
    const { process, iommuGroup } = host();
    VfioGroupHandle.open(process, 5).setContainer(VfioContainerHandle.open(process));
    expect(thrownErrno(() => iommuGroup.deviceUseDefaultDomain('dev1'))).toBe('EBUSY');
  });

  it('GET_DEVICE_FD: ENODEV for an unknown name, EINVAL without a container or before SET_IOMMU; open_device once', () => {
    const { process, ops } = host();
    const group = VfioGroupHandle.open(process, 5);
    expect(thrownErrno(() => group.getDevice('dev0'))).toBe('EINVAL');
    const container = VfioContainerHandle.open(process);
    group.setContainer(container);
    expect(thrownErrno(() => group.getDevice('nope'))).toBe('ENODEV');
    expect(thrownErrno(() => group.getDevice('dev0'))).toBe('EINVAL');
    expect(thrownErrno(() => process.ioctl(group.fd, VFIO_GROUP_GET_DEVICE_FD, new Uint8Array([0x64])))).toBe(
      'EFAULT',
    );
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    const a = group.getDevice('dev0');
    const b = group.getDevice('dev0');
    expect(ops.opens).toBe(1);
    a.close();
    expect(ops.closes).toBe(0);
    b.close();
    expect(ops.closes).toBe(1);
  });

  it('an open_device error is returned by GET_DEVICE_FD and leaves nothing open', () => {
    const f = type1Fixture();
    f.ops.failNextOpen = new KernelError('ETIMEDOUT', 'reset failed');
    expect(thrownErrno(() => f.group.getDevice('dev0'))).toBe('ETIMEDOUT');
    f.group.unsetContainer();
  });

  it('UNSET_CONTAINER: EINVAL without a container, EBUSY with an open device fd', () => {
    const f = type1Fixture();
    const device = f.group.getDevice('dev0');
    expect(thrownErrno(() => f.group.unsetContainer())).toBe('EBUSY');
    device.close();
    f.group.unsetContainer();
    expect(thrownErrno(() => f.group.unsetContainer())).toBe('EINVAL');
    expect(f.iommuGroup.owner).toBeNull();
  });

  it('closing the group fd with a device open keeps the container until the device closes', () => {
    const f = type1Fixture();
    const device = f.group.getDevice('dev0');
    f.group.close();
    expect(f.iommuGroup.owner).not.toBeNull();
    device.close();
    expect(f.iommuGroup.owner).toBeNull();
    VfioGroupHandle.open(f.process, 5).close();
  });

  it('unregistering waits until device fds are closed; new lookups fail ENODEV meanwhile', async () => {
    const f = type1Fixture();
    const device = f.group.getDevice('dev0');
    let done = false;
    const unregistered = Promise.resolve(f.vfio.unregisterDevice(f.device)).then(() => {
      done = true;
    });
    await Promise.resolve();
    expect(done).toBe(false);
    expect(thrownErrno(() => f.group.getDevice('dev0'))).toBe('ENODEV');
    device.close();
    await unregistered;
    expect(done).toBe(true);
  });

  it('once its last device is gone, the open group file answers ENODEV and cannot be reopened', () => {
    const { vfio, process, device } = host();
    const group = VfioGroupHandle.open(process, 5);
    expect(vfio.unregisterDevice(device)).toBeUndefined();
    expect(thrownErrno(() => group.status())).toBe('ENODEV');
    expect(thrownErrno(() => group.setContainer(VfioContainerHandle.open(process)))).toBe('ENODEV');
    group.close();
    expect(thrownErrno(() => process.open('/dev/vfio/5'))).toBe('ENOENT');
  });

  it('the last device unregistered while the group fd is open takes the group out of its container (vfio_device_remove_group)', async () => {
    const f = type1Fixture();
    f.container.mapDma({ vaddr: GUEST_RAM_VADDR, iova: 0x4000_0000, size: 0x10_0000 });
    expect(f.process.mm.lockedVm).toBe(0x100);
    const device = f.group.getDevice('dev0');
    const unregistered = f.vfio.unregisterDevice(f.device);
    expect(f.iommuGroup.owner).not.toBeNull();
    device.close();
    await unregistered;
    // DMA ownership released, pins dropped, the container without backend.
    expect(f.iommuGroup.owner).toBeNull();
    expect(f.iommuGroup.domain).toBeNull();
    expect(f.process.mm.lockedVm).toBe(0);
    expect(thrownErrno(() => f.container.iommuInfo())).toBe('EINVAL');
    expect(thrownErrno(() => f.group.unsetContainer())).toBe('EINVAL');
    expect(thrownErrno(() => f.group.status())).toBe('ENODEV');
    f.group.close();
  });

  it('unknown group ioctl → ENOTTY', () => {
    const { process } = host();
    const group = VfioGroupHandle.open(process, 5);
    expect(thrownErrno(() => process.ioctl(group.fd, 0x3b7e, new Uint8Array(8)))).toBe('ENOTTY');
  });
});

describe('kernel profile: group viability before v5.19', () => {
  it('is viable iff every device is unbound or bound to a VFIO driver; GET_DEVICE_FD needs it', () => {
    const drivers = new Map<string, string | null>([['dev1', 'pl330']]);
    const { process } = host({ profile: { version: [5, 15] }, deviceDriver: (d) => drivers.get(d) ?? null });
    const group = VfioGroupHandle.open(process, 5);
    expect(group.status().viable).toBe(false);
    const container = VfioContainerHandle.open(process);
    group.setContainer(container);
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    expect(thrownErrno(() => group.getDevice('dev0'))).toBe('EINVAL');
    drivers.set('dev1', 'vfio-platform');
    group.getDevice('dev0').close();
  });
});
