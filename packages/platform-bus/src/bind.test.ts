import { KernelError } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { DriverCore } from './driver-core.js';
import type { DriverCoreEvents } from './events.js';
import { causeOf, errnoOf } from './test-helpers.js';
import { arndaleI2cDevices, recordingDriver, recordingMetaDriver, s3cI2cDriver } from './testing/index.js';

const HDMI = '12ce0000.i2c';

function setup() {
  const core = new DriverCore();
  const s3c = s3cI2cDriver();
  core.platform.registerDriver(s3c);
  for (const d of arndaleI2cDevices()) core.platform.addDevice(d);
  return { core, bus: core.platform, s3c };
}

describe('sysfs bind (drivers/base/bus.c bind_store)', () => {
  it('ENODEV for no such device and for a driver that does not match', () => {
    const { bus } = setup();
    bus.registerDriver(recordingMetaDriver('vfio-platform'));
    bus.unbind('s3c-i2c', HDMI);
    expect(errnoOf(() => bus.bind('vfio-platform', 'ffff0000.nothing'))).toBe('ENODEV');
    expect(errnoOf(() => bus.bind('vfio-platform', HDMI))).toBe('ENODEV');
    bus.setDriverOverride(HDMI, 'other-driver');
    expect(errnoOf(() => bus.bind('s3c-i2c', HDMI))).toBe('ENODEV');
  });

  it('EBUSY when the device already has a driver', () => {
    const { bus } = setup();
    expect(errnoOf(() => bus.bind('s3c-i2c', HDMI))).toBe('EBUSY');
  });

  it("returns the probe's own error and leaves the device unbound, saying why", () => {
    const { bus } = setup();
    const vfio = recordingMetaDriver('vfio-platform', {
      verdict: () => new KernelError('ENOENT', 'no reset handler for samsung,s3c2440-hdmiphy-i2c'),
    });
    bus.registerDriver(vfio);
    bus.setDriverOverride(HDMI, 'vfio-platform');
    bus.unbind('s3c-i2c', HDMI);
    expect(errnoOf(() => bus.bind('vfio-platform', HDMI))).toBe('ENOENT');
    const device = bus.device(HDMI)!;
    expect(device.driverName).toBeNull();
    expect(device.lastProbeError).toMatchObject({ driver: 'vfio-platform', code: 'ENOENT', stage: 'probe' });
  });

  it('turns EPROBE_DEFER into EAGAIN and does not queue the device (device_driver_attach)', () => {
    const { core, bus } = setup();
    bus.registerDriver(
      recordingMetaDriver('vfio-platform', { verdict: () => new KernelError('EPROBE_DEFER', 'later') }),
    );
    bus.setDriverOverride(HDMI, 'vfio-platform');
    bus.unbind('s3c-i2c', HDMI);
    expect(errnoOf(() => core.sysfs.write(`/sys/bus/platform/drivers/vfio-platform/bind`, `${HDMI}\n`))).toBe(
      'EAGAIN',
    );
    expect(core.deferredDevices).toEqual([]);
    // vfiokit's own addition (the kernel returns a bare errno): the probe's error is the cause.
    expect(causeOf(() => bus.bind('vfio-platform', HDMI))).toBe('EPROBE_DEFER');
  });

  it("reports the bind it makes as `via: 'sysfs_bind'` in the bind event", () => {
    const { core, bus } = setup();
    bus.registerDriver(recordingMetaDriver('vfio-platform'));
    bus.setDriverOverride(HDMI, 'vfio-platform');
    bus.unbind('s3c-i2c', HDMI);
    const binds: DriverCoreEvents['bind'][0][] = [];
    core.on('bind', (event) => binds.push(event));
    bus.bind('vfio-platform', HDMI);
    expect(binds.map((event) => [event.device, event.driver, event.via])).toEqual([
      [HDMI, 'vfio-platform', 'sysfs_bind'],
    ]);
  });

  it('has no bind/unbind files with suppress_bind_attrs (ENOENT)', () => {
    const { core, bus } = setup();
    bus.registerDriver(recordingDriver('pinned', { suppressBindAttrs: true }));
    expect(core.sysfs.list('/sys/bus/platform/drivers/pinned')).toEqual(['uevent']);
    expect(errnoOf(() => core.sysfs.write('/sys/bus/platform/drivers/pinned/bind', HDMI))).toBe('ENOENT');
    expect(errnoOf(() => bus.unbind('pinned', HDMI))).toBe('ENOENT');
  });

  it('unbind is ENODEV unless the device is bound to that driver', () => {
    const { bus } = setup();
    bus.registerDriver(recordingMetaDriver('vfio-platform'));
    expect(errnoOf(() => bus.unbind('vfio-platform', HDMI))).toBe('ENODEV');
    expect(errnoOf(() => bus.unbind('s3c-i2c', 'nope'))).toBe('ENODEV');
    bus.unbind('s3c-i2c', HDMI);
    expect(errnoOf(() => bus.unbind('s3c-i2c', HDMI))).toBe('ENODEV');
  });
});

