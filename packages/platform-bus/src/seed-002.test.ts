import { describe, expect, it } from 'vitest';
import { DriverCore } from './driver-core.js';
import { errnoOf } from './test-helpers.js';
import { arndaleI2cDevices, recordingMetaDriver, s3cI2cDriver } from './testing/index.js';

function arndale() {
  const core = new DriverCore();
  const s3c = s3cI2cDriver();
  const vfio = recordingMetaDriver('vfio-platform');
  core.platform.registerDriver(s3c);
  core.platform.registerDriver(vfio);
  for (const description of arndaleI2cDevices()) core.platform.addDevice(description);
  return { core, s3c, vfio, sh: (command: string) => core.sysfs.run(command) };
}

describe('seed 002 on the Exynos5250 Arndale I2C controllers', () => {
  it('binds every controller to s3c-i2c at boot', () => {
    const { core, s3c } = arndale();
    expect(s3c.probed).toEqual(core.platform.devices.map((d) => d.name));
    expect(core.sysfs.readlink('/sys/bus/platform/devices/12ce0000.i2c/driver')).toBe(
      '../../../bus/platform/drivers/s3c-i2c',
    );
  });

  it("the seed's commands: unbind works, but vfio-platform has no match, so bind is ENODEV (problem 1)", () => {
    const { core, sh } = arndale();
    expect(sh('echo 12ce0000.i2c > /sys/bus/platform/drivers/s3c-i2c/unbind')).toBe('');
    expect(core.sysfs.exists('/sys/bus/platform/devices/12ce0000.i2c/driver')).toBe(false);
    expect(errnoOf(() => sh('echo 12ce0000.i2c > /sys/bus/platform/drivers/vfio-platform/bind'))).toBe(
      'ENODEV',
    );
  });

  it('with the 2013 wildcard driver (matchAnyDevice + sysfsBindOnly) the same commands bind vfio-platform', () => {
    const core = new DriverCore({ sysfsBindOnlyAttribute: true });
    core.platform.registerDriver(s3cI2cDriver());
    const vfio = recordingMetaDriver('vfio-platform', { matchAnyDevice: true, sysfsBindOnly: true });
    core.platform.registerDriver(vfio);
    for (const description of arndaleI2cDevices()) core.platform.addDevice(description);
    expect(vfio.probed).toEqual([]);
    core.sysfs.run('echo 12ce0000.i2c > /sys/bus/platform/drivers/s3c-i2c/unbind');
    core.sysfs.run('echo 12ce0000.i2c > /sys/bus/platform/drivers/vfio-platform/bind');
    expect(core.platform.device('12ce0000.i2c')?.driverName).toBe('vfio-platform');
  });

  it('the upstream driver_override sequence binds vfio-platform', () => {
    const { core, sh, vfio } = arndale();
    sh('echo vfio-platform > /sys/bus/platform/devices/12ce0000.i2c/driver_override');
    expect(sh('cat /sys/bus/platform/devices/12ce0000.i2c/driver_override')).toBe('vfio-platform\n');
    // Writing the override changes nothing until the device is unbound and probed again.
    expect(core.platform.device('12ce0000.i2c')?.driverName).toBe('s3c-i2c');
    sh('echo 12ce0000.i2c > /sys/bus/platform/drivers/s3c-i2c/unbind');
    sh('echo 12ce0000.i2c > /sys/bus/platform/drivers_probe');
    expect(vfio.probed).toEqual(['12ce0000.i2c']);
    expect(core.sysfs.list('/sys/bus/platform/drivers/vfio-platform')).toEqual([
      '12ce0000.i2c',
      'bind',
      'uevent',
      'unbind',
    ]);
    // Back to the host: clear the override, unbind, reprobe.
    sh('echo > /sys/bus/platform/devices/12ce0000.i2c/driver_override');
    expect(sh('cat /sys/bus/platform/devices/12ce0000.i2c/driver_override')).toBe('(null)\n');
    sh('echo 12ce0000.i2c > /sys/bus/platform/drivers/vfio-platform/unbind');
    sh('echo 12ce0000.i2c > /sys/bus/platform/drivers_probe');
    expect(core.platform.device('12ce0000.i2c')?.driverName).toBe('s3c-i2c');
  });

  it('the seed race: a rescan between unbind and bind gives the device back to s3c-i2c (EBUSY)', () => {
    const core = new DriverCore({ sysfsBindOnlyAttribute: true });
    core.platform.registerDriver(s3cI2cDriver());
    core.platform.registerDriver(
      recordingMetaDriver('vfio-platform', { matchAnyDevice: true, sysfsBindOnly: true }),
    );
    for (const description of arndaleI2cDevices()) core.platform.addDevice(description);
    core.sysfs.run('echo 12ce0000.i2c > /sys/bus/platform/drivers/s3c-i2c/unbind');
    core.platform.rescan();
    expect(
      errnoOf(() => core.sysfs.run('echo 12ce0000.i2c > /sys/bus/platform/drivers/vfio-platform/bind')),
    ).toBe('EBUSY');
    expect(core.platform.device('12ce0000.i2c')?.driverName).toBe('s3c-i2c');
  });

  it('the 2013 explicit-bind-only flag closes the race', () => {
    const core = new DriverCore({ sysfsBindOnlyAttribute: true });
    core.platform.registerDriver(s3cI2cDriver());
    core.platform.registerDriver(
      recordingMetaDriver('vfio-platform', { matchAnyDevice: true, sysfsBindOnly: true }),
    );
    for (const description of arndaleI2cDevices()) core.platform.addDevice(description);
    core.sysfs.run('echo 1 > /sys/devices/platform/12ce0000.i2c/sysfs_bind_only');
    core.sysfs.run('echo 12ce0000.i2c > /sys/bus/platform/drivers/s3c-i2c/unbind');
    core.platform.rescan();
    core.sysfs.run('echo 12ce0000.i2c > /sys/bus/platform/drivers/vfio-platform/bind');
    expect(core.platform.device('12ce0000.i2c')?.driverName).toBe('vfio-platform');
  });
});
