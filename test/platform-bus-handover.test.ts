// End-to-end hand-over of an Exynos5250 I2C controller to a VFIO-like meta driver through
// the public faces of @vfiokit/platform-bus (and its ./testing subpath): DMA ownership is
// claimed by the meta driver as vfio claims a group, remove waits for user space.
import { IommuDmaOwnership, isKernelError } from '@vfiokit/core';
import { DriverCore, platformDmaConfigure } from '@vfiokit/platform-bus';
import { arndaleI2cDevices, recordingDriver, s3cI2cDriver } from '@vfiokit/platform-bus/testing';
import { describe, expect, it } from 'vitest';

const HDMI = '12ce0000.i2c';

describe('platform-bus: hand an I2C controller to user space and back', () => {
  it('claims the IOMMU group, keeps the host away, and gives the device back when the fd closes', async () => {
    const ownership = new IommuDmaOwnership();
    const core = new DriverCore({ dmaConfigure: platformDmaConfigure(ownership) });
    let closeFd: () => void = () => undefined;
    const vfio = recordingDriver('vfio-platform', {
      driverManagedDma: true,
      verdict: (device) => {
        ownership.claimDmaOwner(device.iommuGroup!, 'vfio-container');
        return undefined;
      },
      onRemove: (device) =>
        new Promise<void>((resolve) => {
          closeFd = () => {
            ownership.releaseDmaOwner(device.iommuGroup!, 'vfio-container');
            resolve();
          };
        }),
    });
    core.platform.registerDriver(s3cI2cDriver());
    core.platform.registerDriver(vfio);
    for (const d of arndaleI2cDevices())
      core.platform.addDevice({ ...d, ...(d.name === HDMI ? { iommuGroup: 4 } : {}) });
    expect(ownership.ownerCount(4)).toBe(1);

    const sh = (command: string) => core.sysfs.run(command);
    sh(`echo vfio-platform > /sys/bus/platform/devices/${HDMI}/driver_override`);
    sh(`echo ${HDMI} > /sys/bus/platform/drivers/s3c-i2c/unbind`);
    sh(`echo ${HDMI} > /sys/bus/platform/drivers_probe`);
    expect(ownership.isClaimed(4)).toBe(true);
    expect(core.sysfs.list('/sys/kernel/iommu_groups/4/devices')).toEqual([HDMI]);

    sh(`echo > /sys/bus/platform/devices/${HDMI}/driver_override`);
    const unbind = sh(`echo ${HDMI} > /sys/bus/platform/drivers/vfio-platform/unbind`);
    expect(core.platform.device(HDMI)?.driverName).toBe('vfio-platform');
    closeFd();
    await unbind;
    expect(ownership.isClaimed(4)).toBe(false);
    sh(`echo ${HDMI} > /sys/bus/platform/drivers_probe`);
    expect(core.platform.device(HDMI)?.driverName).toBe('s3c-i2c');
    expect(ownership.ownerCount(4)).toBe(1);

    // Another user-space owner claims the group: an explicit host bind is refused at dma_configure.
    core.platform.unbind('s3c-i2c', HDMI);
    ownership.claimDmaOwner(4, 'other-owner');
    let code: string | undefined;
    try {
      core.platform.bind('s3c-i2c', HDMI);
    } catch (error) {
      if (isKernelError(error)) code = error.code;
    }
    expect(code).toBe('EBUSY');
    expect(core.platform.device(HDMI)?.lastProbeError?.stage).toBe('dma_configure');
  });
});

describe('platform-bus: the hand-back race a VMM script must handle (issue #9 item 2)', () => {
  it('unbind blocks on the open fd, drivers_probe returns at once, and the device ends with no driver', async () => {
    const core = new DriverCore();
    let closeFd: () => void = () => undefined;
    const fdClosed = new Promise<void>((resolve) => {
      closeFd = resolve;
    });
    core.platform.registerDriver(s3cI2cDriver());
    core.platform.registerDriver(
      recordingDriver('vfio-platform', { driverManagedDma: true, onRemove: () => fdClosed }),
    );
    core.platform.addDevice({ ...arndaleI2cDevices()[4]!, driverOverride: 'vfio-platform' });
    const sh = (command: string) => core.sysfs.run(command);

    // The script: unbind in the background (it blocks), clear the override (blocks too, on
    // the device lock), then ask for a probe, which bus_rescan_devices_helper skips at once
    // because dev->driver is still set.
    const unbind = sh(`echo ${HDMI} > /sys/bus/platform/drivers/vfio-platform/unbind`);
    const clear = sh(`echo > /sys/bus/platform/devices/${HDMI}/driver_override`);
    expect(sh(`echo ${HDMI} > /sys/bus/platform/drivers_probe`)).toBe('');
    expect(core.sysfs.exists(`/sys/bus/platform/devices/${HDMI}/driver`)).toBe(false);
    closeFd();
    await unbind;
    await clear;
    expect(core.platform.device(HDMI)?.driverName).toBeNull();
    // What the script must do once the fd is closed: probe again.
    sh(`echo ${HDMI} > /sys/bus/platform/drivers_probe`);
    expect(sh(`readlink /sys/bus/platform/devices/${HDMI}/driver`)).toBe(
      '../../../bus/platform/drivers/s3c-i2c\n',
    );
  });
});
