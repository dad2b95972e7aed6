import { KernelError } from '@vfiokit/core';
import type { DriverSpec } from './device.js';
import { optionKeys } from './options.js';

const DRIVER_KEYS = optionKeys<DriverSpec>({
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
  probe: true,
  remove: true,
});

/** Optimal string alignment distance (Levenshtein with adjacent transpositions). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
      }
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * A `DriverSpec` is a struct drivers extend with their own state (as a kernel driver embeds
 * its `struct device_driver`; `recordingDriver` adds `probed` and `removed`), so unknown keys
 * are allowed — but not one that is a misspelling of a DriverSpec field (`ofMatchTabel`,
 * `driverManagedDMA`), which would silently leave the driver without it: `EINVAL`. A key that
 * extends a field name (`probed` after `probe`) is the driver's own.
 */
export function rejectMisspeltDriverKeys(driver: DriverSpec): void {
  for (const key of Object.keys(driver)) {
    if ((DRIVER_KEYS as readonly string[]).includes(key)) continue;
    const near = DRIVER_KEYS.find(
      (known) =>
        !key.startsWith(known) &&
        (key.toLowerCase() === known.toLowerCase() || (known.length >= 6 && distance(key, known) <= 2)),
    );
    if (near !== undefined) {
      throw new KernelError('EINVAL', `registerDriver: unknown field '${key}' (did you mean '${near}'?)`);
    }
  }
}
