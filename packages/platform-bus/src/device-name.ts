import { KernelError } from '@vfiokit/core';

/** `PLATFORM_DEVID_NONE` (include/linux/platform_device.h): the device is named `pdev->name`. */
export const PLATFORM_DEVID_NONE = -1;
/** `PLATFORM_DEVID_AUTO`: the core picks the lowest free id and names the device `<name>.<id>.auto`. */
export const PLATFORM_DEVID_AUTO = -2;

/**
 * `dev_name()` of a platform device as platform_device_add() (drivers/base/platform.c) sets
 * it from `pdev->name` and `pdev->id`: `"%s.%d"` for an id ≥ 0, `"%s"` for
 * PLATFORM_DEVID_NONE (every device-tree device), `"%s.%d.auto"` for an allocated id. The
 * kobject layer then replaces each `/` with `!` (lib/kobject.c kobject_set_name_vargs),
 * since the name is a sysfs directory; `pdev->name` itself keeps its `/`.
 */
export function platformDeviceName(name: string, id: number, auto: boolean): string {
  const base = id === PLATFORM_DEVID_NONE ? name : auto ? `${name}.${id}.auto` : `${name}.${id}`;
  return kobjectName(base);
}

/** lib/kobject.c kobject_set_name_vargs(): a `/` in a kobject name becomes `!`. */
export function kobjectName(name: string): string {
  // Most names have no `/`: return them as they are rather than build a copy per device.
  return name.includes('/') ? name.replaceAll('/', '!') : name;
}

/** Checks `pdev->id`: an integer ≥ PLATFORM_DEVID_AUTO. */
export function checkPlatformId(id: number): void {
  if (!Number.isInteger(id) || id < PLATFORM_DEVID_AUTO || id > 0x7fffffff) {
    throw new KernelError('EINVAL', `invalid platform device id ${id}`);
  }
}

/** `pdev->name` and `pdev->id` of a platform device. */
export interface PlatformNaming {
  readonly platformName: string;
  readonly id: number;
  /** The id came from PLATFORM_DEVID_AUTO (the name ends in `.auto`). */
  readonly auto: boolean;
}

/**
 * Reads `pdev->name` and `pdev->id` back from a device name platform_device_add() built:
 * `serial8250.0` → (`serial8250`, 0), `alarmtimer.0.auto` → (`alarmtimer`, 0, auto). Only a
 * trailing `.<decimal id>` (as `%d` prints it) or `.<id>.auto` counts; anything else
 * (`12ce0000.i2c`, `9020000.fw-cfg`) is no id.
 */
export function splitPlatformName(name: string): PlatformNaming | undefined {
  // Every name the pattern accepts ends in a digit or `.auto`; device-tree style names
  // (`12ce0000.i2c`) are turned away without running the regex on each device add.
  const last = name.charCodeAt(name.length - 1);
  if (!(last >= 0x30 && last <= 0x39) && !name.endsWith('.auto')) return undefined;
  const match = /^(.+)\.(0|[1-9]\d{0,9})(\.auto)?$/.exec(name);
  if (match === null) return undefined;
  const id = Number(match[2]);
  if (id > 0x7fffffff) return undefined;
  return { platformName: match[1]!, id, auto: match[3] !== undefined };
}
