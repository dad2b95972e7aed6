import { ManualScheduler } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { DriverCore } from './driver-core.js';
import { errnoOf } from './test-helpers.js';
import { arndaleI2cDevices, recordingMetaDriver, s3cI2cDriver } from './testing/index.js';

const HDMI = '12ce0000.i2c';

function asyncHost() {
  const scheduler = new ManualScheduler();
  const core = new DriverCore({ scheduler });
  for (const d of arndaleI2cDevices()) core.platform.addDevice(d);
  const s3c = s3cI2cDriver({ probeType: 'prefer-async' });
  core.platform.registerDriver(recordingMetaDriver('vfio-platform'));
  return { scheduler, core, s3c };
}

describe('async probe through the Scheduler', () => {
  it('driver registration queues one attach per device; nothing binds until the scheduler runs', () => {
    const { scheduler, core, s3c } = asyncHost();
    core.platform.registerDriver(s3c);
    expect(scheduler.pending.map((t) => t.label)).toHaveLength(5);
    expect(s3c.probed).toEqual([]);
    scheduler.runAll();
    expect(s3c.probed).toHaveLength(5);
  });

  it('a sysfs bind in the window wins; the queued attach then finds the device busy', () => {
    const { scheduler, core, s3c } = asyncHost();
    core.platform.registerDriver(s3c);
    core.platform.setDriverOverride(HDMI, 'vfio-platform');
    core.platform.bind('vfio-platform', HDMI);
    scheduler.runAll();
    expect(core.platform.device(HDMI)?.driverName).toBe('vfio-platform');
  });

  it('kernel window: an attach queued before driver_override is written still binds (no re-match)', () => {
    // __driver_attach_async_helper() calls driver_probe_device() without driver_match_device().
    const { scheduler, core, s3c } = asyncHost();
    core.platform.registerDriver(s3c);
    core.sysfs.write(`/sys/bus/platform/devices/${HDMI}/driver_override`, 'vfio-platform\n');
    scheduler.runAll();
    expect(core.platform.device(HDMI)?.driverName).toBe('s3c-i2c');
  });

  it('the device-add async pass does re-match, and the 2013 explicit-bind-only flag stops queued attaches too', () => {
    const scheduler = new ManualScheduler();
    const core = new DriverCore({ scheduler, asyncProbeDrivers: '*' });
    core.platform.registerDriver(s3cI2cDriver());
    const [first, second] = arndaleI2cDevices();
    core.platform.addDevice(first!);
    core.platform.addDevice(second!);
    core.platform.setDriverOverride(first!.name, 'vfio-platform');
    core.platform.device(second!.name)!.explicitBindOnly = true;
    scheduler.runAll();
    expect(core.platform.device(first!.name)?.driverName).toBeNull();
    expect(core.platform.device(second!.name)?.driverName).toBeNull();
  });

  it('sysfs bind is synchronous whatever the probe type; unregistering drops queued attaches', () => {
    const { scheduler, core, s3c } = asyncHost();
    core.platform.registerDriver(s3c);
    expect(errnoOf(() => core.platform.bind('s3c-i2c', HDMI))).toBeUndefined();
    expect(core.platform.device(HDMI)?.driverName).toBe('s3c-i2c');
    core.platform.unregisterDriver('s3c-i2c');
    scheduler.runAll();
    expect(core.platform.devices.every((d) => d.driverName === null)).toBe(true);
  });

  it("driver_async_probe=*,<names>: '*' makes every driver async except the names listed", () => {
    // drivers/base/dd.c cmdline_requested_async_probing(): async_probe_default != listed.
    const scheduler = new ManualScheduler();
    const core = new DriverCore({ scheduler, asyncProbeDrivers: ['*', 'vfio-platform'] });
    const [first, second] = arndaleI2cDevices();
    core.platform.addDevice(first!);
    core.platform.addDevice({ ...second!, driverOverride: 'vfio-platform' });
    const s3c = s3cI2cDriver();
    const vfio = recordingMetaDriver('vfio-platform');
    core.platform.registerDriver(s3c);
    core.platform.registerDriver(vfio);
    expect(s3c.probed).toEqual([]);
    expect(vfio.probed).toEqual([second!.name]);
    scheduler.runAll();
    expect(s3c.probed).toEqual([first!.name]);
  });
});
