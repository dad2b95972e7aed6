import { KernelError } from '@vfiokit/core';

/** A module parameter's value as written to `/sys/module/<m>/parameters/<p>` or the command line. */
export type ModuleParamValue = string | boolean | number;

/** `kstrtobool` (lib/kstrtox.c), as `param_set_bool` uses it: `EINVAL` for anything else. */
export function parseBoolParam(name: string, value: ModuleParamValue): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (value === 0 || value === 1) return value === 1;
    throw new KernelError('EINVAL', `${name}: ${value} is not a bool`);
  }
  // kstrtobool looks at the first character (two for "on"/"off"); an empty string is EINVAL.
  const c = value[0];
  if (c === 'y' || c === 'Y' || c === 't' || c === 'T' || c === '1') return true;
  if (c === 'n' || c === 'N' || c === 'f' || c === 'F' || c === '0') return false;
  if (c === 'o' || c === 'O') {
    const d = value[1];
    if (d === 'n' || d === 'N') return true;
    if (d === 'f' || d === 'F') return false;
  }
  throw new KernelError('EINVAL', `${name}: '${value}' is not a bool`);
}

/** `param_set_uint` (kstrtouint, base 0: `0x` hex, leading `0` octal): `EINVAL` for anything not a u32. */
export function parseUintParam(name: string, value: ModuleParamValue): number {
  let n = Number.NaN;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const text = value.replace(/\n$/, '');
    if (/^0x[0-9a-f]+$/i.test(text)) n = Number.parseInt(text.slice(2), 16);
    else if (/^0[0-7]*$/.test(text)) n = Number.parseInt(text, 8);
    else if (/^[1-9][0-9]*$/.test(text)) n = Number.parseInt(text, 10);
  }
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffff_ffff)
    throw new KernelError('EINVAL', `${name}: '${String(value)}' is not an unsigned int`);
  return n;
}
