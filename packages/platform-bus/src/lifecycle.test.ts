import { describe, expect, it } from 'vitest';
import { stateOf } from './device.js';
import { DriverCore } from './driver-core.js';
import { arndaleI2cDevices, recordingMetaDriver, s3cI2cDriver } from './testing/index.js';

const HDMI = '12ce0000.i2c';

// Every state of a device's binding lifecycle, and every transition between them, once
// (unbound, bound to the host, bound to the meta driver, removing while user space holds
// it, gone), driven only through sysfs and hotplug.
describe('device lifecycle walk', () => {
  it('visits every state through the operations that lead to it', async () => {
    let release: () => void = () => undefined;
    const core = new DriverCore();
    core.platform.registerDriver(s3cI2cDriver());
    core.platform.registerDriver(
      recordingMetaDriver('vfio-platform', {
        onRemove: () =>
          new Promise<void>((resolve) => {
            release = resolve;
          }),
      }),
    );
    const description = arndaleI2cDevices()[4]!;
    const state = (): string => {
      const device = core.platform.device(HDMI);
      if (device === undefined) return 'gone';
      if (stateOf(device).removing) return `removing(${device.driverName})`;
      return device.driverName ?? 'unbound';
    };
    const trace: string[] = [];
    const step = async (label: string, work: () => unknown): Promise<void> => {
      await work();
      trace.push(`${label} -> ${state()}`);
    };
    const sh = (command: string) => core.sysfs.run(command);
    await step('add', () => core.platform.addDevice(description));
    await step('unbind host', () => sh(`echo ${HDMI} > /sys/bus/platform/drivers/s3c-i2c/unbind`));
    await step('bind host', () => sh(`echo ${HDMI} > /sys/bus/platform/drivers/s3c-i2c/bind`));
    await step('override', () =>
      sh(`echo vfio-platform > /sys/bus/platform/devices/${HDMI}/driver_override`),
    );
    await step('unbind host', () => sh(`echo ${HDMI} > /sys/bus/platform/drivers/s3c-i2c/unbind`));
    await step('drivers_probe', () => sh(`echo ${HDMI} > /sys/bus/platform/drivers_probe`));
    const unbinding = sh(`echo ${HDMI} > /sys/bus/platform/drivers/vfio-platform/unbind`);
    trace.push(`unbind meta (fd open) -> ${state()}`);
    release();
    await step('close fd', () => unbinding);
    await step('drivers_probe', () => sh(`echo ${HDMI} > /sys/bus/platform/drivers_probe`));
    await step('remove, fd closed', () => {
      const removing = core.platform.removeDevice(HDMI);
      release();
      return removing;
    });
    expect(trace).toEqual([
      'add -> s3c-i2c',
      'unbind host -> unbound',
      'bind host -> s3c-i2c',
      'override -> s3c-i2c',
      'unbind host -> unbound',
      'drivers_probe -> vfio-platform',
      'unbind meta (fd open) -> removing(vfio-platform)',
      'close fd -> unbound',
      'drivers_probe -> vfio-platform',
      'remove, fd closed -> gone',
    ]);
  });
});
