import type { Device } from '../device.js';
import type { DriverSpec } from '../driver.js';

/**
 * An independent, unindexed re-statement of `platform_match()` (drivers/base/platform.c)
 * and `amba_match()` (drivers/amba/bus.c) for a known periphid, written from the kernel
 * sources rather than from this package's matcher, so the race suite can check the bus's
 * decisions against it. `matchAnyDevice` is the seed's `match_any_dev` proposal.
 */
export function referenceMatches(device: Device, driver: DriverSpec): boolean {
  const override = device.driverOverride;
  if (override !== null) return override === driver.name;
  if (driver.matchAnyDevice === true) return true;
  if (device.bus === 'amba') {
    for (const entry of driver.ambaIdTable ?? []) {
      if (entry.mask === 0) break;
      if ((device.periphid & entry.mask) >>> 0 === entry.id >>> 0) return true;
    }
    return false;
  }
  const compatible = device.description.compatible ?? [];
  if (compatible.some((c) => driver.ofMatchTable?.includes(c) === true)) return true;
  const acpi = device.description.acpiIds ?? [];
  if (acpi.some((id) => driver.acpiMatchTable?.includes(id) === true)) return true;
  if (driver.idTable !== undefined) return driver.idTable.includes(device.platformName);
  return device.platformName === driver.name;
}
