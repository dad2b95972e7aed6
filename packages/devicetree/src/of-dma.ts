/**
 * DMA coherency as the kernel decides it. Mirrors drivers/of/address.c:
 * __of_get_dma_parent() and of_dma_is_coherent().
 */
import { FdtError } from './fdt-error.js';
import { parsePhandleWithArgs } from './of-phandle.js';
import type { OfNode, OfTree } from './of-tree.js';

/**
 * drivers/of/address.c: __of_get_dma_parent(): the node's DMA parent is the target of its
 * `interconnects` entry named `"dma-mem"` (in `interconnect-names`), else its tree parent;
 * a broken interconnect reference also falls back to the tree parent, as in the kernel.
 */
export function dmaParent(tree: OfTree, node: OfNode): OfNode | undefined {
  const index = node.strings('interconnect-names').indexOf('dma-mem');
  if (index < 0) return node.parent;
  try {
    return (
      parsePhandleWithArgs(tree, node, 'interconnects', '#interconnect-cells', index)?.target ?? node.parent
    );
  } catch {
    return node.parent;
  }
}

/**
 * drivers/of/address.c: of_dma_is_coherent(): walk from the node up its DMA parents; the
 * first `dma-coherent` makes it coherent, the first `dma-noncoherent` makes it not; with
 * neither, `dma_default_coherent`, which is false on arm64 (no
 * CONFIG_ARCH_DMA_DEFAULT_COHERENT). A bus node's `dma-coherent` therefore covers its
 * children. An `interconnects` loop throws `CYCLE` (the kernel would not return).
 */
export function isDmaCoherent(tree: OfTree, node: OfNode, defaultCoherent = false): boolean {
  const seen = new Set<OfNode>();
  for (let current: OfNode | undefined = node; current !== undefined; current = dmaParent(tree, current)) {
    if (seen.has(current)) {
      throw new FdtError('CYCLE', `DMA parent chain loops at ${current.path}`, { path: node.path });
    }
    seen.add(current);
    if (current.has('dma-coherent')) return true;
    if (current.has('dma-noncoherent')) return false;
  }
  return defaultCoherent;
}
