/**
 * The string a C store function sees in a sysfs write buffer: everything before the first
 * NUL (sysfs NUL-terminates the copied buffer, so `"d0\0junk"` is `"d0"` to strcmp).
 */
export function cString(value: string): string {
  const nul = value.indexOf('\0');
  return nul < 0 ? value : value.slice(0, nul);
}

/**
 * `sysfs_streq()` (lib/string.c) on C strings: equal, or equal but for one trailing newline
 * on either side (what `echo` appends).
 */
export function sysfsStreq(a: string, b: string): boolean {
  const s1 = cString(a);
  const s2 = cString(b);
  if (s1 === s2) return true;
  if (s2.length === s1.length + 1 && s2.endsWith('\n') && s2.startsWith(s1)) return true;
  return s1.length === s2.length + 1 && s1.endsWith('\n') && s1.startsWith(s2);
}

/**
 * The name `bus_find_device_by_name()` can find for `written` (device_match_name →
 * sysfs_streq against a device name, which never ends in a newline): the C string without
 * one trailing newline.
 */
export function lookupName(written: string): string {
  const name = cString(written);
  return name.endsWith('\n') ? name.slice(0, -1) : name;
}
