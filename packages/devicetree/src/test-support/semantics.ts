// Every semantic lookup of the package on every node of a tree, for the fuzz tests: each must
// answer or throw an FdtError; anything else (RangeError, TypeError, a plain Error) escapes.
import { isFdtError } from '../fdt-error.js';
import { addressResources } from '../of-address.js';
import { isDmaCoherent } from '../of-dma.js';
import { findInterruptParent, parseIrqs } from '../of-irq.js';
import { LINK_SPECS } from '../of-links.js';
import { msiControllers } from '../of-msi.js';
import { iteratePhandles } from '../of-phandle.js';
import { OfTree } from '../of-tree.js';
import { populate } from '../populate.js';
import type { DeviceTree } from '../tree.js';

/** How the lookups on one tree ended. */
export interface SemanticOutcome {
  /** Devices populate() created. */
  readonly devices: number;
  /** FdtError codes thrown by lookups or reported as device issues, with their counts. */
  readonly codes: ReadonlyMap<string, number>;
}

/**
 * Runs populate() (which must not throw at all) and, on every node, the interrupt-parent
 * walk, of_irq_count()-style interrupt resolution, DMA coherency, every link list, `reg`
 * translation, plus alias resolution and the MSI controller list. Throws whatever is not an
 * FdtError.
 */
export function exerciseSemantics(tree: DeviceTree): SemanticOutcome {
  const codes = new Map<string, number>();
  const count = (code: string): void => {
    codes.set(code, (codes.get(code) ?? 0) + 1);
  };
  const attempt = (lookup: () => unknown): void => {
    try {
      lookup();
    } catch (error) {
      if (!isFdtError(error)) throw error;
      count(error.code);
    }
  };
  const result = populate(tree);
  for (const device of result.devices) {
    for (const issue of device.issues) {
      if (!isFdtError(issue)) throw issue;
      count(issue.code);
    }
  }
  const view = OfTree.of(tree);
  const specs = Object.values(LINK_SPECS);
  for (const node of view.nodes) {
    attempt(() => findInterruptParent(view, node));
    attempt(() => parseIrqs(view, node));
    attempt(() => isDmaCoherent(view, node));
    attempt(() => addressResources(node));
    for (const spec of specs) {
      attempt(() => [...iteratePhandles(view, node, spec.list, spec.cells, spec.defaultCells)]);
    }
  }
  attempt(() => view.aliases());
  attempt(() => msiControllers(view));
  return { devices: result.devices.length, codes };
}
