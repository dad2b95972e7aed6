/**
 * Device names as the kernel makes them. Mirrors of_device_make_bus_id() of Linux v6.x: it
 * lived in drivers/of/platform.c and was later moved, unchanged and exported, to
 * drivers/of/device.c. The modelled version includes the 2021 change that names a node with
 * a `mask` property `<addr>.<ffs(mask)-1>.<name>`; kernels before it ignore `mask` (that is
 * the only difference across v5.x–v6.x for the names modelled here).
 */
import type { KernelVersion } from '@vfiokit/core';
import { translateAddress } from './of-address.js';
import { ofKernel } from './of-kernel.js';
import { propertyCells } from './of-prop.js';
import type { OfNode } from './of-tree.js';

// ffs(): 1-based index of the lowest set bit, 0 for 0.
function ffs(value: number): number {
  if (value === 0) return 0;
  return 32 - Math.clz32(value & -value);
}

/**
 * of_device_make_bus_id(): walking from the node towards the root, the first node whose
 * first `reg` entry translates to a CPU address gives `"<addr>.<name>"` (`%llx.%pOFn`: hex
 * without leading zeros, name without unit address), prefixed to what was collected so far
 * with `:`; a node without a translatable `reg` contributes its full name (`kbasename`,
 * unit address included). Examples: `7ff00000.dma-controller`, `12ce0000.i2c`,
 * `soc:leds` (no `reg` anywhere up), `40000000.bus:leds`.
 */
export function makeBusId(node: OfNode, kernel?: KernelVersion): string {
  const version = ofKernel(kernel, 'makeBusId');
  let name: string | undefined;
  for (let current: OfNode = node; current.parent !== undefined; current = current.parent) {
    const reg = current.property('reg');
    const address =
      reg === undefined ? undefined : translateAddress(current, propertyCells(reg.value), version);
    if (address !== undefined) {
      const mask = current.u32('mask');
      const hex = address.toString(16);
      // %x of the int ffs(mask) - 1: -1 (mask 0) prints as ffffffff.
      const head =
        mask === undefined
          ? `${hex}.${current.name}`
          : `${hex}.${((ffs(mask) - 1) >>> 0).toString(16)}.${current.name}`;
      return name === undefined ? head : `${head}:${name}`;
    }
    name = name === undefined ? current.fullName : `${current.fullName}:${name}`;
  }
  // Only the root has no parent, and populate never names the root.
  return name ?? '';
}