describe('driver_override (driver_set_override in drivers/base/driver.c)', () => {
  it('reads "(null)" unset, drops one newline, clears on empty, refuses PAGE_SIZE − 1 characters', () => {
    const { core } = setup();
    const path = `/sys/bus/platform/devices/${HDMI}/driver_override`;
    expect(core.sysfs.read(path)).toBe('(null)\n');
    core.sysfs.write(path, 'vfio-platform\n');
    expect(core.sysfs.read(path)).toBe('vfio-platform\n');
    expect(errnoOf(() => core.sysfs.write(path, 'x'.repeat(4095)))).toBe('EINVAL');
    expect(core.sysfs.read(path)).toBe('vfio-platform\n');
    core.sysfs.write(path, 'x'.repeat(4094));
    expect(core.sysfs.read(path)).toBe(`${'x'.repeat(4094)}\n`);
    core.sysfs.write(path, '\n');
    expect(core.sysfs.read(path)).toBe('(null)\n');
  });

  it('cuts at the first newline or NUL, and counts the limit in bytes of the write', () => {
    const { core } = setup();
    const path = `/sys/bus/platform/devices/${HDMI}/driver_override`;
    // strnchr(s, len, '\n'): everything from the first newline on is dropped.
    core.sysfs.write(path, 'vfio-platform\nvfio-amba\n');
    expect(core.sysfs.read(path)).toBe('vfio-platform\n');
    // A newline first (cp == s) clears, whatever follows.
    core.sysfs.write(path, '\n\n');
    expect(core.sysfs.read(path)).toBe('(null)\n');
    core.sysfs.write(path, 'vfio-platform');
    core.sysfs.write(path, '\nvfio-platform');
    expect(core.sysfs.read(path)).toBe('(null)\n');
    // len = strlen(s): a NUL ends the string (python writes "\0" to clear).
    core.sysfs.write(path, 'vfio-platform\0junk');
    expect(core.sysfs.read(path)).toBe('vfio-platform\n');
    core.sysfs.write(path, '\0');
    expect(core.sysfs.read(path)).toBe('(null)\n');
    // The PAGE_SIZE − 1 limit applies to the byte count of the write(2), before strlen().
    expect(errnoOf(() => core.sysfs.write(path, 'é'.repeat(2048)))).toBe('EINVAL');
    expect(errnoOf(() => core.sysfs.write(path, `a\0${'b'.repeat(4093)}`))).toBe('EINVAL');
    expect(core.sysfs.read(path)).toBe('(null)\n');
  });

  it('neither unbinds nor reprobes', () => {
    const { bus, s3c } = setup();
    bus.setDriverOverride(HDMI, 'vfio-platform');
    expect(bus.device(HDMI)?.driverName).toBe('s3c-i2c');
    expect(s3c.removed).toEqual([]);
  });
});

describe('drivers_probe and drivers_autoprobe', () => {
  it('drivers_probe: ENODEV for no device, nothing for a bound one, a count when nothing matches', () => {
    const { core, bus } = setup();
    expect(errnoOf(() => core.sysfs.write('/sys/bus/platform/drivers_probe', 'nothing\n'))).toBe('ENODEV');
    expect(core.sysfs.write('/sys/bus/platform/drivers_probe', `${HDMI}\n`)).toBe(HDMI.length + 1);
    bus.setDriverOverride(HDMI, 'vfio-platform');
    bus.unbind('s3c-i2c', HDMI);
    expect(core.sysfs.write('/sys/bus/platform/drivers_probe', `${HDMI}\n`)).toBe(HDMI.length + 1);
    expect(bus.device(HDMI)?.driverName).toBeNull();
  });

  it('autoprobe off: no probe on add or registration, explicit bind still works', () => {
    const core = new DriverCore();
    core.sysfs.write('/sys/bus/platform/drivers_autoprobe', '0\n');
    expect(core.sysfs.read('/sys/bus/platform/drivers_autoprobe')).toBe('0\n');
    const s3c = s3cI2cDriver();
    core.platform.registerDriver(s3c);
    for (const d of arndaleI2cDevices()) core.platform.addDevice(d);
    expect(s3c.probed).toEqual([]);
    core.platform.bind('s3c-i2c', HDMI);
    expect(s3c.probed).toEqual([HDMI]);
    core.sysfs.write('/sys/bus/platform/drivers_autoprobe', '1\n');
    core.platform.rescan();
    expect(s3c.probed).toHaveLength(5);
  });
});

