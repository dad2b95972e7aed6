/**
 * Which kernel's `drivers/of` to model where it changed inside the releases this package
 * claims (v6.12 to v6.18). Upstream behaviour by default: the newest of them.
 */
import { checkKernelVersion, type KernelVersion, kernelAtLeast } from '@vfiokit/core';

/** The releases whose `drivers/of` this package models. */
export const OF_KERNEL_RANGE: { readonly min: KernelVersion; readonly max: KernelVersion } = Object.freeze({
  min: Object.freeze([6, 12] as const),
  max: Object.freeze([6, 18] as const),
});

/** The default `kernel`: v6.18. */
export const DEFAULT_OF_KERNEL: KernelVersion = OF_KERNEL_RANGE.max;

/** The version a caller passed, checked against {@link OF_KERNEL_RANGE}, or the default. */
export function ofKernel(kernel: KernelVersion | undefined, where: string): KernelVersion {
  return kernel === undefined || kernel === DEFAULT_OF_KERNEL
    ? DEFAULT_OF_KERNEL
    : checkKernelVersion(kernel, where, OF_KERNEL_RANGE);
}

/**
 * v6.13+ (commit 6e5773d52f4a "of/address: Fix WARN when attempting translating
 * non-translatable addresses", merged for v6.13-rc7 with devicetree-fixes-for-6.13-2):
 * of_match_bus() gives the default and default-flags translators only to a bus node that has
 * `#address-cells` itself; a node with none matches no translator, so addresses below it do
 * not translate and __of_get_address() finds no `reg`. Before, `#address-cells` was looked
 * up through the ancestors (v6.12 is the last release without the check).
 */
export function busMatchNeedsOwnAddressCells(kernel: KernelVersion): boolean {
  return kernelAtLeast(kernel, 6, 13);
}
