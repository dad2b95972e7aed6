import { describe, expect, it } from 'vitest';
import { countingDeviceOps } from '../testing/counting-device.js';
import { testIommuGroup } from '../testing/test-group.js';
import { Vfio } from '../vfio.js';

describe('struct vfio_group naming (drivers/vfio/group.c)', () => {
  it('an emulated group is one VFIO allocated (vfio_noiommu_group_alloc names it vfio-noiommu); a real group has no name', () => {
    const vfio = new Vfio();
    vfio.registerEmulatedIommuDevice({ name: 'mdev0', ops: countingDeviceOps() });
    const iommuGroup = testIommuGroup({ id: 5, devices: [{ name: 'dev0', streamIds: [3] }] });
    vfio.registerGroupDevice({ name: 'dev0', ops: countingDeviceOps(), iommuGroup });
    const groups = [...vfio.groups.values()];
    const emulated = groups.find((g) => g.kind === 'emulated');
    const real = groups.find((g) => g.kind === 'iommu');
    expect(emulated?.iommuGroupName).toBe('vfio-noiommu');
    expect(emulated?.name).toBe(`${emulated?.id}`);
    expect(real?.iommuGroupName).toBeNull();
    expect(real?.name).toBe('5');
    expect(real?.type1Group()).toEqual({ kind: 'iommu', id: 5, iommuGroup: real?.iommuGroup });
    expect(emulated?.type1Group()).toEqual({ kind: 'emulated', id: emulated?.id });
  });

  it('registeredDevices lists the devices still registered (what GET_DEVICE_FD can find)', async () => {
    const vfio = new Vfio();
    const iommuGroup = testIommuGroup({ id: 5, devices: [{ name: 'dev0' }, { name: 'dev1' }] });
    const dev0 = vfio.registerGroupDevice({ name: 'dev0', ops: countingDeviceOps(), iommuGroup });
    vfio.registerGroupDevice({ name: 'dev1', ops: countingDeviceOps(), iommuGroup });
    const group = vfio.groupOf(dev0);
    expect(group?.registeredDevices.map((d) => d.name)).toEqual(['dev0', 'dev1']);
    // vfio_unregister_group_dev: no fd is open, so it completes at once.
    await vfio.unregisterDevice(dev0);
    expect(group?.registeredDevices.map((d) => d.name)).toEqual(['dev1']);
  });
});
