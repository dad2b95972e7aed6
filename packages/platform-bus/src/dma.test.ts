import { IommuDmaOwnership } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { platformDmaConfigure } from './dma-configure.js';
import { DriverCore } from './driver-core.js';
import { causeOf, errnoOf } from './test-helpers.js';
import { arndaleI2cDevices, recordingDriver, recordingMetaDriver, s3cI2cDriver } from './testing/index.js';

const HDMI = '12ce0000.i2c';

function grouped() {
  const ownership = new IommuDmaOwnership();
  const core = new DriverCore({ dmaConfigure: platformDmaConfigure(ownership) });
  core.platform.registerDriver(s3cI2cDriver());
  core.platform.registerDriver(recordingMetaDriver('vfio-platform'));
  for (const d of arndaleI2cDevices())
    core.platform.addDevice({ ...d, ...(d.name === HDMI ? { iommuGroup: 7 } : {}) });
  return { core, ownership, bus: core.platform };
}

describe('IOMMU-group DMA ownership (drivers/iommu/iommu.c)', () => {
  it('kernel users and a user-space owner exclude each other', () => {
    const ownership = new IommuDmaOwnership();
    ownership.useDefaultDomain(1);
    expect(errnoOf(() => ownership.claimDmaOwner(1, 'vfio'))).toBe('EPERM');
    ownership.unuseDefaultDomain(1);
    ownership.claimDmaOwner(1, 'vfio');
    expect(ownership.isClaimed(1)).toBe(true);
    expect(errnoOf(() => ownership.useDefaultDomain(1))).toBe('EBUSY');
    expect(errnoOf(() => ownership.releaseDmaOwner(1, 'other'))).toBe('EINVAL');
    ownership.releaseDmaOwner(1, 'vfio');
    expect(ownership.ownerCount(1)).toBe(0);
    ownership.useDefaultDomain(undefined);
  });
});

describe('dma_configure at probe', () => {
  it('a host driver takes the default domain at bind and drops it at unbind; vfio drivers do not', () => {
    const { ownership, bus } = grouped();
    expect(ownership.ownerCount(7)).toBe(1);
    bus.setDriverOverride(HDMI, 'vfio-platform');
    bus.unbind('s3c-i2c', HDMI);
    expect(ownership.ownerCount(7)).toBe(0);
    bus.driversProbe(HDMI);
    expect(bus.device(HDMI)?.driverName).toBe('vfio-platform');
    expect(ownership.ownerCount(7)).toBe(0);
    ownership.claimDmaOwner(7, 'vfio-group-7');
  });

  it('a host probe on a claimed group fails EBUSY at dma_configure, stopping the attach walk', () => {
    const { ownership, bus, core } = grouped();
    bus.unbind('s3c-i2c', HDMI);
    ownership.claimDmaOwner(7, 'vfio-group-7');
    // A later driver that would bind (it manages its own DMA), registered without autoprobe.
    const fallback = recordingDriver('fallback', {
      ofMatchTable: ['samsung,s3c2440-hdmiphy-i2c'],
      driverManagedDma: true,
    });
    bus.autoprobe = false;
    bus.registerDriver(fallback);
    expect(errnoOf(() => bus.bind('s3c-i2c', HDMI))).toBe('EBUSY');
    expect(bus.device(HDMI)?.lastProbeError).toMatchObject({ stage: 'dma_configure', code: 'EBUSY' });
    // drivers_probe: the negative error of the first matching driver stops the walk; user space
    // sees -EINVAL (drivers_probe_store), with the EBUSY kept as the cause.
    expect(errnoOf(() => core.sysfs.write('/sys/bus/platform/drivers_probe', HDMI))).toBe('EINVAL');
    expect(causeOf(() => bus.driversProbe(HDMI))).toBe('EBUSY');
    expect(fallback.probed).toEqual([]);
    bus.bind('fallback', HDMI);
    expect(fallback.probed).toEqual([HDMI]);
    expect(core.sysfs.list('/sys/kernel/iommu_groups/7/devices')).toEqual([HDMI]);
  });
});
