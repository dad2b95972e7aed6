// The hand-back race (issue #9, item 2): the kernel tests `dev->driver` without the device
// lock in unbind_store and bus_rescan_devices_helper (drivers/base/bus.c), so while vfio's
// remove waits for user space to close the device fd, a second unbind succeeds (after
// waiting) and drivers_probe or a rescan return at once, leaving the device unbound.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DriverCore } from './driver-core.js';
import { arndaleI2cDevices, recordingMetaDriver, s3cI2cDriver } from './testing/index.js';

const HDMI = '12ce0000.i2c';

function vfioWithOpenFd() {
  let close: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    close = resolve;
  });
  const core = new DriverCore();
  core.platform.registerDriver(s3cI2cDriver());
  core.platform.registerDriver(recordingMetaDriver('vfio-platform', { onRemove: () => closed }));
  core.platform.addDevice({ ...arndaleI2cDevices()[4]!, driverOverride: 'vfio-platform' });
  const sh = (command: string) => core.sysfs.run(command);
  return { core, sh, close: () => close() };
}

describe('unbind while vfio remove waits (drivers/base/bus.c unbind_store)', () => {
  it('a second unbind passes the unlocked dev->driver check, waits for the lock, and succeeds', async () => {
    const { core, close } = vfioWithOpenFd();
    const first = core.platform.unbind('vfio-platform', HDMI);
    const second = core.sysfs.write('/sys/bus/platform/drivers/vfio-platform/unbind', HDMI);
    expect(second).toBeInstanceOf(Promise);
    close();
    await first;
    expect(await second).toBe(HDMI.length);
    expect(core.platform.device(HDMI)?.driverName).toBeNull();
  });
});

describe('drivers_probe and rescan while vfio remove waits (bus_rescan_devices_helper)', () => {
  it('drivers_probe returns at once and the device ends unbound, not rebound to the host driver', async () => {
    const { core, sh, close } = vfioWithOpenFd();
    const unbind = sh(`echo ${HDMI} > /sys/bus/platform/drivers/vfio-platform/unbind`);
    // The override write completes at once (the generic driver_override's own spinlock, as
    // the oracle's Linux 6.12 has it), and drivers_probe still leaves the device alone.
    expect(sh(`echo > /sys/bus/platform/devices/${HDMI}/driver_override`)).toBe('');
    expect(sh(`echo ${HDMI} > /sys/bus/platform/drivers_probe`)).toBe('');
    close();
    await unbind;
    expect(core.platform.device(HDMI)?.driverName).toBeNull();
    expect(core.platform.device(HDMI)?.driverOverride).toBeNull();
    // Once the fd is closed, a drivers_probe does bind the host driver.
    sh(`echo ${HDMI} > /sys/bus/platform/drivers_probe`);
    expect(core.platform.device(HDMI)?.driverName).toBe('s3c-i2c');
  });

  it('a bus rescan skips the device at once instead of waiting for it', async () => {
    const { core, close } = vfioWithOpenFd();
    core.platform.setDriverOverride(HDMI, '');
    const unbind = core.platform.unbind('vfio-platform', HDMI);
    expect(core.platform.rescan()).toBeUndefined();
    close();
    await unbind;
    expect(core.platform.device(HDMI)?.driverName).toBeNull();
  });

  it('sysfs shows no driver link while the remove waits, though dev->driver is still set (driver_sysfs_remove first)', async () => {
    const { core, close } = vfioWithOpenFd();
    const unbind = core.platform.unbind('vfio-platform', HDMI);
    expect(core.platform.device(HDMI)?.driverName).toBe('vfio-platform');
    expect(core.sysfs.exists(`/sys/bus/platform/devices/${HDMI}/driver`)).toBe(false);
    expect(core.sysfs.list('/sys/bus/platform/drivers/vfio-platform')).toEqual(['bind', 'uevent', 'unbind']);
    close();
    await unbind;
  });
});

type Plant = (core: DriverCore, removeDone: Promise<unknown>) => void;

/** Whatever user space and udev do in the window, drivers_probe/rescan return at once and the device ends unbound. */
const handBackHolds = (plant: Plant) => {
  const op = fc.constantFrom('unbind-again', 'drivers_probe', 'rescan', 'clear-override', 'autoprobe-off');
  return fc.asyncProperty(fc.array(op, { maxLength: 8 }), async (ops) => {
    const { core, close } = vfioWithOpenFd();
    const first = core.platform.unbind('vfio-platform', HDMI);
    plant(core, Promise.resolve(first));
    const waits: Promise<unknown>[] = [];
    for (const step of ops) {
      if (step === 'unbind-again') {
        const again = core.platform.unbind('vfio-platform', HDMI);
        expect(again).toBeInstanceOf(Promise);
        waits.push(Promise.resolve(again));
      } else if (step === 'drivers_probe') {
        const probe = core.platform.driversProbe(HDMI);
        waits.push(Promise.resolve(probe));
        expect(probe).toBeUndefined();
      } else if (step === 'rescan') {
        const rescan = core.platform.rescan();
        waits.push(Promise.resolve(rescan));
        expect(rescan).toBeUndefined();
      } else if (step === 'clear-override') {
        waits.push(Promise.resolve(core.platform.setDriverOverride(HDMI, '\n')));
      } else {
        core.platform.autoprobe = false;
      }
    }
    close();
    await first;
    await Promise.all(waits);
    expect(core.platform.device(HDMI)?.driverName).toBeNull();
  });
};

describe('the hand-back window as a property', () => {
  it('whatever user space and udev do while the fd is open, drivers_probe and rescans return at once and the device ends unbound', async () => {
    await fc.assert(
      handBackHolds(() => undefined),
      { numRuns: 200 },
    );
  });

  it('fails on the planted bug the kernel does not have: drivers_probe or a rescan that waits for the device lock and then probes', async () => {
    const fails = async (plant: Plant): Promise<boolean> =>
      (await fc.check(handBackHolds(plant), { numRuns: 200 })).failed;
    expect(
      await fails((core, removeDone) => {
        const bus = core.platform;
        const probe = bus.driversProbe.bind(bus);
        bus.driversProbe = (name) => removeDone.then(() => probe(name));
      }),
    ).toBe(true);
    // A rescan that waits and probes, but still returns at once: only the end state shows it.
    expect(
      await fails((core, removeDone) => {
        const bus = core.platform;
        const rescan = bus.rescan.bind(bus);
        bus.rescan = () => {
          void removeDone.then(() => rescan());
          return undefined;
        };
      }),
    ).toBe(true);
    expect(await fails(() => undefined)).toBe(false);
  });
});
