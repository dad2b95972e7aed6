// A probe that returns a promise (issue #9, item 25): the device lock is held until it
// settles, and a rejection is a failed probe exactly as a throw is (drivers/base/dd.c
// really_probe: -ENODEV/-ENXIO let the next driver try, -EPROBE_DEFER defers).
import { KernelError, ManualScheduler } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { stateOf } from './device.js';
import { DriverCore } from './driver-core.js';
import { asyncErrnoOf } from './test-helpers.js';
import { recordingDriver } from './testing/index.js';

/** A probe that waits for `settle` and then rejects with `error`, or binds without one. */
function waitingProbe(name: string, compatible: string, error?: KernelError) {
  let settle: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const driver = {
    name,
    ofMatchTable: [compatible],
    probe: async () => {
      await gate;
      if (error !== undefined) throw error;
    },
  };
  return { driver, settle: () => settle() };
}

describe('async probe', () => {
  it('a rejected probe lets the next matching driver try, as a thrown one does', async () => {
    const core = new DriverCore();
    const failures: string[] = [];
    core.on('probe-failed', (e) => failures.push(`${e.driver} ${e.code}`));
    const first = waitingProbe('first', 'x,dev', new KernelError('ENODEV', 'not mine'));
    core.platform.registerDriver(first.driver);
    core.platform.registerDriver(recordingDriver('second', { ofMatchTable: ['x,dev'] }));
    const device = core.platform.addDevice({ name: 'd0', bus: 'platform', compatible: ['x,dev'] });
    // dev->driver is set while the probe runs, and the device lock is held.
    expect(device.driverName).toBe('first');
    expect(stateOf(device).lock).not.toBeNull();
    first.settle();
    await stateOf(device).lock;
    expect(failures).toEqual(['first ENODEV']);
    expect(device.driverName).toBe('second');
    expect(device.lastProbeError).toBeUndefined();
  });

  it('an EPROBE_DEFER rejection puts the device on the deferred list', async () => {
    const core = new DriverCore();
    const late = waitingProbe('late', 'x,dev', new KernelError('EPROBE_DEFER', 'supplier'));
    core.platform.registerDriver(late.driver);
    const device = core.platform.addDevice({ name: 'd0', bus: 'platform', compatible: ['x,dev'] });
    late.settle();
    await stateOf(device).lock;
    expect(device.driverName).toBeNull();
    expect(core.deferredDevices).toEqual([{ bus: 'platform', device: 'd0' }]);
  });

  it('sysfs bind waits for the probe and reports its rejection through the one promise', async () => {
    const core = new DriverCore();
    const slow = waitingProbe('slow', 'x,dev', new KernelError('EPROBE_DEFER', 'supplier'));
    core.platform.autoprobe = false;
    core.platform.registerDriver(slow.driver);
    core.platform.addDevice({ name: 'd0', bus: 'platform', compatible: ['x,dev'] });
    const bound = asyncErrnoOf(() => core.platform.bind('slow', 'd0'));
    slow.settle();
    expect(await bound).toBe('EAGAIN');
  });

  it('operations on the device wait while the probe holds the lock', async () => {
    const core = new DriverCore();
    const slow = waitingProbe('slow', 'x,dev');
    core.platform.registerDriver(slow.driver);
    const device = core.platform.addDevice({ name: 'd0', bus: 'platform', compatible: ['x,dev'] });
    const unbind = core.platform.unbind('slow', 'd0');
    expect(unbind).toBeInstanceOf(Promise);
    expect(device.driverName).toBe('slow');
    slow.settle();
    await unbind;
    expect(device.driverName).toBeNull();
  });

  it('a driver bug in an automatic async probe is reported on the scheduler, not swallowed', async () => {
    const scheduler = new ManualScheduler();
    const core = new DriverCore({ scheduler });
    const buggy = {
      name: 'buggy',
      ofMatchTable: ['x,dev'],
      probe: () => Promise.reject(new TypeError('driver bug')),
    };
    core.platform.registerDriver(buggy);
    const device = core.platform.addDevice({ name: 'd0', bus: 'platform', compatible: ['x,dev'] });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(scheduler.pending.map((task) => task.label)).toContain('driver bug');
    expect(() => scheduler.runAll()).toThrow('driver bug');
    expect(device.driverName).toBeNull();
  });
});
