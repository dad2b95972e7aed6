// Negative tests: every invariant BindMonitor states fires on a planted bug. The bugs are
// planted as a broken driver core would show them: forged uevent-like events, or device
// state changed behind the core's back.
import { KernelError } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { stateOf } from '../device.js';
import { DriverCore } from '../driver-core.js';
import { recordingDriver } from './arndale.js';
import { BindMonitor } from './bind-monitor.js';

function watched() {
  const core = new DriverCore();
  const monitor = new BindMonitor(core);
  core.platform.registerDriver(recordingDriver('host', { ofMatchTable: ['x,dev', 'x,old'] }));
  monitor.noteRegistered('platform', 'host');
  core.platform.registerDriver(recordingDriver('vfio-platform', { sysfsBindOnly: true }));
  monitor.noteRegistered('platform', 'vfio-platform');
  core.platform.autoprobe = false;
  core.platform.addDevice({ name: 'd0', bus: 'platform', compatible: ['x,dev', 'x,old'] });
  core.platform.addDevice({ name: 'd1', bus: 'platform', compatible: ['y,other'] });
  return { core, monitor };
}

const bind = (
  core: DriverCore,
  device: string,
  driver: string,
  via: 'device_add' | 'sysfs_bind' | 'async_driver_register' = 'device_add',
  compatible = 'x,dev',
) => core.emit('bind', { bus: 'platform', device, driver, via, match: { reason: 'of', compatible } });

describe('BindMonitor fires on each planted bug', () => {
  it('stays quiet on a correct run (the control)', () => {
    const { core, monitor } = watched();
    core.platform.bind('host', 'd0');
    core.platform.unbind('host', 'd0');
    monitor.checkQuiescent();
    expect(monitor.violations).toEqual([]);
  });

  it('one driver per device: a second bind while bound', () => {
    const { core, monitor } = watched();
    core.platform.bind('host', 'd0');
    bind(core, 'd0', 'host');
    expect(monitor.violations).toContainEqual('host bound platform/d0 while host held it');
  });

  it('unbind of a driver the device was not bound to', () => {
    const { core, monitor } = watched();
    core.emit('unbind', { bus: 'platform', device: 'd0', driver: 'host' });
    expect(monitor.violations).toEqual(['unbind of host from platform/d0, which was bound to nothing']);
  });

  it('a bind the kernel rules do not match', () => {
    const { core, monitor } = watched();
    bind(core, 'd1', 'host');
    expect(monitor.violations).toContainEqual('host bound platform/d1 (device_add) without matching it');
  });

  it('a bind by the wrong rule or the wrong OF entry (not the earliest device compatible)', () => {
    const { core, monitor } = watched();
    bind(core, 'd0', 'host', 'device_add', 'x,old');
    expect(monitor.violations).toEqual([
      "host bound platform/d0 by of x,old, but the kernel's rules match by of x,dev",
    ]);
  });

  it('an async attach queued at registration for a device the driver did not match then', () => {
    const { core, monitor } = watched();
    bind(core, 'd1', 'host', 'async_driver_register');
    expect(monitor.violations).toEqual([
      'host async-attached platform/d1 that it did not match at registration',
    ]);
  });

  it('a sysfsBindOnly driver bound automatically', () => {
    const { core, monitor } = watched();
    core.platform.setDriverOverride('d1', 'vfio-platform');
    core.emit('bind', {
      bus: 'platform',
      device: 'd1',
      driver: 'vfio-platform',
      via: 'drivers_probe',
      match: { reason: 'driver_override' },
    });
    expect(monitor.violations).toEqual([
      'sysfsBindOnly vfio-platform bound platform/d1 through drivers_probe',
    ]);
  });

  it('an explicit-bind-only device bound automatically', () => {
    const { core, monitor } = watched();
    monitor.noteExplicitBindOnly('platform', 'd0', true);
    bind(core, 'd0', 'host');
    expect(monitor.violations).toEqual(['host bound explicit-bind-only platform/d0 through device_add']);
  });

  it('a driver other than the override bound automatically', () => {
    const { core, monitor } = watched();
    core.platform.setDriverOverride('d0', 'vfio-platform');
    monitor.noteOverride('platform', 'd0', 'vfio-platform');
    bind(core, 'd0', 'host');
    expect(monitor.violations).toContainEqual(
      'host bound platform/d0 (override vfio-platform) through device_add',
    );
  });

  it('an async attach queued before the override is counted as the kernel window, not a violation', () => {
    const { core, monitor } = watched();
    monitor.noteRegistered('platform', 'host'); // registered (and queued) with d0 present
    core.platform.setDriverOverride('d0', 'vfio-platform');
    monitor.noteOverride('platform', 'd0', 'vfio-platform');
    bind(core, 'd0', 'host', 'async_driver_register');
    expect(monitor.violations).toEqual([]);
    expect(monitor.asyncWindowBinds).toBe(1);
  });

  it('a bind event for a device or driver that does not exist', () => {
    const { core, monitor } = watched();
    bind(core, 'ghost', 'host');
    expect(monitor.violations).toEqual(['bind event for unknown platform/ghost / host']);
  });

  it('at quiescence: a binding the events never announced', () => {
    const { core, monitor } = watched();
    const device = core.platform.device('d0')!;
    // A core that binds without driver_bound()'s uevent.
    stateOf(device).probing(core.platform.driver('host')!, { reason: 'of', compatible: 'x,dev' });
    monitor.checkQuiescent();
    expect(monitor.violations).toEqual(['platform/d0 is bound to host, events say nothing']);
  });

  it('at quiescence: a device deferred before the last bind and never retried', () => {
    const { core, monitor } = watched();
    core.platform.registerDriver(
      recordingDriver('late', {
        ofMatchTable: ['y,other'],
        verdict: () => new KernelError('EPROBE_DEFER', 'supplier missing'),
      }),
    );
    core.platform.rescan();
    expect(core.deferredDevices).toEqual([{ bus: 'platform', device: 'd1' }]);
    // A bind that never triggers the deferred list: the bug being planted.
    bind(core, 'd0', 'host');
    monitor.checkQuiescent();
    expect(monitor.violations).toContainEqual(
      'platform/d1 deferred before the last bind and was never retried',
    );
  });
});
