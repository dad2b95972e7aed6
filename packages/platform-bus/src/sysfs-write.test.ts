import { describe, expect, it } from 'vitest';
import { DriverCore } from './driver-core.js';
import { sysfsStreq } from './sysfs-string.js';
import { errnoOf } from './test-helpers.js';
import { arndaleI2cDevices, recordingMetaDriver, s3cI2cDriver } from './testing/index.js';

const HDMI = '12ce0000.i2c';

function arndale() {
  const core = new DriverCore();
  core.platform.registerDriver(s3cI2cDriver());
  core.platform.registerDriver(recordingMetaDriver('vfio-platform'));
  for (const d of arndaleI2cDevices()) core.platform.addDevice(d);
  return core;
}

describe('fs/sysfs/file.c sysfs_kf_write: a zero-length write never reaches ->store', () => {
  it('an empty write to driver_override leaves the override set and returns 0', () => {
    const core = arndale();
    const path = `/sys/bus/platform/devices/${HDMI}/driver_override`;
    core.sysfs.write(path, 'vfio-platform\n');
    expect(core.sysfs.write(path, '')).toBe(0);
    expect(core.sysfs.read(path)).toBe('vfio-platform\n');
    // A one-byte write of "\n" does reach the store and clears it (driver_set_override).
    expect(core.sysfs.write(path, '\n')).toBe(1);
    expect(core.sysfs.read(path)).toBe('(null)\n');
  });

  it('an empty write to drivers_autoprobe does not turn probing back on', () => {
    const core = arndale();
    core.sysfs.write('/sys/bus/platform/drivers_autoprobe', '0');
    expect(core.sysfs.write('/sys/bus/platform/drivers_autoprobe', '')).toBe(0);
    expect(core.sysfs.read('/sys/bus/platform/drivers_autoprobe')).toBe('0\n');
    expect(core.platform.autoprobe).toBe(false);
  });

  it('an empty write to bind, unbind or drivers_probe is not an ENODEV: nothing runs', () => {
    const core = arndale();
    expect(core.sysfs.write('/sys/bus/platform/drivers/s3c-i2c/unbind', '')).toBe(0);
    expect(core.sysfs.write('/sys/bus/platform/drivers/s3c-i2c/bind', '')).toBe(0);
    expect(core.sysfs.write('/sys/bus/platform/drivers_probe', '')).toBe(0);
    expect(core.platform.device(HDMI)?.driverName).toBe('s3c-i2c');
  });

  it('permission is checked at open, before the count: an empty write to a read-only file is EACCES', () => {
    const core = arndale();
    expect(errnoOf(() => core.sysfs.write(`/sys/bus/platform/devices/${HDMI}/modalias`, ''))).toBe('EACCES');
  });
});

describe('bus_find_device_by_name compares C strings with sysfs_streq (lib/string.c)', () => {
  it('"d0\\0" and "d0\\n" find d0; "d0\\n\\n" and "d0 " do not', () => {
    const core = new DriverCore();
    core.platform.registerDriver(recordingMetaDriver('d0'));
    core.platform.addDevice({ name: 'd0', bus: 'platform' });
    expect(core.platform.device('d0\0')?.name).toBe('d0');
    expect(core.platform.device('d0\0junk\n')?.name).toBe('d0');
    expect(core.platform.device('d0\n')?.name).toBe('d0');
    expect(core.platform.device('d0\n\0')?.name).toBe('d0');
    expect(core.platform.device('d0\n\n')).toBeUndefined();
    expect(core.platform.device('d0 ')).toBeUndefined();
    expect(core.platform.device('\0d0')).toBeUndefined();
    // The same through the files that look devices up: unbind_store, bind_store, drivers_probe.
    expect(core.sysfs.write('/sys/bus/platform/drivers/d0/unbind', 'd0\0')).toBe(3);
    expect(core.platform.device('d0')?.driverName).toBeNull();
    expect(core.sysfs.write('/sys/bus/platform/drivers/d0/bind', 'd0\0')).toBe(3);
    expect(core.platform.device('d0')?.driverName).toBe('d0');
    expect(errnoOf(() => core.sysfs.write('/sys/bus/platform/drivers/d0/unbind', 'd0\n\n'))).toBe('ENODEV');
  });

  it('sysfs_streq is symmetric and allows one trailing newline on either side', () => {
    expect(sysfsStreq('a', 'a\n')).toBe(true);
    expect(sysfsStreq('a\n', 'a')).toBe(true);
    expect(sysfsStreq('a\0b', 'a')).toBe(true);
    expect(sysfsStreq('a\n\n', 'a')).toBe(false);
    expect(sysfsStreq('ab', 'a')).toBe(false);
  });

  it('each branch of lib/string.c sysfs_streq: NUL ends both strings, the newline must be the last byte', () => {
    // `if (*s1 == *s2) return true;` after the common prefix: two empty C strings are equal.
    expect(sysfsStreq('', '')).toBe(true);
    expect(sysfsStreq('\0a', '\0b')).toBe(true);
    expect(sysfsStreq('\0x', '')).toBe(true);
    // `!*s1 && *s2 == '\n' && !s2[1]` and its mirror: one newline, then the end.
    expect(sysfsStreq('', '\n')).toBe(true);
    expect(sysfsStreq('\n', '')).toBe(true);
    expect(sysfsStreq('a', 'a\n\0junk')).toBe(true);
    expect(sysfsStreq('a', 'a\nb')).toBe(false);
    expect(sysfsStreq('a', 'a\n\n')).toBe(false);
    expect(sysfsStreq('a\nb', 'a')).toBe(false);
    // One byte longer and ending in a newline is not enough: the rest must be equal.
    expect(sysfsStreq('a', 'b\n')).toBe(false);
    expect(sysfsStreq('b\n', 'a')).toBe(false);
    expect(sysfsStreq('a', 'bc')).toBe(false);
    expect(sysfsStreq('ab', 'a')).toBe(false);
    expect(sysfsStreq('a', 'ab')).toBe(false);
  });
});
