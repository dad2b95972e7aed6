import { readPeriphid } from './amba-periphid.js';
import type { BusType } from './bus-type.js';
import { stateOf } from './device.js';
import { ambaMatch, ambaMatchInfo } from './match.js';
import { ambaModalias } from './modalias.js';

/**
 * `amba_bustype` (drivers/amba/bus.c): amba_match over the periphid, which must be read from
 * the PrimeCell ID registers first; the `id`, `resource` and `driver_override` attributes
 * (amba_dev_attrs: no `modalias` file, the modalias only travels in the uevent).
 */
export const ambaBusType: BusType = {
  name: 'amba',
  deviceIds: false,
  attributes: ['driver_override', 'id', 'resource'],
  match: ambaMatch,
  forcedMatch: (device, driver) => ambaMatchInfo('sysfs_bind', device, driver),
  modalias: ambaModalias,
  identified: (device) => device.periphid !== 0,
  // ioremap of the whole resource (resource_size(&dev->res)); a device made in code without
  // regions uses its register model's size.
  identify: (device) =>
    readPeriphid(stateOf(device).primecell, device.regions[0]?.size ?? stateOf(device).primecell?.size ?? 0),
};
