import { KernelError, type Scheduler } from '@vfiokit/core';
import { fastCheckScheduler } from '@vfiokit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DriverCore } from './driver-core.js';
import { arndaleI2cDevices, recordingDriver } from './testing/index.js';

function consumerAndSupplier(options: { preventDeferredProbe?: boolean } = {}) {
  const core = new DriverCore();
  const deferred: string[] = [];
  core.on('deferred', (e) => deferred.push(`${e.device}:${e.driver}`));
  const i2c = recordingDriver('s3c-i2c', {
    ofMatchTable: ['samsung,s3c2440-i2c'],
    verdict: () =>
      core.platform.device('11400000.pinctrl')?.driverName == null
        ? new KernelError('EPROBE_DEFER', 'pinctrl not ready')
        : undefined,
    ...(options.preventDeferredProbe === undefined
      ? {}
      : { preventDeferredProbe: options.preventDeferredProbe }),
  });
  core.platform.registerDriver(i2c);
  core.platform.addDevice(arndaleI2cDevices()[0]!);
  return { core, i2c, deferred };
}

describe('deferred probe (drivers/base/dd.c)', () => {
  it('a deferred device binds once its dependency binds, on any later successful bind', () => {
    const { core, i2c, deferred } = consumerAndSupplier();
    expect(deferred).toEqual(['12c60000.i2c:s3c-i2c']);
    expect(core.deferredDevices).toEqual([{ bus: 'platform', device: '12c60000.i2c' }]);
    core.platform.registerDriver(
      recordingDriver('samsung-pinctrl', { ofMatchTable: ['samsung,exynos5250-pinctrl'] }),
    );
    expect(i2c.probed).toEqual([]);
    core.platform.addDevice({
      name: '11400000.pinctrl',
      bus: 'platform',
      compatible: ['samsung,exynos5250-pinctrl'],
    });
    expect(i2c.probed).toEqual(['12c60000.i2c']);
    expect(core.deferredDevices).toEqual([]);
  });

  it('a device removed while deferred leaves the list', () => {
    const { core } = consumerAndSupplier();
    core.platform.removeDevice('12c60000.i2c');
    expect(core.deferredDevices).toEqual([]);
  });

  it('prevent_deferred_probe turns EPROBE_DEFER into ENXIO and does not queue', () => {
    const { core } = consumerAndSupplier({ preventDeferredProbe: true });
    expect(core.deferredDevices).toEqual([]);
    expect(core.platform.device('12c60000.i2c')?.lastProbeError?.code).toBe('ENXIO');
  });

  it('a retry honours drivers_autoprobe: with it off the device leaves the list unbound', () => {
    const { core, i2c } = consumerAndSupplier();
    core.platform.autoprobe = false;
    core.platform.registerDriver(
      recordingDriver('samsung-pinctrl', { ofMatchTable: ['samsung,exynos5250-pinctrl'] }),
    );
    core.platform.addDevice({
      name: '11400000.pinctrl',
      bus: 'platform',
      compatible: ['samsung,exynos5250-pinctrl'],
    });
    core.platform.bind('samsung-pinctrl', '11400000.pinctrl');
    expect(i2c.probed).toEqual([]);
    expect(core.deferredDevices).toEqual([]);
  });

  it('every deferred consumer binds once its supplier binds, in any order and interleaving', async () => {
    await fc.assert(
      suppliersReleaseConsumers((tasks, label, task) => tasks.schedule(label, task)),
      { numRuns: 200 },
    );
  });

  it('the property fails on a planted bug: deferred_probe_work that never runs (no retry after a bind)', async () => {
    const dropRetries = (tasks: Scheduler, label: string, task: () => void): void => {
      if (label !== 'deferred_probe_work') tasks.schedule(label, task);
    };
    expect((await fc.check(suppliersReleaseConsumers(dropRetries), { numRuns: 200 })).failed).toBe(true);
  });
});

/**
 * Every consumer deferred on a supplier binds once the supplier binds, whatever the order and
 * the interleaving; `plant` routes each scheduled task (a planted bug may drop some).
 */
function suppliersReleaseConsumers(plant: (tasks: Scheduler, label: string, task: () => void) => void) {
  const supplier = {
    name: '11400000.pinctrl',
    bus: 'platform' as const,
    compatible: ['samsung,exynos5250-pinctrl'],
  };
  const consumers = arndaleI2cDevices().slice(0, 4);
  return fc.asyncProperty(
    fc.scheduler(),
    fc.constantFrom('force-sync', 'prefer-async') as fc.Arbitrary<'force-sync' | 'prefer-async'>,
    async (s, probeType) => {
      const tasks = fastCheckScheduler(s);
      const scheduler: Scheduler = { schedule: (label, task) => plant(tasks, label, task) };
      const core = new DriverCore({ scheduler });
      const i2c = recordingDriver('s3c-i2c', {
        ofMatchTable: ['samsung,s3c2440-i2c'],
        probeType,
        verdict: () =>
          core.platform.device(supplier.name)?.driverName == null
            ? new KernelError('EPROBE_DEFER', 'pinctrl not ready')
            : undefined,
      });
      const pinctrl = recordingDriver('samsung-pinctrl', {
        ofMatchTable: supplier.compatible,
        probeType: 'prefer-async',
      });
      const steps: (() => unknown)[] = [
        () => core.platform.registerDriver(i2c),
        () => core.platform.registerDriver(pinctrl),
        () => core.platform.addDevice(supplier),
        ...consumers.map((d) => () => core.platform.addDevice(d)),
      ];
      const done = steps.map((step, i) => s.schedule(Promise.resolve(i), `step ${i}`).then(step));
      await s.waitFor(Promise.all(done));
      await s.waitAll();
      tasks.throwIfFailed();
      expect(pinctrl.probed).toEqual([supplier.name]);
      expect([...i2c.probed].sort()).toEqual(consumers.map((d) => d.name).sort());
      expect(core.deferredDevices).toEqual([]);
    },
  );
}
