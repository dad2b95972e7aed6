/**
 * `#address-cells` / `#size-cells` as the kernel reads them.
 *
 * drivers/of/base.c: of_bus_n_addr_cells() looks at the node itself, then walks up the
 * ancestors (deprecated, with a WARN_ONCE, but still done) and falls back to
 * OF_ROOT_NODE_ADDR_CELLS_DEFAULT; of_n_addr_cells(np) starts at np's parent.
 * drivers/of/of_private.h: the defaults are 1 address cell (2 on sparc) and 1 size cell —
 * not the devicetree specification's 2/1. vfiokit models arm64, so 1/1.
 */
import type { OfNode } from './of-tree.js';

/** drivers/of/of_private.h: OF_ROOT_NODE_ADDR_CELLS_DEFAULT (non-sparc). */
export const OF_ROOT_NODE_ADDR_CELLS_DEFAULT = 1;
/** drivers/of/of_private.h: OF_ROOT_NODE_SIZE_CELLS_DEFAULT. */
export const OF_ROOT_NODE_SIZE_CELLS_DEFAULT = 1;

/** drivers/of/base.c: of_bus_n_addr_cells(): `#address-cells` of `bus` or its nearest ancestor. */
export function busAddressCells(bus: OfNode): number {
  for (let node: OfNode | undefined = bus; node !== undefined; node = node.parent) {
    const cells = node.u32('#address-cells');
    if (cells !== undefined) return cells;
  }
  return OF_ROOT_NODE_ADDR_CELLS_DEFAULT;
}

/** drivers/of/base.c: of_bus_n_size_cells(). */
export function busSizeCells(bus: OfNode): number {
  for (let node: OfNode | undefined = bus; node !== undefined; node = node.parent) {
    const cells = node.u32('#size-cells');
    if (cells !== undefined) return cells;
  }
  return OF_ROOT_NODE_SIZE_CELLS_DEFAULT;
}

/** drivers/of/base.c: of_n_addr_cells(): the address cells of `node`'s own `reg` (its parent's bus). */
export function addressCells(node: OfNode): number {
  return busAddressCells(node.parent ?? node);
}

/** drivers/of/base.c: of_n_size_cells(). */
export function sizeCells(node: OfNode): number {
  return busSizeCells(node.parent ?? node);
}
