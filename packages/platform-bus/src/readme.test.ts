// The README's usage example, step by step, and the output it promises.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DriverCore } from './index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('the usage example prints what the README says', () => {
    const core = new DriverCore();
    core.platform.registerDriver({
      name: 's3c-i2c',
      ofMatchTable: ['samsung,s3c2440-i2c', 'samsung,s3c2440-hdmiphy-i2c'],
      probe: () => {},
    });
    core.platform.registerDriver({ name: 'vfio-platform', driverManagedDma: true, probe: () => {} });
    core.platform.addDevice({ name: 'soc', bus: 'platform', ofNode: '/soc', compatible: ['simple-bus'] });
    core.platform.addDevice({
      name: '12ce0000.i2c',
      bus: 'platform',
      parent: 'soc',
      ofNode: '/soc/i2c@12ce0000',
      compatible: ['samsung,s3c2440-hdmiphy-i2c'],
      irqs: [64],
    });
    const sh = (command: string) => core.sysfs.run(command);
    sh('echo vfio-platform > /sys/bus/platform/devices/12ce0000.i2c/driver_override');
    sh('echo 12ce0000.i2c > /sys/bus/platform/drivers/s3c-i2c/unbind');
    sh('echo 12ce0000.i2c > /sys/bus/platform/drivers_probe');
    const printed = sh('readlink /sys/bus/platform/devices/12ce0000.i2c/driver');
    expect(printed).toBe('../../../../bus/platform/drivers/vfio-platform\n');
    expect(readme).toContain(`// ${String(printed).trimEnd()}   (one ../ per level below /sys)`);
  });

  it('names only DriverCore options that exist', () => {
    for (const option of ['legacyBindStore', 'ambaStubDriver', 'sysfsBindOnlyAttribute']) {
      expect(readme).toContain(option);
      expect(() => new DriverCore({ [option]: true })).not.toThrow();
    }
  });
});
