import type { Device, DriverSpec } from '../device.js';
import type { MatchReason } from '../match-info.js';

/** What one rule of a bus's match function says about a device/driver pair. */
type Verdict = 'match' | 'no-match' | 'next';

/** One row of a match table: a rule from the kernel source, in the order the source tests it. */
interface MatchRule {
  readonly rule: MatchReason;
  /** Where the kernel decides it. */
  readonly source: string;
  readonly verdict: (device: Device, driver: DriverSpec) => Verdict;
}

/** The reference's answer: the rule that decided a match (and the compatible string for OF). */
export interface ReferenceMatch {
  readonly reason: MatchReason;
  /** OF only: the device compatible that matched — the earliest one in the device's list. */
  readonly compatible?: string;
}

const decide = (matches: boolean, final: boolean): Verdict =>
  matches ? 'match' : final ? 'no-match' : 'next';

/** `driver_override`, when set, decides alone: both buses test it first. */
const OVERRIDE = (source: string): MatchRule => ({
  rule: 'driver_override',
  source,
  verdict: (device, driver) =>
    device.driverOverride === null ? 'next' : decide(device.driverOverride === driver.name, true),
});

/** The 2013 `match_any_dev` proposal: after the override, before anything else. */
const MATCH_ANY: MatchRule = {
  rule: 'match_any_device',
  source: 'vfio-platform proposal (2013): match_any_dev',
  verdict: (_device, driver) => (driver.matchAnyDevice === true ? 'match' : 'next'),
};

/**
 * platform_match() (drivers/base/platform.c) as a table: override → OF
 * (of_driver_match_device: any of the device's compatibles in the driver's table) → ACPI
 * (acpi_driver_match_device) → the id table, final when present (platform_match_id compares
 * `pdev->name`) → the driver name against `pdev->name`.
 */
const PLATFORM_TABLE: readonly MatchRule[] = [
  OVERRIDE('drivers/base/platform.c platform_match: driver_override'),
  MATCH_ANY,
  {
    rule: 'of',
    source: 'drivers/of/device.c of_driver_match_device',
    verdict: (device, driver) =>
      decide(
        device.compatible.some((c) => (driver.ofMatchTable ?? []).includes(c)),
        false,
      ),
  },
  {
    rule: 'acpi',
    source: 'drivers/acpi/bus.c acpi_driver_match_device',
    verdict: (device, driver) =>
      decide(
        (device.description.acpiIds ?? []).some((id) => (driver.acpiMatchTable ?? []).includes(id)),
        false,
      ),
  },
  {
    rule: 'id_table',
    source: 'drivers/base/platform.c platform_match_id',
    verdict: (device, driver) =>
      driver.idTable === undefined ? 'next' : decide(driver.idTable.includes(device.platformName), true),
  },
  {
    rule: 'name',
    source: 'drivers/base/platform.c platform_match: strcmp(pdev->name, drv->name)',
    verdict: (device, driver) => decide(device.platformName === driver.name, true),
  },
];

/**
 * amba_match() (drivers/amba/bus.c) for a known periphid, as a table: override → the id
 * table, each entry `(periphid & mask) == id` until the zero-mask terminator (amba_lookup).
 */
const AMBA_TABLE: readonly MatchRule[] = [
  OVERRIDE('drivers/amba/bus.c amba_match: driver_override'),
  MATCH_ANY,
  {
    rule: 'amba_id',
    source: 'drivers/amba/bus.c amba_lookup',
    verdict: (device, driver) => {
      const table = driver.ambaIdTable ?? [];
      const end = table.findIndex((entry) => entry.mask === 0);
      const live = end < 0 ? table : table.slice(0, end);
      // u32 arithmetic in BigInt, so no JavaScript sign bit can creep in.
      const periphid = BigInt(device.periphid >>> 0);
      return decide(
        live.some((entry) => (periphid & BigInt(entry.mask >>> 0)) === BigInt(entry.id >>> 0)),
        true,
      );
    },
  },
];

/**
 * An independent statement of the kernel's match rules, written as tables from the kernel
 * sources (not from this package's `platformMatch`/`ambaMatch`), so the race suite can check
 * every bind the bus decides against it: the rule that decided, or `null` for no match.
 */
export function referenceMatch(device: Device, driver: DriverSpec): ReferenceMatch | null {
  const table = device.bus === 'amba' ? AMBA_TABLE : PLATFORM_TABLE;
  for (const row of table) {
    const verdict = row.verdict(device, driver);
    if (verdict === 'next') continue;
    if (verdict === 'no-match') return null;
    if (row.rule !== 'of') return { reason: row.rule };
    // of_match_node() scores a table entry by how early its compatible comes in the
    // device's list: the earliest device compatible the driver lists wins.
    const compatible = device.compatible.find((c) => (driver.ofMatchTable ?? []).includes(c));
    return compatible === undefined ? { reason: row.rule } : { reason: row.rule, compatible };
  }
  return null;
}

/** Whether the kernel's rules match `driver` to `device` (see {@link referenceMatch}). */
export function referenceMatches(device: Device, driver: DriverSpec): boolean {
  return referenceMatch(device, driver) !== null;
}
