import { describe, expect, it } from 'vitest';
import { formatI2cRebind, I2C_DEVICE, i2cHost, i2cRebindExample } from './i2c-rebind.js';

describe('example: seed 002, the i2c controller to vfio-platform and back (drivers/base/bus.c, platform.c)', () => {
  it('unbind first loses the device to a host drivers_probe in the window (bind EBUSY); driver_override first does not; the hand-back returns it', async () => {
    const outcome = await i2cRebindExample();
    expect(outcome.bootDriver).toBe('s3c-i2c');
    expect(outcome.unbindFirst.driver).toBe('s3c-i2c');
    expect(outcome.unbindFirst.hostRebinds).toBe(1);
    expect(outcome.unbindFirst.steps.at(-1)?.result).toBe('EBUSY');
    expect(outcome.overrideFirst.driver).toBe('vfio-platform');
    expect(outcome.overrideFirst.hostRebinds).toBe(0);
    expect(outcome.overrideFirst.steps.every((s) => s.result === '')).toBe(true);
    expect(outcome.tainted).toBe(64);
    expect(outcome.handBack.driver).toBe('s3c-i2c');
    expect(outcome.raceSuite.none).toMatchObject({
      failed: true,
      violation: `${I2C_DEVICE} ended bound to s3c-i2c`,
    });
    expect(outcome.raceSuite.driverOverride).toEqual({ runs: 100, failed: false });
    expect(formatI2cRebind(outcome)).toContain('→ bound to vfio-platform; s3c-i2c re-bound it 0 time(s)');
  });

  it('the race is the host event: the seed’s order without it binds vfio-platform (so the check above can fail)', async () => {
    const host = await i2cHost();
    await host.fs.run(`echo ${I2C_DEVICE} > /sys/bus/platform/drivers/s3c-i2c/unbind`);
    await host.fs.run(`echo vfio-platform > /sys/bus/platform/devices/${I2C_DEVICE}/driver_override`);
    await host.fs.run(`echo ${I2C_DEVICE} > /sys/bus/platform/drivers/vfio-platform/bind`);
    expect(host.device(I2C_DEVICE)?.driverName).toBe('vfio-platform');
  });

  it('rejects unknown options with EINVAL', async () => {
    await expect(i2cRebindExample({ runs: 5 } as never)).rejects.toMatchObject({ code: 'EINVAL' });
  });
});
