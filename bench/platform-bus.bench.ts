// Device attach cost against many registered drivers: the indexed matcher of
// @vfiokit/platform-bus beside the kernel's scan-every-driver walk, in the same run.
import { performance } from 'node:perf_hooks';
import { type DeviceDescription, DriverCore, type DriverSpec } from '@vfiokit/platform-bus';
import { printTable } from './measure.js';

const probe = (): void => undefined;

/** Drivers with two compatibles each; every fourth also has an id table (as platform drivers do). */
function drivers(count: number): DriverSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `drv-${i}`,
    ofMatchTable: [`vendor,ip${i}`, `vendor,ip${i}-v2`],
    ...(i % 4 === 0 ? { idTable: [`ip${i}-legacy`] } : {}),
    probe,
  }));
}

/** Devices spread over the drivers (a deterministic LCG), one in ten matching nothing. */
function devices(count: number, driverCount: number): DeviceDescription[] {
  let seed = 12345;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed;
  };
  return Array.from({ length: count }, (_, i) => {
    const target = next() % driverCount;
    const compatible =
      i % 10 === 9 ? ['vendor,unknown'] : [`vendor,board-ip${target}`, `vendor,ip${target}-v2`];
    return { name: `${(0x10000000 + i * 0x1000).toString(16)}.dev`, bus: 'platform', compatible };
  });
}

/** Median microseconds per device to add (device_add + attach) `deviceCount` devices. */
function perDeviceUs(
  deviceCount: number,
  driverCount: number,
  indexedMatching: boolean,
  runs: number,
): number {
  const specs = drivers(driverCount);
  const descriptions = devices(deviceCount, driverCount);
  const times: number[] = [];
  const warmup = 2;
  for (let run = 0; run < runs + warmup; run++) {
    const core = new DriverCore({ indexedMatching });
    for (const spec of specs) core.platform.registerDriver(spec);
    const start = performance.now();
    for (const description of descriptions) core.platform.addDevice(description);
    const elapsed = performance.now() - start;
    const bound = core.platform.devices.filter((d) => d.driverName !== null).length;
    if (bound !== deviceCount - Math.floor(deviceCount / 10)) {
      throw new RangeError(
        `expected ${deviceCount - Math.floor(deviceCount / 10)} bound devices, got ${bound}`,
      );
    }
    if (run >= warmup) times.push((elapsed * 1000) / deviceCount);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

export default function run(): void {
  // Let the JIT settle on both paths before anything is timed.
  perDeviceUs(10_000, 1_000, true, 2);
  perDeviceUs(2_000, 1_000, false, 1);
  const rows: string[][] = [];
  for (const [deviceCount, driverCount] of [
    [10_000, 1_000],
    [20_000, 2_000],
  ] as const) {
    const indexed = perDeviceUs(deviceCount, driverCount, true, 5);
    const naive = perDeviceUs(deviceCount, driverCount, false, 3);
    rows.push([
      `${deviceCount.toLocaleString('en-US')} devices × ${driverCount.toLocaleString('en-US')} drivers`,
      `${indexed.toFixed(2)} µs`,
      `${naive.toFixed(2)} µs`,
      `${(naive / indexed).toFixed(0)}×`,
    ]);
  }
  printTable(['attach', 'indexed (per device)', 'scan every driver (per device)', 'speed-up'], rows);
}
