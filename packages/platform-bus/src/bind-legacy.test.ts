import { isKernelError, KernelError } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { DriverCore } from './driver-core.js';
import { errnoOf } from './test-helpers.js';
import { arndaleI2cDevices, recordingMetaDriver, s3cI2cDriver } from './testing/index.js';

const HDMI = '12ce0000.i2c';

function setup(verdict?: () => KernelError | undefined) {
  const core = new DriverCore({ legacyBindStore: true });
  core.platform.registerDriver(s3cI2cDriver());
  for (const d of arndaleI2cDevices()) core.platform.addDevice(d);
  const vfio = recordingMetaDriver('vfio-platform', verdict === undefined ? {} : { verdict });
  core.platform.registerDriver(vfio);
  return { core, bus: core.platform, vfio };
}

// Before v5.13 (commit "driver core: Flow the return code from ->probe() through to sysfs
// bind"), drivers/base/bus.c bind_store() only reported ENODEV.
describe('sysfs bind before v5.13 (legacyBindStore)', () => {
  it('refuses a bound device with ENODEV, not EBUSY', () => {
    const { bus } = setup();
    expect(errnoOf(() => bus.bind('s3c-i2c', HDMI))).toBe('ENODEV');
    expect(bus.device(HDMI)?.driverName).toBe('s3c-i2c');
  });

  it("reports a probe failure as ENODEV, keeping the probe's error as the cause", () => {
    const { core, bus } = setup(() => new KernelError('ENOENT', 'no reset'));
    bus.setDriverOverride(HDMI, 'vfio-platform');
    bus.unbind('s3c-i2c', HDMI);
    let thrown: unknown;
    try {
      bus.bind('vfio-platform', HDMI);
    } catch (error) {
      thrown = error;
    }
    expect(isKernelError(thrown, 'ENODEV')).toBe(true);
    expect(isKernelError((thrown as KernelError).cause, 'ENOENT')).toBe(true);
    expect(bus.device(HDMI)?.driverName).toBeNull();
    // really_probe() queues a deferral only for -EPROBE_DEFER (drivers/base/dd.c).
    expect(core.deferredDevices).toEqual([]);
  });

  it('reports EPROBE_DEFER as ENODEV and queues the device, as driver_probe_device() did', () => {
    let ready = false;
    let attempts = 0;
    const { core, bus, vfio } = setup(() => {
      attempts++;
      return ready ? undefined : new KernelError('EPROBE_DEFER', 'later');
    });
    bus.setDriverOverride(HDMI, 'vfio-platform');
    bus.unbind('s3c-i2c', HDMI);
    expect(errnoOf(() => core.sysfs.write('/sys/bus/platform/drivers/vfio-platform/bind', HDMI))).toBe(
      'ENODEV',
    );
    expect(core.deferredDevices).toEqual([{ bus: 'platform', device: HDMI }]);
    // Nothing bound while it probed, so driver_deferred_probe_add_trigger() does not trigger:
    // the device waits on the pending list and is probed once, not retried at once.
    expect(attempts).toBe(1);
    ready = true;
    core.triggerDeferredProbe();
    expect(bus.device(HDMI)?.driverName).toBe('vfio-platform');
    expect(vfio.probed).toEqual([HDMI]);
  });

  it('re-triggers deferred probing when a bind happened during the deferring probe (dd.c driver_deferred_probe_add_trigger)', () => {
    // really_probe() notes deferred_trigger_count before probing; if a supplier bound while
    // the probe ran (and so triggered while this device was not yet on the pending list),
    // driver_deferred_probe_add_trigger() triggers again, or the device would wait forever.
    const core = new DriverCore({ legacyBindStore: true });
    const supplier = {
      name: '11400000.pinctrl',
      bus: 'platform' as const,
      compatible: ['samsung,exynos5250-pinctrl'],
    };
    core.platform.registerDriver(
      recordingMetaDriver('samsung-pinctrl', { ofMatchTable: supplier.compatible }),
    );
    const vfio = recordingMetaDriver('vfio-platform', {
      verdict: () => {
        const ready = core.platform.device(supplier.name)?.driverName === 'samsung-pinctrl';
        // The supplier appears and binds while this probe runs (another CPU, in the kernel).
        if (core.platform.device(supplier.name) === undefined) core.platform.addDevice(supplier);
        return ready ? undefined : new KernelError('EPROBE_DEFER', 'pinctrl not ready');
      },
    });
    core.platform.registerDriver(vfio);
    core.platform.addDevice({ name: HDMI, bus: 'platform', driverOverride: 'vfio-platform' });
    core.platform.unbind('vfio-platform', HDMI);
    core.platform.removeDevice(supplier.name);
    expect(errnoOf(() => core.platform.bind('vfio-platform', HDMI))).toBe('ENODEV');
    expect(core.platform.device(HDMI)?.driverName).toBe('vfio-platform');
    expect(core.deferredDevices).toEqual([]);
  });

  it('binds as the modern kernel does when the probe succeeds', () => {
    const { core, bus, vfio } = setup();
    bus.setDriverOverride(HDMI, 'vfio-platform');
    bus.unbind('s3c-i2c', HDMI);
    const vias: string[] = [];
    core.on('bind', (event) => vias.push(event.via));
    bus.bind('vfio-platform', HDMI);
    expect(vfio.probed).toEqual([HDMI]);
    expect(vias).toEqual(['sysfs_bind']);
  });

  it('refuses at once a device whose remove still waits: `dev->driver == NULL` is tested unlocked, before the match', async () => {
    // v5.10 bind_store(): `if (dev && dev->driver == NULL && driver_match_device(drv, dev))`.
    // While vfio's remove waits for user space, dev->driver is still set: ENODEV, no waiting,
    // and no probe once the remove finishes (v5.13+ would wait for the lock and bind).
    let close: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => {
      close = resolve;
    });
    const core = new DriverCore({ legacyBindStore: true });
    core.platform.registerDriver(s3cI2cDriver());
    core.platform.registerDriver(recordingMetaDriver('vfio-platform', { onRemove: () => closed }));
    core.platform.addDevice({ ...arndaleI2cDevices()[4]!, driverOverride: 'vfio-platform' });
    const unbind = core.platform.unbind('vfio-platform', HDMI);
    core.platform.setDriverOverride(HDMI, '\n');
    let thrown: unknown;
    try {
      core.platform.bind('s3c-i2c', HDMI);
    } catch (error) {
      thrown = error;
    }
    expect(isKernelError(thrown, 'ENODEV')).toBe(true);
    expect((thrown as KernelError).cause).toBeUndefined();
    close();
    await unbind;
    expect(core.platform.device(HDMI)?.driverName).toBeNull();
  });
});
