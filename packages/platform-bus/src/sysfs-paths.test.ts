// Sysfs paths as Linux 6.12 lays them out (issue #9, item 7). Link targets are what
// fs/sysfs/symlink.c stores: relative from the directory holding the link, so their `../`
// count depends on how deep the device sits under /sys/devices/platform.
import { physAddr } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { DriverCore } from './driver-core.js';
import { errnoOf } from './test-helpers.js';
import { primecellIdRegisters, recordingDriver } from './testing/index.js';

/** QEMU virt's PL031 (a root node: parent = platform_bus) and an Exynos-style I2C under `soc`. */
function virt() {
  const core = new DriverCore();
  core.amba.registerDriver(
    recordingDriver('rtc-pl031', { ambaIdTable: [{ id: 0x00041031, mask: 0x000fffff }] }),
  );
  core.platform.registerDriver(recordingDriver('s3c-i2c', { ofMatchTable: ['samsung,s3c2440-i2c'] }));
  core.amba.addDevice({
    name: '9010000.pl031',
    bus: 'amba',
    ofNode: '/pl031@9010000',
    compatible: ['arm,pl031', 'arm,primecell'],
    regions: [{ start: physAddr(0x9010000), size: 0x1000 }],
    primecell: primecellIdRegisters(0x00041031),
    iommuGroup: 2,
  });
  core.platform.addDevice({ name: 'soc', bus: 'platform', ofNode: '/soc', compatible: ['simple-bus'] });
  core.platform.addDevice({
    name: '12c60000.i2c',
    bus: 'platform',
    parent: 'soc',
    ofNode: '/soc/i2c@12c60000',
    compatible: ['samsung,s3c2440-i2c'],
    iommuGroup: 3,
  });
  return core;
}

describe('/sys/devices: devices under their parents', () => {
  it('root devices sit in /sys/devices/platform, AMBA ones too; children under their bus device', () => {
    const core = virt();
    expect(core.amba.device('9010000.pl031')?.sysfsPath).toBe('/sys/devices/platform/9010000.pl031');
    expect(core.platform.device('12c60000.i2c')?.sysfsPath).toBe('/sys/devices/platform/soc/12c60000.i2c');
    expect(core.sysfs.list('/sys/devices')).toEqual(['platform']);
    expect(core.sysfs.list('/sys/devices/platform')).toEqual(['9010000.pl031', 'soc']);
    expect(core.sysfs.list('/sys/devices/platform/soc')).toContain('12c60000.i2c');
    expect(core.sysfs.read('/sys/devices/platform/soc/12c60000.i2c/driver_override')).toBe('(null)\n');
    expect(core.sysfs.exists('/sys/devices/12c60000.i2c')).toBe(false);
  });

  it('an unknown parent is EINVAL; a name taken in the parent directory is EEXIST', () => {
    const core = virt();
    expect(errnoOf(() => core.platform.addDevice({ name: 'x', bus: 'platform', parent: 'nope' }))).toBe(
      'EINVAL',
    );
    // A platform device and an AMBA device of one name collide in /sys/devices/platform.
    expect(errnoOf(() => core.platform.addDevice({ name: '9010000.pl031', bus: 'platform' }))).toBe('EEXIST');
  });
});

describe('links, byte for byte as readlink prints them on Linux 6.12 (QEMU virt)', () => {
  it('/sys/bus/<bus>/devices/<dev> points at the device directory', () => {
    const core = virt();
    expect(core.sysfs.readlink('/sys/bus/amba/devices/9010000.pl031')).toBe(
      '../../../devices/platform/9010000.pl031',
    );
    expect(core.sysfs.readlink('/sys/bus/platform/devices/12c60000.i2c')).toBe(
      '../../../devices/platform/soc/12c60000.i2c',
    );
  });

  it('the driver link has one ../ per level of the device directory below /sys', () => {
    const core = virt();
    expect(core.sysfs.run('readlink /sys/bus/amba/devices/9010000.pl031/driver')).toBe(
      '../../../bus/amba/drivers/rtc-pl031\n',
    );
    expect(core.sysfs.readlink('/sys/bus/platform/devices/12c60000.i2c/driver')).toBe(
      '../../../../bus/platform/drivers/s3c-i2c',
    );
    expect(core.sysfs.readlink('/sys/devices/platform/soc/12c60000.i2c/subsystem')).toBe(
      '../../../../bus/platform',
    );
    expect(core.sysfs.readlink('/sys/devices/platform/9010000.pl031/subsystem')).toBe('../../../bus/amba');
  });

  it('driver directories link to bound devices; of_node and iommu_group are relative too', () => {
    const core = virt();
    expect(core.sysfs.readlink('/sys/bus/amba/drivers/rtc-pl031/9010000.pl031')).toBe(
      '../../../../devices/platform/9010000.pl031',
    );
    expect(core.sysfs.readlink('/sys/bus/platform/drivers/s3c-i2c/12c60000.i2c')).toBe(
      '../../../../devices/platform/soc/12c60000.i2c',
    );
    expect(core.sysfs.readlink('/sys/devices/platform/9010000.pl031/of_node')).toBe(
      '../../../firmware/devicetree/base/pl031@9010000',
    );
    expect(core.sysfs.readlink('/sys/devices/platform/soc/12c60000.i2c/iommu_group')).toBe(
      '../../../../kernel/iommu_groups/3',
    );
    expect(core.sysfs.readlink('/sys/kernel/iommu_groups/3/devices/12c60000.i2c')).toBe(
      '../../../../devices/platform/soc/12c60000.i2c',
    );
  });

  it('links are followed on the way: ls and cat through them reach the device', () => {
    const core = virt();
    expect(core.sysfs.list('/sys/bus/amba/devices/9010000.pl031/driver')).toEqual([
      '9010000.pl031',
      'bind',
      'uevent',
      'unbind',
    ]);
    expect(core.sysfs.read('/sys/bus/amba/drivers/rtc-pl031/9010000.pl031/id')).toBe('00041031\n');
    expect(core.sysfs.read('/sys/kernel/iommu_groups/2/devices/9010000.pl031/id')).toBe('00041031\n');
    expect(core.sysfs.list('/sys/bus/platform/devices/12c60000.i2c/subsystem/drivers')).toEqual(['s3c-i2c']);
    expect(errnoOf(() => core.sysfs.readlink('/sys/devices/platform/9010000.pl031'))).toBe('EINVAL');
  });
});

describe('uevent files (drivers/base/bus.c bus_add_driver, bus_register)', () => {
  it('every driver directory and bus has a write-only uevent, even with suppress_bind_attrs', () => {
    const core = new DriverCore({ ambaStubDriver: false });
    core.amba.registerDriver(recordingDriver('uart-pl011', { suppressBindAttrs: true }));
    expect(core.sysfs.list('/sys/bus/amba/drivers/uart-pl011')).toEqual(['uevent']);
    expect(core.sysfs.list('/sys/bus/amba')).toContain('uevent');
    expect(core.sysfs.write('/sys/bus/amba/drivers/uart-pl011/uevent', 'add\n')).toBe(4);
    expect(errnoOf(() => core.sysfs.write('/sys/bus/amba/uevent', 'bogus'))).toBe('EINVAL');
    expect(errnoOf(() => core.sysfs.read('/sys/bus/amba/uevent'))).toBe('EACCES');
  });
});
