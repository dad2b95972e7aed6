import type { Device, DriverSpec } from './device.js';
import type { AmbaId, MatchInfo } from './match-info.js';

const OVERRIDE: MatchInfo = { reason: 'driver_override' };
const ANY: MatchInfo = { reason: 'match_any_device' };
const NAME: MatchInfo = { reason: 'name' };

/**
 * `amba_lookup()` (drivers/amba/bus.c): the first entry with `(periphid & mask) === id`; a
 * zero mask terminates the table.
 */
export function ambaLookup(table: readonly AmbaId[] | undefined, periphid: number): AmbaId | undefined {
  if (table === undefined) return undefined;
  for (const entry of table) {
    if (entry.mask === 0) return undefined;
    if ((periphid & entry.mask) >>> 0 === entry.id >>> 0) return entry;
  }
  return undefined;
}

/**
 * `platform_match()` (drivers/base/platform.c), with the 2013 wildcard proposal:
 * 1. `driver_override`, when set, decides alone (match iff it equals the driver name);
 * 2. `matchAnyDevice` (the proposal's `match_any_dev`) matches anything else;
 * 3. OF: a device compatible string in the driver's `of_match_table` (the entry for the
 *    earliest device compatible, as of_match_node() scores it);
 * 4. ACPI ids;
 * 5. the `id_table`, which is final when present: a miss does not fall back to the name;
 * 6. the driver name equals `pdev->name` ({@link Device.platformName}).
 * Returns how it matched, or `null`.
 */
export function platformMatch(device: Device, driver: DriverSpec): MatchInfo | null {
  const override = device.driverOverride;
  if (override !== null) return override === driver.name ? OVERRIDE : null;
  if (driver.matchAnyDevice === true) return ANY;
  const table = driver.ofMatchTable;
  if (table !== undefined) {
    for (const compatible of device.compatible) {
      if (table.includes(compatible)) return { reason: 'of', compatible };
    }
  }
  const acpi = driver.acpiMatchTable;
  const acpiIds = device.description.acpiIds;
  if (acpi !== undefined && acpiIds !== undefined) {
    for (const id of acpiIds) if (acpi.includes(id)) return { reason: 'acpi', id };
  }
  // platform_match_id() and the name fall-back compare `pdev->name`, not dev_name(): a
  // device `serial8250.0` (pdev->name "serial8250", id 0) binds driver `serial8250`.
  const name = device.platformName;
  if (driver.idTable !== undefined) {
    return driver.idTable.includes(name) ? { reason: 'id_table', id: name } : null;
  }
  return name === driver.name ? NAME : null;
}

/**
 * What an AMBA probe is told when something other than the id table decided the match:
 * amba_probe() (drivers/amba/bus.c) runs amba_lookup() itself, so the driver still gets the
 * table entry that fits the periphid, or none (vfio-amba's empty table).
 */
export function ambaMatchInfo(
  reason: 'driver_override' | 'match_any_device' | 'sysfs_bind',
  device: Device,
  driver: DriverSpec,
): MatchInfo {
  const ambaId = ambaLookup(driver.ambaIdTable, device.periphid);
  return ambaId === undefined ? { reason } : { reason, ambaId };
}

/**
 * `amba_match()` (drivers/amba/bus.c) once the periphid is known (the caller reads it first
 * and turns a failed read into `EPROBE_DEFER`): `driver_override` decides alone when set,
 * then the wildcard proposal, then the id table with masks.
 */
export function ambaMatch(device: Device, driver: DriverSpec): MatchInfo | null {
  const override = device.driverOverride;
  if (override !== null) {
    return override === driver.name ? ambaMatchInfo('driver_override', device, driver) : null;
  }
  if (driver.matchAnyDevice === true) return ambaMatchInfo('match_any_device', device, driver);
  const entry = ambaLookup(driver.ambaIdTable, device.periphid);
  return entry === undefined ? null : { reason: 'amba_id', ambaId: entry };
}
