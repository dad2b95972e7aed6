import { KernelError, type MmioDevice, rejectUnknownOptions } from '@vfiokit/core';
import type { BusName, DeviceDescription } from '../description.js';
import type { DriverSpec } from '../device.js';
import type { DriverCore } from '../driver-core.js';
import { optionKeys } from '../options.js';
import {
  arndaleI2cDevices,
  pl330Device,
  primecellIdRegisters,
  recordingDriver,
  recordingMetaDriver,
} from './arndale.js';

/** A driver of the race suite and the bus it registers on. */
export interface RaceDriver {
  readonly bus: BusName;
  /** Builds a fresh driver for one run; it may look at the core (e.g. to defer on a supplier). */
  readonly create: (core: DriverCore) => DriverSpec;
}

/**
 * What the model-based race suite runs over: plug in your own devices and drivers.
 * Devices are hotplugged by index, drivers registered and unregistered by index.
 */
export interface RaceSetup {
  readonly devices: readonly DeviceDescription[];
  readonly drivers: readonly RaceDriver[];
  /** Indexes of `devices` present at the start (default: all). */
  readonly initialDevices?: readonly number[];
  /** Indexes of `drivers` registered at the start (default: all), before the devices are added. */
  readonly initialDrivers?: readonly number[];
  /** PrimeCell register models the `provide-primecell` command hands to AMBA devices later. */
  readonly latePrimecell?: Readonly<Record<string, MmioDevice>>;
  /** `driver_async_probe=`. */
  readonly asyncProbeDrivers?: readonly string[] | '*';
}

const SETUP_KEYS = optionKeys<RaceSetup>({
  devices: true,
  drivers: true,
  initialDevices: true,
  initialDrivers: true,
  latePrimecell: true,
  asyncProbeDrivers: true,
});

/** `EINVAL` for a {@link RaceSetup} with a key it does not have (a typo would silently change the run). */
export function checkRaceSetup(setup: RaceSetup): void {
  rejectUnknownOptions(setup, SETUP_KEYS, 'RaceSetup');
}

/**
 * The default setup: the Exynos5250 Arndale I2C controllers with `s3c-i2c` (whose probe
 * defers until the pin controller `11400000.pinctrl` is bound, as pinctrl_bind_pins()
 * would), `samsung-pinctrl` probing asynchronously, a PL330 on the AMBA bus whose ID
 * registers become readable only later, `dma-pl330` (async), and the two VFIO meta drivers.
 */
export function arndaleRaceSetup(): RaceSetup {
  const pinctrl: DeviceDescription = {
    name: '11400000.pinctrl',
    bus: 'platform',
    ofNode: '/soc/pinctrl@11400000',
    compatible: ['samsung,exynos5250-pinctrl'],
    irqs: [46],
  };
  const dma = pl330Device();
  return {
    devices: [...arndaleI2cDevices(), pinctrl, dma],
    drivers: [
      {
        bus: 'platform',
        create: (core) =>
          recordingDriver('s3c-i2c', {
            ofMatchTable: ['samsung,s3c2440-i2c', 'samsung,s3c2440-hdmiphy-i2c'],
            idTable: ['s3c2440-i2c', 's3c2440-hdmiphy-i2c'],
            verdict: (device) =>
              device.name !== '12ce0000.i2c' && core.platform.device('11400000.pinctrl')?.driverName == null
                ? new KernelError('EPROBE_DEFER', 'pin controller not ready')
                : undefined,
          }),
      },
      {
        bus: 'platform',
        create: () =>
          recordingDriver('samsung-pinctrl', {
            ofMatchTable: ['samsung,exynos5250-pinctrl'],
            probeType: 'prefer-async',
          }),
      },
      {
        bus: 'amba',
        create: () =>
          recordingDriver('dma-pl330', {
            ambaIdTable: [{ id: 0x00041330, mask: 0x000fffff }],
            probeType: 'prefer-async',
          }),
      },
      { bus: 'platform', create: () => recordingMetaDriver('vfio-platform') },
      { bus: 'amba', create: () => recordingMetaDriver('vfio-amba') },
    ],
    latePrimecell: { [dma.name]: primecellIdRegisters(0x00241330) },
  };
}
