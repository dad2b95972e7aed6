import type { BusType } from './bus-type.js';
import { platformMatch } from './match.js';
import { platformModalias } from './modalias.js';

/** `platform_bus_type` (drivers/base/platform.c): platform_match, modalias and driver_override attributes. */
export const platformBusType: BusType = {
  name: 'platform',
  deviceIds: true,
  attributes: ['driver_override', 'modalias'],
  match: platformMatch,
  forcedMatch: () => ({ reason: 'sysfs_bind' }),
  modalias: platformModalias,
  identified: () => true,
  identify: (device) => device.periphid,
};
