import { IommuDmaOwnership, KernelError } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { platformDmaConfigure } from './dma-configure.js';
import { DriverCore } from './driver-core.js';
import { recordingDriver } from './testing/index.js';

describe('a device that got its IOMMU group after it was bound (iommu_device_unuse_default_domain)', () => {
  it('unbinds: the kernel warns about owner_cnt 0 and goes on', () => {
    const ownership = new IommuDmaOwnership();
    const core = new DriverCore({ dmaConfigure: platformDmaConfigure(ownership) });
    core.platform.registerDriver(recordingDriver('host', { ofMatchTable: ['x,dev'] }));
    const device = core.platform.addDevice({ name: 'd0', bus: 'platform', compatible: ['x,dev'] });
    expect(device.driverName).toBe('host');
    device.iommuGroup = 5; // the IOMMU driver's probe_device ran after the bind
    core.platform.unbind('host', 'd0');
    expect(device.driverName).toBeNull();
    expect(ownership.ownerCount(5)).toBe(0);
    expect(ownership.warnings).toHaveLength(1);
    // Not wedged: it binds again, now counted in its group.
    core.platform.bind('host', 'd0');
    expect(ownership.ownerCount(5)).toBe(1);
  });

  it('a cleanup hook that throws still leaves the device unbound and unlocked', async () => {
    const core = new DriverCore({
      dmaConfigure: {
        configure: () => undefined,
        cleanup: () => {
          throw new RangeError('buggy hook');
        },
      },
    });
    let release: () => void = () => undefined;
    core.platform.registerDriver(
      recordingDriver('host', {
        ofMatchTable: ['x,dev'],
        onRemove: () =>
          new Promise<void>((resolve) => {
            release = resolve;
          }),
      }),
    );
    const device = core.platform.addDevice({ name: 'd0', bus: 'platform', compatible: ['x,dev'] });
    const unbind = core.platform.unbind('host', 'd0');
    release();
    await expect(unbind).rejects.toThrow('buggy hook');
    expect(device.driverName).toBeNull();
    await Promise.resolve();
    core.platform.bind('host', 'd0');
    expect(device.driverName).toBe('host');
  });

  it('a remove that rejects still unbinds, and operations queued behind it run', async () => {
    const core = new DriverCore();
    let fail: (error: Error) => void = () => undefined;
    core.platform.registerDriver(
      recordingDriver('host', {
        ofMatchTable: ['x,dev'],
        onRemove: () =>
          new Promise<void>((_, reject) => {
            fail = reject;
          }),
      }),
    );
    const device = core.platform.addDevice({ name: 'd0', bus: 'platform', compatible: ['x,dev'] });
    const unbind = core.platform.unbind('host', 'd0');
    const bind = core.platform.bind('host', 'd0');
    fail(new RangeError('remove bug'));
    await expect(unbind).rejects.toThrow('remove bug');
    await bind;
    expect(device.driverName).toBe('host');
  });

  it('a failed probe whose cleanup hook throws still leaves the device unbound', () => {
    const core = new DriverCore({
      dmaConfigure: {
        configure: () => undefined,
        cleanup: () => {
          throw new RangeError('buggy hook');
        },
      },
    });
    core.platform.registerDriver(
      recordingDriver('host', { ofMatchTable: ['x,dev'], verdict: () => new KernelError('EIO', 'no') }),
    );
    expect(() => core.platform.addDevice({ name: 'd0', bus: 'platform', compatible: ['x,dev'] })).toThrow(
      'buggy hook',
    );
    expect(core.platform.device('d0')?.driverName).toBeNull();
  });
});
