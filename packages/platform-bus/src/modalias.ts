import type { Device } from './device.js';

/** The node name of a device-tree path without its unit address (`/soc/i2c@12ce0000` → `i2c`). */
function nodeName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const at = base.indexOf('@');
  return at < 0 ? base : base.slice(0, at);
}

/** `MODALIAS=amba:d%08X` (drivers/amba/bus.c amba_uevent). */
export function ambaModalias(device: Device): string {
  return `amba:d${device.periphid.toString(16).toUpperCase().padStart(8, '0')}`;
}

/**
 * A platform device's modalias (drivers/base/platform.c modalias_show / platform_uevent):
 * an OF device `of:N<name>T<type>C<compat>…` (drivers/of/module.c of_modalias, type `(null)`
 * without `device_type`, a space in a compatible as `_`); an ACPI device `acpi:<id>:`; otherwise `platform:<pdev->name>` —
 * `platform:serial8250` for `serial8250.0`, a `/` kept.
 */
export function platformModalias(device: Device): string {
  const { ofNode, acpiIds } = device.description;
  if (ofNode !== undefined) {
    // of_modalias() rewrites each space of a compatible string as `_` in the modalias.
    return `of:N${nodeName(ofNode)}T(null)${device.compatible.map((c) => `C${c.replaceAll(' ', '_')}`).join('')}`;
  }
  if (acpiIds !== undefined && acpiIds.length > 0) return `acpi:${acpiIds.join(':')}:`;
  return `platform:${device.platformName}`;
}