describe('attach order and probe errors (drivers/base/dd.c)', () => {
  it('drivers are tried in registration order; the first successful probe wins', () => {
    const core = new DriverCore();
    const first = recordingDriver('first', { ofMatchTable: ['samsung,s3c2440-i2c'] });
    const second = recordingDriver('second', { ofMatchTable: ['samsung,s3c2440-i2c'] });
    core.platform.registerDriver(first);
    core.platform.registerDriver(second);
    core.platform.addDevice(arndaleI2cDevices()[0]!);
    expect(core.platform.devices[0]?.driverName).toBe('first');
  });

  it.each(['ENODEV', 'ENXIO', 'EINVAL'] as const)('a probe failing %s lets the next driver try', (code) => {
    const core = new DriverCore();
    const failed: string[] = [];
    core.on('probe-failed', (e) => failed.push(`${e.driver}:${e.code}`));
    core.platform.registerDriver(
      recordingDriver('picky', {
        ofMatchTable: ['samsung,s3c2440-i2c'],
        verdict: () => new KernelError(code, 'no'),
      }),
    );
    core.platform.registerDriver(recordingDriver('fallback', { ofMatchTable: ['samsung,s3c2440-i2c'] }));
    core.platform.addDevice(arndaleI2cDevices()[0]!);
    expect(core.platform.devices[0]?.driverName).toBe('fallback');
    expect(failed).toEqual([`picky:${code}`]);
  });

  it('refuses a second driver of the same name (EBUSY) and a second device of the same name (EEXIST)', () => {
    const { bus } = setup();
    expect(errnoOf(() => bus.registerDriver(s3cI2cDriver()))).toBe('EBUSY');
    expect(errnoOf(() => bus.addDevice(arndaleI2cDevices()[0]!))).toBe('EEXIST');
    expect(errnoOf(() => bus.addDevice({ ...arndaleI2cDevices()[0]!, bus: 'amba' }))).toBe('EINVAL');
  });

  it('hotplug emits add, bind, unbind and remove in order, and the name can come back', () => {
    const core = new DriverCore();
    const events: string[] = [];
    for (const name of ['add', 'remove', 'bind', 'unbind'] as const) {
      core.on(name, (e: DriverCoreEvents[typeof name][0]) => events.push(`${name} ${e.device}`));
    }
    core.platform.registerDriver(s3cI2cDriver());
    const [d] = arndaleI2cDevices();
    core.platform.addDevice(d!);
    core.platform.removeDevice(d!.name);
    expect(events).toEqual([
      'add 12c60000.i2c',
      'bind 12c60000.i2c',
      'unbind 12c60000.i2c',
      'remove 12c60000.i2c',
    ]);
    expect(errnoOf(() => core.platform.removeDevice(d!.name))).toBe('ENODEV');
    core.platform.addDevice(d!);
    expect(core.platform.device(d!.name)?.driverName).toBe('s3c-i2c');
  });

  it('unregistering a driver releases its devices; a sysfsBindOnly driver never auto-binds', () => {
    const { bus, s3c } = setup();
    bus.unregisterDriver('s3c-i2c');
    expect(s3c.removed).toHaveLength(5);
    expect(bus.devices.every((d) => d.driverName === null)).toBe(true);
    const vfio = recordingMetaDriver('vfio-platform', { matchAnyDevice: true, sysfsBindOnly: true });
    bus.registerDriver(vfio);
    bus.rescan();
    bus.driversProbe(HDMI);
    expect(vfio.probed).toEqual([]);
    bus.bind('vfio-platform', HDMI);
    expect(vfio.probed).toEqual([HDMI]);
    expect(bus.device(HDMI)?.match).toEqual({ reason: 'match_any_device' });
  });
});
