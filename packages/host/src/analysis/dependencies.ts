import {
  type DtDevice,
  type DtLink,
  gicVersion,
  isFdtError,
  iteratePhandles,
  type OfNode,
  type OfTree,
  propertyCells,
} from '@vfiokit/devicetree';
import type { AnalysisDependency, DependencyKind, DependencyOwner } from './types.js';

// Clock providers with nothing to control at run time: a VM using the device needs no proxy
// for them (drivers/clk/clk-fixed-rate.c, clk-fixed-factor.c: no enable/disable, no rate set).
const FIXED_CLOCKS = ['fixed-clock', 'fixed-factor-clock'];

/**
 * The resources a device references, one entry per (kind, node): `clocks`, `resets`,
 * `power-domains`, every `pinctrl-N` state (pinctrl_dt_to_map walks N = 0, 1, … until a
 * property is missing), `phys`, `dmas` and the controllers its interrupts resolve to. Each
 * stays with the host (its provider's driver keeps running there; the VM needs a proxy or a
 * firmware interface such as SCMI) except fixed clocks and the GIC, which VFIO needs nothing
 * from: VFIO forwards the host's interrupt, the guest's GIC is KVM's.
 *
 * Malformed references are skipped, as the kernel only loses the resource they name.
 */
export function dependenciesOf(
  tree: OfTree,
  device: DtDevice,
  node: OfNode | undefined,
): AnalysisDependency[] {
  const out: AnalysisDependency[] = [];
  const seen = new Set<string>();
  const add = (kind: DependencyKind, path: string, owner: DependencyOwner): void => {
    const key = `${kind}\0${path}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ kind, node: path, owner });
  };
  const owned = (kind: DependencyKind, links: readonly DtLink[]): void => {
    for (const link of links) add(kind, link.target, ownerOf(tree, kind, link.target));
  };
  owned('clock', device.clocks);
  owned('reset', device.resets);
  owned('power-domain', device.powerDomains);
  if (node !== undefined) {
    for (const path of pinctrlStates(tree, node)) add('pinctrl', path, 'host');
    for (const path of phandleTargets(tree, node, 'phys', '#phy-cells')) add('phy', path, 'host');
  }
  owned('dma', device.dmas);
  for (const irq of device.irqs) {
    add('interrupt-parent', irq.controller, ownerOf(tree, 'interrupt-parent', irq.controller));
  }
  return out;
}

function ownerOf(tree: OfTree, kind: DependencyKind, path: string): DependencyOwner {
  const provider = tree.find(path);
  if (provider === undefined) return 'host';
  if (kind === 'clock' && FIXED_CLOCKS.some((c) => provider.isCompatible(c))) return 'irrelevant';
  if (kind === 'interrupt-parent' && gicVersion(provider) !== undefined) return 'irrelevant';
  return 'host';
}

// drivers/pinctrl/devicetree.c pinctrl_dt_to_map(): `pinctrl-%d` for state 0, 1, … until one
// is missing; each cell is a phandle of a state node (of_find_node_by_phandle), 0 is skipped.
function pinctrlStates(tree: OfTree, node: OfNode): string[] {
  const out: string[] = [];
  for (let state = 0; ; state++) {
    const property = node.property(`pinctrl-${state}`);
    if (property === undefined) return out;
    for (const phandle of propertyCells(property.value)) {
      const target = phandle === 0 ? undefined : tree.nodeByPhandle(phandle);
      if (target !== undefined) out.push(target.path);
    }
  }
}

function phandleTargets(tree: OfTree, node: OfNode, list: string, cells: string): string[] {
  const out: string[] = [];
  try {
    for (const entry of iteratePhandles(tree, node, list, cells))
      if (entry !== null) out.push(entry.target.path);
  } catch (error) {
    // of_phandle_iterator_next() fails at the bad entry; the ones before it stand.
    if (!isFdtError(error)) throw error;
  }
  return out;
}
