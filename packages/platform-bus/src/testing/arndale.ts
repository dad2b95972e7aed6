import { KernelError, type MmioDevice, physAddr, rejectUnknownOptions } from '@vfiokit/core';
import type { DeviceDescription } from '../description.js';
import type { Device, DriverSpec } from '../device.js';
import type { MatchInfo, RemoveResult } from '../match-info.js';
import { optionKeys } from '../options.js';

/**
 * The I2C controllers of the Exynos5250 Arndale board as of_platform_populate() names them:
 * i2c_0..3 from arch/arm/boot/dts/samsung/exynos5.dtsi (`samsung,s3c2440-i2c`, 0x100 bytes,
 * GIC SPI 56..59) and i2c_8, the HDMI-PHY bus the 2013 thread hands to VFIO, from exynos5250.dtsi
 * (`samsung,s3c2440-hdmiphy-i2c`, 0x1000 bytes, SPI 64). The Arndale tree is not among the
 * fixtures, so these are written out here.
 */
export function arndaleI2cDevices(): DeviceDescription[] {
  const plain = [0x12c60000, 0x12c70000, 0x12c80000, 0x12c90000].map(
    (base, i): DeviceDescription => ({
      name: `${base.toString(16)}.i2c`,
      bus: 'platform',
      ofNode: `/soc/i2c@${base.toString(16)}`,
      compatible: ['samsung,s3c2440-i2c'],
      regions: [{ start: physAddr(base), size: 0x100 }],
      irqs: [56 + i],
    }),
  );
  const hdmiphy: DeviceDescription = {
    name: '12ce0000.i2c',
    bus: 'platform',
    ofNode: '/soc/i2c@12ce0000',
    compatible: ['samsung,s3c2440-hdmiphy-i2c'],
    regions: [{ start: physAddr(0x12ce0000), size: 0x1000 }],
    irqs: [64],
  };
  return [...plain, hdmiphy];
}

/** A driver that records its probes and removes, for tests and the race suite. */
export interface RecordingDriver extends DriverSpec {
  /** Device names probed successfully, in order. */
  readonly probed: string[];
  /** Device names removed, in order. */
  readonly removed: string[];
}

/** Overrides of {@link recordingDriver}: any {@link DriverSpec} field, plus a probe verdict. */
export type RecordingDriverOptions = Omit<Partial<DriverSpec>, 'probe' | 'remove'> & {
  /** Decides the probe: return a `KernelError` to fail it, `undefined` to bind. */
  readonly verdict?: (device: Device, match: MatchInfo) => KernelError | undefined;
  /** What remove returns (e.g. a promise that waits). */
  readonly onRemove?: (device: Device) => RemoveResult;
};

const RECORDING_DRIVER_KEYS = optionKeys<RecordingDriverOptions>({
  name: true,
  ofMatchTable: true,
  acpiMatchTable: true,
  idTable: true,
  ambaIdTable: true,
  probeType: true,
  suppressBindAttrs: true,
  driverManagedDma: true,
  preventDeferredProbe: true,
  matchAnyDevice: true,
  sysfsBindOnly: true,
  verdict: true,
  onRemove: true,
});

/** A {@link DriverSpec} whose probe and remove are recorded. */
export function recordingDriver(name: string, options: RecordingDriverOptions = {}): RecordingDriver {
  rejectUnknownOptions(options, RECORDING_DRIVER_KEYS, 'recordingDriver');
  const { verdict, onRemove, ...spec } = options;
  const probed: string[] = [];
  const removed: string[] = [];
  return {
    ...spec,
    name,
    probed,
    removed,
    probe(device: Device, match: MatchInfo): void {
      const error = verdict?.(device, match);
      if (error !== undefined) throw error;
      probed.push(device.name);
    },
    remove(device: Device): RemoveResult {
      removed.push(device.name);
      return onRemove?.(device);
    },
  };
}

/**
 * The s3c24xx I2C host driver of drivers/i2c/busses/i2c-s3c2410.c: `s3c-i2c`, its OF table
 * and platform id table, probed synchronously unless told otherwise.
 */
export function s3cI2cDriver(options: RecordingDriverOptions = {}): RecordingDriver {
  return recordingDriver('s3c-i2c', {
    ofMatchTable: [
      'samsung,s3c2410-i2c',
      'samsung,s3c2440-i2c',
      'samsung,s3c2440-hdmiphy-i2c',
      'samsung,exynos5440-i2c',
      'samsung,exynos5-sata-phy-i2c',
    ],
    idTable: ['s3c2410-i2c', 's3c2440-i2c', 's3c2440-hdmiphy-i2c'],
    ...options,
  });
}

/**
 * A stand-in for a VFIO meta driver (`vfio-platform`, `vfio-amba`): no match tables,
 * `driver_managed_dma`, bound through `driver_override` (or, with the 2013 proposal,
 * `matchAnyDevice` + `sysfsBindOnly`).
 */
export function recordingMetaDriver(
  name = 'vfio-platform',
  options: RecordingDriverOptions = {},
): RecordingDriver {
  return recordingDriver(name, { driverManagedDma: true, ...options });
}

/**
 * A PrimeCell register block of `size` bytes whose ID registers read `periphid` and the
 * given cell id (AMBA_CID by default); other offsets read as zero.
 */
export function primecellIdRegisters(periphid: number, size = 0x1000, cid = 0xb105f00d): MmioDevice {
  return {
    name: 'primecell-id',
    size,
    read(offset: number): number {
      if (offset < 0 || offset + 4 > size)
        throw new KernelError('EFAULT', `offset 0x${offset.toString(16)} out of range`);
      const at = offset - (size - 0x20);
      if (at >= 0 && at < 0x10 && at % 4 === 0) return (periphid >>> (2 * at)) & 0xff;
      const c = offset - (size - 0x10);
      if (c >= 0 && c < 0x10 && c % 4 === 0) return (cid >>> (2 * c)) & 0xff;
      return 0;
    },
    write(offset: number): void {
      if (offset < 0 || offset >= size)
        throw new KernelError('EFAULT', `offset 0x${offset.toString(16)} out of range`);
    },
  };
}

/** An Exynos5250 PL330 (`pdma0`, arm,pl330 + arm,primecell) as an AMBA device, periphid to be read. */
export function pl330Device(primecell?: MmioDevice): DeviceDescription {
  return {
    name: '121a0000.dma-controller',
    bus: 'amba',
    ofNode: '/soc/dma-controller@121a0000',
    compatible: ['arm,pl330', 'arm,primecell'],
    regions: [{ start: physAddr(0x121a0000), size: 0x1000 }],
    irqs: [34],
    ...(primecell === undefined ? {} : { primecell }),
  };
}
