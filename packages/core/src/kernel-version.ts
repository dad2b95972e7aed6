import { KernelError } from './kernel-error.js';

/**
 * A Linux kernel release as `[major, minor]` (`[6, 12]` is v6.12): what a package's
 * `kernel` option takes where the modelled behaviour changed between releases. One meaning
 * for every package, so a VMM can pass the same value to each.
 */
export type KernelVersion = readonly [major: number, minor: number];

/** Whether `version` is `major.minor` or later. */
export function kernelAtLeast(version: KernelVersion, major: number, minor: number): boolean {
  const [a, b] = version;
  return a > major || (a === major && b >= minor);
}

/**
 * Checks a {@link KernelVersion} a caller passed: two non-negative integers, and, when a
 * range is given, inside it (a package only claims fidelity for the releases it modelled).
 * Throws `KernelError` `EINVAL` naming `where`; returns the version for chaining.
 */
export function checkKernelVersion(
  value: unknown,
  where: string,
  range?: { readonly min: KernelVersion; readonly max: KernelVersion },
): KernelVersion {
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !value.every((part) => Number.isSafeInteger(part) && (part as number) >= 0)
  ) {
    throw new KernelError('EINVAL', `${where}: kernel version must be [major, minor], not ${String(value)}`);
  }
  const version = value as unknown as KernelVersion;
  if (
    range !== undefined &&
    (!kernelAtLeast(version, range.min[0], range.min[1]) ||
      kernelAtLeast(version, range.max[0], range.max[1] + 1))
  ) {
    throw new KernelError(
      'EINVAL',
      `${where}: v${version.join('.')} is outside the modelled v${range.min.join('.')}–v${range.max.join('.')}`,
    );
  }
  return version;
}
