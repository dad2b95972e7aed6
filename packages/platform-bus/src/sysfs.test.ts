import { describe, expect, it } from 'vitest';
import { DriverCore } from './driver-core.js';
import { errnoOf } from './test-helpers.js';
import { arndaleI2cDevices, recordingMetaDriver, s3cI2cDriver } from './testing/index.js';

const HDMI = '12ce0000.i2c';

function arndale() {
  const core = new DriverCore({ sysfsBindOnlyAttribute: true });
  core.platform.registerDriver(s3cI2cDriver());
  core.platform.registerDriver(recordingMetaDriver('vfio-platform'));
  for (const d of arndaleI2cDevices())
    core.platform.addDevice({ ...d, ...(d.name === HDMI ? { iommuGroup: 3 } : {}) });
  return core;
}

describe('the sysfs facade', () => {
  it('lists the real directories', () => {
    const sysfs = arndale().sysfs;
    expect(sysfs.list('/sys/bus')).toEqual(['amba', 'platform']);
    expect(sysfs.list('/sys/bus/platform')).toEqual([
      'devices',
      'drivers',
      'drivers_autoprobe',
      'drivers_probe',
      'uevent',
    ]);
    expect(sysfs.list('/sys/bus/platform/drivers')).toEqual(['s3c-i2c', 'vfio-platform']);
    expect(sysfs.list(`/sys/bus/platform/devices/${HDMI}`)).toEqual([
      'driver',
      'driver_override',
      'iommu_group',
      'modalias',
      'of_node',
      'subsystem',
      'sysfs_bind_only',
    ]);
    expect(sysfs.list('/sys/kernel/iommu_groups')).toEqual(['3']);
    expect(sysfs.list('/sys/kernel/iommu_groups/3/devices')).toEqual([HDMI]);
    expect(sysfs.list('/sys/bus/platform/drivers/s3c-i2c')).toContain(HDMI);
  });

  it('reads attributes and links as the kernel prints them', () => {
    const core = arndale();
    const dev = `/sys/bus/platform/devices/${HDMI}`;
    expect(core.sysfs.read(`${dev}/modalias`)).toBe('of:Ni2cT(null)Csamsung,s3c2440-hdmiphy-i2c\n');
    expect(core.sysfs.readlink(`${dev}/of_node`)).toBe('../../../firmware/devicetree/base/soc/i2c@12ce0000');
    expect(core.sysfs.readlink(`${dev}/iommu_group`)).toBe('../../../kernel/iommu_groups/3');
    expect(core.sysfs.run(`readlink ${dev}/driver`)).toBe('../../../bus/platform/drivers/s3c-i2c\n');
    expect(core.sysfs.run('cat /sys/bus/platform/drivers_autoprobe')).toBe('1\n');
    core.platform.addDevice({ name: 'serial8250', bus: 'platform' });
    expect(core.sysfs.read('/sys/bus/platform/devices/serial8250/modalias')).toBe('platform:serial8250\n');
  });

  it('fails as a shell would: ENOENT, EACCES, EISDIR, EINVAL', () => {
    const core = arndale();
    expect(errnoOf(() => core.sysfs.read('/sys/bus/platform/devices/nothing/modalias'))).toBe('ENOENT');
    expect(errnoOf(() => core.sysfs.read('/sys/bus/platform/drivers/s3c-i2c/bind'))).toBe('EACCES');
    expect(errnoOf(() => core.sysfs.write(`/sys/bus/platform/devices/${HDMI}/modalias`, 'x'))).toBe('EACCES');
    expect(errnoOf(() => core.sysfs.read(`/sys/bus/platform/devices/${HDMI}/driver`))).toBe('EISDIR');
    expect(errnoOf(() => core.sysfs.write(`/sys/bus/platform/devices/${HDMI}/sysfs_bind_only`, '2'))).toBe(
      'EINVAL',
    );
    expect(errnoOf(() => core.sysfs.run('rm -rf /'))).toBe('EINVAL');
    expect(core.sysfs.exists('/sys/bus/platform/devices/12c60000.i2c/iommu_group')).toBe(false);
  });

  it('reports failures with the text a shell prints', () => {
    const core = arndale();
    expect(() => core.sysfs.run(`echo nothing > /sys/bus/platform/drivers/s3c-i2c/bind`)).toThrow(
      'ENODEV: write error: No such device',
    );
    expect(() => core.sysfs.run('cat /sys/bus/platform/devices/nothing/modalias')).toThrow(
      'ENOENT: cat: /sys/bus/platform/devices/nothing/modalias: No such file or directory',
    );
    core.platform.unbind('s3c-i2c', HDMI);
    core.platform.setDriverOverride(HDMI, 'vfio-platform');
    core.platform.unregisterDriver('vfio-platform');
    core.amba.registerDriver(recordingMetaDriver('vfio-amba'));
    core.amba.addDevice({ name: 'x.dma', bus: 'amba', driverOverride: 'vfio-amba' });
    // drivers_probe_store() turns any negative device_attach() result into -EINVAL.
    expect(() => core.sysfs.run('echo x.dma > /sys/bus/amba/drivers_probe')).toThrow(
      'EINVAL: write error: Invalid argument',
    );
  });

  it('echo -n writes without the newline; quoted empty strings clear an override', () => {
    const core = arndale();
    const path = `/sys/bus/platform/devices/${HDMI}/driver_override`;
    expect(core.sysfs.run(`echo -n vfio-platform > ${path}`)).toBe('');
    expect(core.sysfs.read(path)).toBe('vfio-platform\n');
    core.sysfs.run(`echo "" > ${path}`);
    expect(core.sysfs.read(path)).toBe('(null)\n');
  });
});

describe('the OF modalias (drivers/of/module.c of_modalias)', () => {
  it('is of:N<name>T<type>C<compat>… with each space of a compatible turned into _', () => {
    const core = new DriverCore();
    core.platform.addDevice({
      name: 'n',
      bus: 'platform',
      ofNode: '/soc/a@1',
      compatible: ['acme,a b', 'c'],
    });
    expect(core.sysfs.read('/sys/bus/platform/devices/n/modalias')).toBe('of:NaT(null)Cacme,a_bCc\n');
  });
});
