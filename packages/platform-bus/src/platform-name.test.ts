// platform_match() and the platform: modalias use pdev->name, not dev_name() (issue #9,
// item 6): drivers/base/platform.c platform_match / platform_match_id / modalias_show and
// platform_device_add(), which builds the device name from pdev->name and pdev->id.
import { describe, expect, it } from 'vitest';
import { PLATFORM_DEVID_AUTO } from './device-name.js';
import { DriverCore } from './driver-core.js';
import { errnoOf } from './test-helpers.js';
import { recordingDriver } from './testing/index.js';

describe('platform devices with an id (platform_device_add)', () => {
  it('serial8250.0 binds driver serial8250 by name; modalias says platform:serial8250', () => {
    const core = new DriverCore();
    core.platform.registerDriver(recordingDriver('serial8250'));
    const device = core.platform.addDevice({ name: 'serial8250', id: 0, bus: 'platform' });
    expect(device.name).toBe('serial8250.0');
    expect(device.platformName).toBe('serial8250');
    expect(device.driverName).toBe('serial8250');
    expect(device.match?.reason).toBe('name');
    expect(core.sysfs.read('/sys/bus/platform/devices/serial8250.0/modalias')).toBe('platform:serial8250\n');
  });

  it('id tables match pdev->name too', () => {
    const core = new DriverCore();
    core.platform.registerDriver(recordingDriver('dw-uart', { idTable: ['dw-apb-uart'] }));
    const device = core.platform.addDevice({ name: 'dw-apb-uart', id: 3, bus: 'platform' });
    expect(device.name).toBe('dw-apb-uart.3');
    expect(device.match).toEqual({ reason: 'id_table', id: 'dw-apb-uart' });
  });

  it('PLATFORM_DEVID_AUTO takes the lowest free id and names the device <name>.<n>.auto', async () => {
    const core = new DriverCore();
    const a = core.platform.addDevice({ name: 'gpio-keys', id: PLATFORM_DEVID_AUTO, bus: 'platform' });
    const b = core.platform.addDevice({ name: 'gpio-keys', id: PLATFORM_DEVID_AUTO, bus: 'platform' });
    expect([a.name, b.name]).toEqual(['gpio-keys.0.auto', 'gpio-keys.1.auto']);
    await core.platform.removeDevice(a.name);
    expect(core.platform.addDevice({ name: 'x', id: PLATFORM_DEVID_AUTO, bus: 'platform' }).name).toBe(
      'x.0.auto',
    );
  });

  it('a name without id is the device name (PLATFORM_DEVID_NONE); ids below AUTO and AMBA ids are EINVAL', () => {
    const core = new DriverCore();
    expect(core.platform.addDevice({ name: 'serial8250', bus: 'platform' }).name).toBe('serial8250');
    expect(errnoOf(() => core.platform.addDevice({ name: 'y', id: -3, bus: 'platform' }))).toBe('EINVAL');
    expect(errnoOf(() => core.amba.addDevice({ name: 'z', id: 0, bus: 'amba', periphid: 1 }))).toBe('EINVAL');
  });
});

describe('a / in a name becomes ! in the device name only (kobject_set_name_vargs)', () => {
  it('the device and its sysfs directory use !, matching and the modalias keep /', () => {
    const core = new DriverCore();
    const device = core.platform.addDevice({ name: 'cpu/pmu', bus: 'platform' });
    expect(device.name).toBe('cpu!pmu');
    expect(core.platform.device('cpu!pmu')).toBe(device);
    expect(core.sysfs.read('/sys/bus/platform/devices/cpu!pmu/modalias')).toBe('platform:cpu/pmu\n');
    expect(device.sysfsPath).toBe('/sys/devices/platform/cpu!pmu');
  });
});

describe('a platform device given by its device name (the id suffix read back)', () => {
  it('serial8250.0 without an id is pdev->name serial8250, id 0, and binds serial8250', () => {
    const core = new DriverCore();
    core.platform.registerDriver(recordingDriver('serial8250'));
    const device = core.platform.addDevice({ name: 'serial8250.0', bus: 'platform' });
    expect([device.name, device.platformName, device.id]).toEqual(['serial8250.0', 'serial8250', 0]);
    expect(device.driverName).toBe('serial8250');
    expect(core.sysfs.read('/sys/bus/platform/devices/serial8250.0/modalias')).toBe('platform:serial8250\n');
  });

  it('alarmtimer.0.auto holds its auto id; device-tree names and an explicit NONE are taken as they are', () => {
    const core = new DriverCore();
    const alarm = core.platform.addDevice({ name: 'alarmtimer.0.auto', bus: 'platform' });
    expect([alarm.platformName, alarm.id]).toEqual(['alarmtimer', 0]);
    expect(core.platform.addDevice({ name: 'x', id: PLATFORM_DEVID_AUTO, bus: 'platform' }).name).toBe(
      'x.1.auto',
    );
    const dt = core.platform.addDevice({ name: '10000000.2', bus: 'platform', ofNode: '/x@10000000' });
    expect(dt.platformName).toBe('10000000.2');
    const literal = core.platform.addDevice({ name: 'foo.7', id: -1, bus: 'platform' });
    expect([literal.name, literal.platformName]).toEqual(['foo.7', 'foo.7']);
    expect(core.platform.addDevice({ name: 'a.01', bus: 'platform' }).platformName).toBe('a.01');
  });
});

describe('a driver whose name holds a / (bus_add_driver → kobject_set_name_vargs)', () => {
  it('registers; its sysfs directory and the driver link use !, matching and driver_override keep /', () => {
    const core = new DriverCore();
    const device = core.platform.addDevice({ name: 'cpu/pmu', bus: 'platform' });
    core.platform.registerDriver(recordingDriver('cpu/pmu'));
    // platform_match(): strcmp(pdev->name, drv->name), both "cpu/pmu".
    expect(device.driverName).toBe('cpu/pmu');
    expect(core.sysfs.list('/sys/bus/platform/drivers')).toContain('cpu!pmu');
    expect(core.sysfs.readlink('/sys/devices/platform/cpu!pmu/driver')).toBe(
      '../../../bus/platform/drivers/cpu!pmu',
    );
    expect(core.sysfs.list('/sys/bus/platform/drivers/cpu!pmu')).toEqual([
      'bind',
      'cpu!pmu',
      'uevent',
      'unbind',
    ]);
    expect(core.sysfs.write('/sys/bus/platform/drivers/cpu!pmu/unbind', 'cpu!pmu')).toBe(7);
    expect(device.driverName).toBeNull();
    // driver_override compares the written string with drv->name, so it is spelt with /.
    core.sysfs.write('/sys/devices/platform/cpu!pmu/driver_override', 'cpu!pmu');
    core.sysfs.write('/sys/bus/platform/drivers_probe', 'cpu!pmu');
    expect(device.driverName).toBeNull();
    core.sysfs.write('/sys/devices/platform/cpu!pmu/driver_override', 'cpu/pmu');
    core.sysfs.write('/sys/bus/platform/drivers_probe', 'cpu!pmu');
    expect(device.driverName).toBe('cpu/pmu');
  });

  it('an empty driver name is still EINVAL (kobject_add_internal refuses an empty name)', () => {
    expect(errnoOf(() => new DriverCore().platform.registerDriver(recordingDriver('')))).toBe('EINVAL');
  });
});
