import type { BusName } from './description.js';
import type { Device, DriverSpec } from './device.js';
import type { MatchInfo } from './match-info.js';

/**
 * What differs between buses (`struct bus_type`): the match function, the modalias, the
 * device attributes, and whether a device must be identified before it can be matched.
 * Everything else — probe, bind, deferral, release — is the one driver core.
 */
export interface BusType {
  readonly name: BusName;
  /** Whether devices carry `pdev->id` (platform) or refuse one (AMBA). */
  readonly deviceIds: boolean;
  /** The bus's `dev_groups` attribute files, in addition to the core's. */
  readonly attributes: readonly string[];
  /** `bus->match` for an identified device: how `driver` matches `device`, or `null`. */
  match(device: Device, driver: DriverSpec): MatchInfo | null;
  /** What probe is told when a sysfs bind goes ahead although the match deferred. */
  forcedMatch(device: Device, driver: DriverSpec): MatchInfo;
  /** The `modalias` file and the uevent's `MODALIAS=`. */
  modalias(device: Device): string;
  /** Whether the device is identified, so its match can be decided. */
  identified(device: Device): boolean;
  /** Identifies the device (AMBA: reads the PrimeCell IDs); throws a `KernelError` when it cannot yet. */
  identify(device: Device): number;
}
