/**
 * MSI controllers: the nodes an `msi-parent` (or `msi-map`) can name. Mirrors how the GIC MSI
 * drivers find them: drivers/irqchip/irq-gic-v2m.c: gicv2m_of_init() and
 * drivers/irqchip/irq-gic-v3-its.c: its_of_probe(); any other node with `msi-controller` is
 * a controller whose driver the kernel configuration decides.
 */
import type { KernelVersion } from '@vfiokit/core';
import { addressToResource, type DtResource } from './of-address.js';
import { ofKernel } from './of-kernel.js';
import type { OfNode } from './of-tree.js';
import { OfTree } from './of-tree.js';
import type { DeviceTree, DtNode } from './tree.js';

/** The kind of an MSI controller, by its driver. */
export type MsiControllerKind = 'gic-v2m' | 'gic-v3-its' | 'other';

/** drivers/irqchip/irq-gic-v2m.c: V2M_MSI_SETSPI_NS, the doorbell register of a v2m frame. */
export const V2M_MSI_SETSPI_NS = 0x040;
/** include/linux/irqchip/arm-gic-v3.h: GITS_TRANSLATER, the ITS doorbell (in the second 64 KiB page). */
export const GITS_TRANSLATER = 0x10040;

/** One MSI controller of a tree. */
export interface DtMsiController {
  /** Full path of the node. */
  readonly path: string;
  /** `gic-v2m` (`arm,gic-v2m-frame`), `gic-v3-its` (`arm,gic-v3-its`) or `other`. */
  readonly kind: MsiControllerKind;
  /** The node's `compatible` strings. */
  readonly compatible: readonly string[];
  /**
   * Whether the kernel's driver takes it: gicv2m_of_init() takes every frame with
   * `msi-controller` whatever its `status` (of_find_matching_node() does not check it);
   * its_of_probe() skips unavailable ITS nodes; for `other`, the node's `status`.
   */
  readonly probed: boolean;
  /** The node's phandle (what `msi-parent` cells name), if it has one. */
  readonly phandle: number | undefined;
  /** `#msi-cells` (0 when absent: of_msi_get_domain() reads `msi-parent` with a default of 0). */
  readonly msiCells: number;
  /** The register frame, `reg[0]` as a CPU physical address (of_address_to_resource(np, 0)). */
  readonly frame: DtResource | undefined;
  /**
   * The address devices write MSIs to: frame + MSI_SETSPI_NS (v2m), frame + GITS_TRANSLATER
   * (ITS); `undefined` for `other` or an untranslatable frame.
   */
  readonly doorbell: bigint | undefined;
  /**
   * Whether the MSI domain isolates devices (IRQ_DOMAIN_FLAG_ISOLATED_MSI): the ITS does, as
   * it translates by DeviceID; a v2m frame does not (any device can ring any SPI). `false`
   * for `other` (unknown).
   */
  readonly isolated: boolean;
  /** v2m only: `arm,msi-base-spi` and `arm,msi-num-spis`, when both are present (they override MSI_TYPER). */
  readonly spis: { readonly base: number; readonly count: number } | undefined;
}

function kindOf(node: OfNode): MsiControllerKind {
  if (node.isCompatible('arm,gic-v2m-frame')) return 'gic-v2m';
  if (node.isCompatible('arm,gic-v3-its')) return 'gic-v3-its';
  return 'other';
}

/**
 * Every node with an `msi-controller` property, in tree order: GICv2m frames and GICv3 ITSes
 * with their doorbell and isolation, and any other MSI controller. A populated device's
 * `msiParent.target` is the `path` of one of these when its `msi-parent` is
 * well formed. `kernel` (default v6.18) decides how the frames' `reg` translates (`matchBus`).
 */
export function msiControllers(
  tree: DeviceTree | DtNode | OfTree,
  kernel?: KernelVersion,
): DtMsiController[] {
  const version = ofKernel(kernel, 'msiControllers');
  const view = tree instanceof OfTree ? tree : OfTree.of(tree);
  const out: DtMsiController[] = [];
  for (const node of view.nodes) {
    // Both drivers skip a matching node without `msi-controller` (gicv2m_of_init():
    // of_find_property(child, "msi-controller"); its_of_probe(): "no msi-controller
    // property, ITS ignored").
    if (!node.has('msi-controller')) continue;
    const kind = kindOf(node);
    const frame = addressToResource(node, 0, version);
    const offset =
      kind === 'gic-v2m' ? V2M_MSI_SETSPI_NS : kind === 'gic-v3-its' ? GITS_TRANSLATER : undefined;
    const base = node.u32('arm,msi-base-spi');
    const count = node.u32('arm,msi-num-spis');
    out.push({
      path: node.path,
      kind,
      compatible: node.compatible,
      probed: kind === 'gic-v2m' ? true : node.available,
      phandle: view.phandleOf(node),
      msiCells: node.u32('#msi-cells') ?? 0,
      frame,
      doorbell:
        frame === undefined || offset === undefined
          ? undefined
          : (frame.address + BigInt(offset)) & 0xffff_ffff_ffff_ffffn,
      isolated: kind === 'gic-v3-its',
      // gicv2m_of_init(): both must read, and gicv2m_init_one() uses them only when both
      // are non-zero.
      spis:
        kind === 'gic-v2m' && base !== undefined && count !== undefined && base !== 0 && count !== 0
          ? { base, count }
          : undefined,
    });
  }
  return out;
}
