import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHost } from '../host.js';
import { errnoOf, virtDtb } from '../test-support.js';

const TYPES = '/sys/class/mdev_bus/mtty/mdev_supported_types';
const U1 = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001';

// The oracle kernel registers mtty at boot (samples/vfio-mdev/mtty.c mtty_dev_init); the host
// serves the mdev bus's sysfs (drivers/vfio/mdev/mdev_sysfs.c) through its fs view.
describe('host: the mdev bus and the mtty parent in sysfs', () => {
  it('shows mtty as an mdev parent with two types at boot', () => {
    const host = createHost(virtDtb());
    expect(host.fs.ls('/sys/class/mdev_bus')).toEqual(['mtty']);
    expect(host.fs.readlink('/sys/class/mdev_bus/mtty')).toBe('../../devices/virtual/mtty/mtty');
    expect(host.fs.ls(TYPES)).toEqual(['mtty-1', 'mtty-2']);
    expect(host.fs.cat(`${TYPES}/mtty-2/available_instances`)).toBe('12\n');
    expect(host.fs.cat(`${TYPES}/mtty-1/device_api`)).toBe('vfio-pci\n');
    expect(host.fs.ls('/sys/bus')).toContain('mdev');
    expect(errnoOf(() => host.fs.cat(`${TYPES}/mtty-1/create`))).toBe('EACCES');
    expect(errnoOf(() => host.fs.write(`${TYPES}/mtty-1/name`, 'x'))).toBe('EACCES');
  });

  it('creates a device by UUID: an emulated group /dev/vfio/<id>, its links, no taint; remove takes it away', async () => {
    const host = createHost(virtDtb());
    await host.fs.run(`echo ${U1} > ${TYPES}/mtty-1/create`);
    expect(host.fs.ls('/sys/bus/mdev/devices')).toEqual([U1]);
    expect(host.fs.ls('/dev/vfio')).toEqual(['0', 'devices', 'vfio']);
    const dev = `/sys/bus/mdev/devices/${U1}`;
    expect(host.fs.readlink(`${dev}/iommu_group`)).toBe('../../../../../kernel/iommu_groups/0');
    expect(host.fs.readlink(`${dev}/mdev_type`)).toBe('../mdev_supported_types/mtty-1');
    expect(host.fs.cat(`${dev}/vendor/sample_mdev_dev`)).toBe(`This is MDEV ${U1}\n`);
    expect(host.fs.cat('/sys/kernel/iommu_groups/0/name')).toBe('vfio-noiommu\n');
    expect(host.fs.ls('/sys/kernel/iommu_groups/0/devices')).toEqual([U1]);
    expect(host.fs.ls(`${TYPES}/mtty-1/devices`)).toEqual([U1]);
    expect(host.fs.cat('/proc/sys/kernel/tainted')).toBe('0\n');
    expect(errnoOf(() => host.fs.write(`${TYPES}/mtty-2/create`, U1.toUpperCase()))).toBe('EEXIST');
    await host.fs.run(`echo 1 > ${dev}/remove`);
    expect(host.fs.ls('/sys/bus/mdev/devices')).toEqual([]);
    expect(host.fs.ls('/dev/vfio')).toEqual(['vfio']);
    expect(host.fs.ls('/sys/kernel/iommu_groups')).toEqual([]);
    expect(host.fs.exists(dev)).toBe(false);
  });

  it('uevent: DRIVER= for a bound mdev (dev_uevent), empty for the parent class device', async () => {
    const host = createHost(virtDtb());
    await host.fs.run(`echo ${U1} > ${TYPES}/mtty-1/create`);
    expect(host.fs.cat(`/sys/bus/mdev/devices/${U1}/uevent`)).toBe('DRIVER=mtty\n');
    expect(host.fs.cat('/sys/class/mdev_bus/mtty/uevent')).toBe('');
    expect(host.fs.ls('/sys/bus/mdev/drivers/mtty')).toEqual([U1, 'bind', 'uevent', 'unbind']);
    expect(errnoOf(() => host.fs.cat('/sys/bus/mdev/drivers/mtty/bind'))).toBe('EACCES');
  });

  it('property: after any creates and removes, every mdev has one emulated group, /dev/vfio and /sys/kernel/iommu_groups agree, nothing taints', () => {
    const op = fc.record({
      create: fc.boolean(),
      type: fc.constantFrom('mtty-1', 'mtty-2'),
      id: fc.nat(9),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
        const host = createHost(virtDtb());
        for (const o of ops) {
          const uuid = `00000000-0000-0000-0000-00000000000${o.id}`;
          const path = o.create ? `${TYPES}/${o.type}/create` : `/sys/bus/mdev/devices/${uuid}/remove`;
          expect(['ok', 'EEXIST', 'ENOENT', 'ENOSPC']).toContain(
            errnoOf(() => host.fs.write(path, o.create ? uuid : '1')),
          );
        }
        const devices = host.fs.ls('/sys/bus/mdev/devices');
        const groups = devices.map((d) =>
          host.fs.readlink(`/sys/bus/mdev/devices/${d}/iommu_group`).split('/').pop(),
        );
        expect(new Set(groups).size).toBe(devices.length);
        expect(host.fs.ls('/sys/kernel/iommu_groups')).toEqual([...(groups as string[])].sort());
        expect(host.fs.ls('/dev/vfio').filter((n) => /^\d+$/.test(n))).toEqual(
          [...(groups as string[])].sort(),
        );
        for (const g of groups)
          expect(host.fs.cat(`/sys/kernel/iommu_groups/${g}/name`)).toBe('vfio-noiommu\n');
        expect(host.fs.cat('/proc/sys/kernel/tainted')).toBe('0\n');
      }),
      { numRuns: 50 },
    );
  });
});
