import { KernelError } from './kernel-error.js';

/**
 * Refuses an options object that carries a key the callee does not know, so that a typo
 * (`{ semaphor: true }`) is an error instead of a silent default. Every vfiokit options
 * object goes through this one helper, so the message reads the same everywhere.
 *
 * - `options` `undefined` is accepted (all defaults); `null`, arrays and non-objects are
 *   refused, since no options parameter in vfiokit takes them.
 * - Only own enumerable string keys are checked (what an object literal spells); a key that
 *   is present with the value `undefined` is still checked, because its name is the typo.
 * - `allowedKeys` is typed against the options type, so the list cannot name a key the type
 *   lacks; the type cannot force it to be complete, which the callee's tests must show.
 *
 * Throws `KernelError` `EINVAL` (what the kernel returns for an unknown flag or field)
 * with a message `"<where>: unknown option 'k' (valid options: a, b)"`.
 */
export function rejectUnknownOptions<T extends object>(
  options: T | undefined,
  allowedKeys: readonly (keyof T & string)[],
  where: string,
): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new KernelError(
      'EINVAL',
      `${where}: options must be an object, not ${describe(options as unknown)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!(allowedKeys as readonly string[]).includes(key)) {
      const valid = allowedKeys.length === 0 ? 'none' : allowedKeys.join(', ');
      throw new KernelError('EINVAL', `${where}: unknown option '${key}' (valid options: ${valid})`);
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
