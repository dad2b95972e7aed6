/**
 * The interrupt controllers set up at boot before any device exists: drivers/of/irq.c
 * (v6.12) of_irq_init(), as irqchip_init() runs it over `__irqchip_of_table`.
 */
import { isFdtError } from './fdt-error.js';
import { findInterruptParent } from './of-irq.js';
import { propertyU32 } from './of-prop.js';
import type { OfNode, OfTree } from './of-tree.js';

// desc->interrupt_parent: the first phandle of `interrupts-extended`
// (of_parse_phandle(np, "interrupts-extended", 0)), else of_irq_find_parent(np); a
// controller that is its own parent is a root (NULL). of_irq_find_parent() ends with NULL on
// a phandle no node has, so such a controller counts as a root too; on an interrupt-parent
// loop the kernel never returns, and the model leaves the controller uninitialised.
function initParent(tree: OfTree, node: OfNode): OfNode | null | 'loop' {
  const extended = node.property('interrupts-extended');
  const first = extended === undefined ? undefined : propertyU32(extended.value, 0);
  let parent = first === undefined ? undefined : tree.nodeByPhandle(first);
  if (parent === undefined) {
    try {
      parent = findInterruptParent(tree, node);
    } catch (error) {
      if (isFdtError(error, 'CYCLE')) return 'loop';
      if (!isFdtError(error, 'BADPHANDLE')) throw error;
      parent = undefined;
    }
  }
  return parent === undefined || parent === node ? null : parent;
}

/**
 * of_irq_init(matches): the available nodes with `interrupt-controller` that match one of
 * `compatibles`, in the order the kernel initialises them — root controllers (no interrupt
 * parent) first, then those whose parent is already set up, level by level. A controller
 * whose parent is never initialised (not matched, unavailable, or itself stranded) is left
 * out, as the kernel leaves it ("children remain, but no parents"). Every node returned gets
 * OF_POPULATED, so of_platform_populate() creates no device for it. Driver init failures
 * (which clear the flag again) are not modelled.
 */
export function irqchipInitOrder(tree: OfTree, compatibles: readonly string[]): OfNode[] {
  // for_each_matching_node_and_match(): every node in tree order; children grouped by
  // parent keep that order, which is the order the kernel's list walk meets them.
  const byParent = new Map<OfNode | null, OfNode[]>();
  for (const node of tree.nodes) {
    if (!node.has('interrupt-controller') || !node.available) continue;
    if (!compatibles.some((c) => node.isCompatible(c))) continue;
    const parent = initParent(tree, node);
    if (parent === 'loop') continue;
    const siblings = byParent.get(parent) ?? [];
    siblings.push(node);
    byParent.set(parent, siblings);
  }
  const order: OfNode[] = [];
  // intc_parent_list: controllers set up, in order, whose children are handled next.
  const queue: (OfNode | null)[] = [null];
  for (let head = 0; head < queue.length; head++) {
    const parent = queue[head]!;
    for (const node of byParent.get(parent) ?? []) {
      order.push(node);
      queue.push(node);
    }
    byParent.delete(parent);
  }
  return order;
}
