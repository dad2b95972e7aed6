import { ambaBusType } from './amba-bus-type.js';
import type { BusType } from './bus-type.js';
import type { BusName } from './description.js';
import type { Device } from './device.js';
import { platformBusType } from './platform-bus-type.js';

/** The bus types by name. */
export const BUS_TYPES: Readonly<Record<BusName, BusType>> = Object.freeze({
  platform: platformBusType,
  amba: ambaBusType,
});

/**
 * The device's `modalias` (also the uevent `MODALIAS=`), as its bus prints it: AMBA
 * `amba:d%08X` (drivers/amba/bus.c amba_uevent); an OF platform device
 * `of:N<name>T<type>C<compat>…` (drivers/of/device.c of_modalias); an ACPI device
 * `acpi:<id>:`; otherwise `platform:<pdev->name>` (drivers/base/platform.c modalias_show).
 */
export function modalias(device: Device): string {
  return BUS_TYPES[device.bus].modalias(device);
}
