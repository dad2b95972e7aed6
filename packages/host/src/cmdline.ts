import { KernelError } from '@vfiokit/core';

/** One `param[=value]` of the kernel command line, as kernel/params.c next_arg() splits it. */
export interface CmdlineParam {
  /** The name as written. */
  readonly name: string;
  /** The value after `=`, quotes removed; `undefined` for a bare `param`. */
  readonly value: string | undefined;
}

/**
 * Splits a command line as kernel/params.c `next_arg()` does: spaces separate parameters,
 * double quotes protect spaces (`param="a b"` → value `a b`, quotes dropped), and `--`
 * ends the kernel's parameters (everything after it is init's). Returns the kernel's
 * parameters and init's own arguments.
 */
export function splitCmdline(cmdline: string): { params: CmdlineParam[]; afterDashes: string[] } {
  const params: CmdlineParam[] = [];
  const afterDashes: string[] = [];
  let dashes = false;
  let i = 0;
  while (i < cmdline.length) {
    while (i < cmdline.length && isSpace(cmdline[i]!)) i++;
    if (i >= cmdline.length) break;
    let inQuote = false;
    const start = i;
    let equals = -1;
    for (; i < cmdline.length; i++) {
      const c = cmdline[i]!;
      if (isSpace(c) && !inQuote) break;
      if (equals < 0 && c === '=') equals = i - start;
      if (c === '"') inQuote = !inQuote;
    }
    let arg = cmdline.slice(start, i);
    // next_arg(): a leading quote is dropped, and so is a closing quote at the end.
    if (arg.startsWith('"')) {
      arg = arg.slice(1);
      if (equals >= 0) equals--;
    }
    if (arg.endsWith('"')) arg = arg.slice(0, -1);
    if (dashes) {
      afterDashes.push(arg);
      continue;
    }
    if (arg === '--') {
      dashes = true;
      continue;
    }
    if (equals < 0) params.push({ name: arg, value: undefined });
    else {
      let value = arg.slice(equals + 1);
      if (value.startsWith('"')) value = value.slice(1);
      params.push({ name: arg.slice(0, equals), value });
    }
  }
  return { params, afterDashes };
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
}

/** `parameq()`: parameter names compare with `-` and `_` as the same character. */
export function normalizeParamName(name: string): string {
  return name.replace(/-/g, '_');
}

/**
 * `param_set_bool()` → `kstrtobool()` (lib/kstrtox.c): `y`/`Y`/`1`/`on` are true,
 * `n`/`N`/`0`/`off` false, judged by the first one or two characters; a bare parameter
 * (no `=`) is true. Anything else is `EINVAL`.
 */
export function kstrtobool(value: string | undefined): boolean {
  if (value === undefined) return true;
  const c0 = value[0];
  if (c0 === 'y' || c0 === 'Y' || c0 === '1') return true;
  if (c0 === 'n' || c0 === 'N' || c0 === '0') return false;
  if (c0 === 'o' || c0 === 'O') {
    const c1 = value[1];
    if (c1 === 'n' || c1 === 'N') return true;
    if (c1 === 'f' || c1 === 'F') return false;
  }
  throw new KernelError('EINVAL', `'${value}' is not a boolean`);
}

/** `param_set_uint()` → `kstrtouint(val, 0, …)`: decimal, `0x` hex or leading-0 octal, one trailing newline. */
export function kstrtouint(value: string | undefined): number {
  const text = (value ?? '').replace(/\n$/, '');
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) n = Number.parseInt(text.slice(2), 16);
  else if (/^0[0-7]*$/.test(text)) n = Number.parseInt(text, 8);
  else if (/^\+?[1-9][0-9]*$/.test(text)) n = Number.parseInt(text, 10);
  else throw new KernelError('EINVAL', `'${value ?? ''}' is not an unsigned integer`);
  if (n > 0xffffffff) throw new KernelError('ERANGE', `${text} does not fit in 32 bits`);
  return n;
}
