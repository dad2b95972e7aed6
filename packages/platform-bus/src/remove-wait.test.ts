import { describe, expect, it } from 'vitest';
import { DriverCore, type DriverCoreOptions } from './driver-core.js';
import { asyncErrnoOf } from './test-helpers.js';
import { arndaleI2cDevices, recordingMetaDriver, s3cI2cDriver } from './testing/index.js';

const HDMI = '12ce0000.i2c';

/** A vfio-like driver whose remove waits until "user space closes the fd". */
function openVfioDevice(options: DriverCoreOptions = {}) {
  let close: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    close = resolve;
  });
  const core = new DriverCore(options);
  const vfio = recordingMetaDriver('vfio-platform', { onRemove: () => closed });
  core.platform.registerDriver(s3cI2cDriver());
  core.platform.registerDriver(vfio);
  core.platform.addDevice({ ...arndaleI2cDevices()[4]!, driverOverride: 'vfio-platform' });
  return { core, vfio, close: () => close() };
}

describe('a remove that waits (vfio with the device still open)', () => {
  it('unbind returns only once the fds close; the device keeps its driver until then', async () => {
    const { core, close } = openVfioDevice();
    const unbinds: string[] = [];
    core.on('unbind', (e) => unbinds.push(e.driver));
    const written = core.sysfs.write('/sys/bus/platform/drivers/vfio-platform/unbind', `${HDMI}\n`);
    expect(written).toBeInstanceOf(Promise);
    expect(core.platform.device(HDMI)?.driverName).toBe('vfio-platform');
    expect(unbinds).toEqual([]);
    close();
    expect(await written).toBe(HDMI.length + 1);
    expect(core.platform.device(HDMI)?.driverName).toBeNull();
    expect(unbinds).toEqual(['vfio-platform']);
  });

  it('a driver_override write completes at once; a bind that then matches waits for the lock (oracle: queued-behind-blocked-unbind)', async () => {
    // Linux 6.12 as the oracle runs it (6.12.118): the generic driver_override keeps the
    // string under its own spinlock (__device_set_driver_override), not the device lock.
    const { core, close } = openVfioDevice();
    const unbind = core.platform.unbind('vfio-platform', HDMI);
    expect(core.platform.setDriverOverride(HDMI, '\n')).toBeUndefined();
    expect(core.sysfs.read(`/sys/bus/platform/devices/${HDMI}/driver_override`)).toBe('(null)\n');
    // drivers_probe returns at once (dev->driver is still set); bind_store matches without
    // the lock (the override is gone, so s3c-i2c matches), then waits for it.
    expect(core.platform.driversProbe(HDMI)).toBeUndefined();
    const bind = core.platform.bind('s3c-i2c', HDMI);
    expect(bind).toBeInstanceOf(Promise);
    close();
    await unbind;
    await bind;
    expect(core.platform.device(HDMI)?.driverName).toBe('s3c-i2c');
    // Once unbound, unbind_store's unlocked `dev->driver == drv` test fails.
    expect(await asyncErrnoOf(() => core.platform.unbind('vfio-platform', HDMI))).toBe('ENODEV');
  });

  it('with driverOverrideDeviceLock (driver_set_override of mainline v6.12) the write waits for the remove', async () => {
    const { core, close } = openVfioDevice({ driverOverrideDeviceLock: true });
    const unbind = core.platform.unbind('vfio-platform', HDMI);
    const cleared = core.platform.setDriverOverride(HDMI, '');
    expect(cleared).toBeInstanceOf(Promise);
    // bind_store() matches before it locks: the override still names vfio-platform.
    expect(await asyncErrnoOf(() => core.platform.bind('s3c-i2c', HDMI))).toBe('ENODEV');
    close();
    await unbind;
    await cleared;
    await core.platform.bind('s3c-i2c', HDMI);
    expect(core.platform.device(HDMI)?.driverName).toBe('s3c-i2c');
  });

  it('a bind whose match holds waits for the lock, then probes the unbound device', async () => {
    const { core, close } = openVfioDevice();
    const unbind = core.platform.unbind('vfio-platform', HDMI);
    // The override names vfio-platform, so binding vfio-platform again matches and waits.
    const bind = core.platform.bind('vfio-platform', HDMI);
    expect(bind).toBeInstanceOf(Promise);
    close();
    await unbind;
    await bind;
    expect(core.platform.device(HDMI)?.driverName).toBe('vfio-platform');
  });

  it('hot-unplug waits too, and the name stays taken until the remove finishes', async () => {
    const { core, close } = openVfioDevice();
    const removed = core.platform.removeDevice(HDMI);
    expect(core.platform.device(HDMI)).toBeUndefined();
    expect(await asyncErrnoOf(() => core.platform.addDevice(arndaleI2cDevices()[4]!))).toBe('EEXIST');
    close();
    await removed;
    core.platform.addDevice(arndaleI2cDevices()[4]!);
    expect(core.platform.device(HDMI)?.driverName).toBe('s3c-i2c');
  });
});

describe('driver_unregister while a remove waits (rmmod vfio_platform with the device open)', () => {
  it('the driver directory stays, without bind, unbind or uevent, until the detach ends (bus_remove_driver)', async () => {
    const { core, close } = openVfioDevice();
    const unregister = core.platform.unregisterDriver('vfio-platform');
    expect(unregister).toBeInstanceOf(Promise);
    // remove_bind_files and the uevent file go first, klist_remove stops matching, the
    // kobject goes last (kobject_put after driver_detach).
    expect(core.sysfs.list('/sys/bus/platform/drivers')).toContain('vfio-platform');
    expect(core.sysfs.list('/sys/bus/platform/drivers/vfio-platform')).toEqual([]);
    expect(core.platform.driver('vfio-platform')).toBeUndefined();
    close();
    await unregister;
    expect(core.sysfs.list('/sys/bus/platform/drivers')).not.toContain('vfio-platform');
  });

  it('registering the driver again meanwhile is EBUSY (driver_find still finds its kobject)', async () => {
    const { core, close } = openVfioDevice();
    const unregister = core.platform.unregisterDriver('vfio-platform');
    expect(await asyncErrnoOf(() => core.platform.registerDriver(recordingMetaDriver('vfio-platform')))).toBe(
      'EBUSY',
    );
    close();
    await unregister;
    expect(() => core.platform.registerDriver(recordingMetaDriver('vfio-platform'))).not.toThrow();
  });
});
