/**
 * Per-device resolution used by population: phandle-with-arguments links (IOMMUs, MSI
 * parent, DMA channels, clocks, resets, power domains) and interrupts with GIC decoding.
 * Errors the kernel would swallow (it just loses the resource) are collected as issues.
 */
import { FdtError, isFdtError } from './fdt-error.js';
import { decodeGicSpecifier, gicVersion } from './of-gic.js';
import { irqResolver, type OfIrqSpec } from './of-irq.js';
import { iteratePhandles } from './of-phandle.js';
import type { OfNode, OfTree } from './of-tree.js';
import type { DtIrq, DtLink } from './populate-types.js';

/** A sink for malformed references met while resolving a device. */
export type IssueSink = (error: FdtError) => void;

/** Rethrows anything that is not an FdtError (a bug), hands FdtErrors to `sink`. */
export function report(error: unknown, sink: IssueSink): void {
  if (!isFdtError(error)) throw error;
  sink(error);
}

/** How a link list is read. */
export interface LinkSpec {
  /** The list property (`clocks`). */
  readonly list: string;
  /** The provider's cell-count property (`#clock-cells`). */
  readonly cells: string;
  /** The names property (`clock-names`), if the binding has one. */
  readonly names?: string;
  /** Cell count when the provider lacks `cells` (of_msi_get_domain: 0); otherwise an error. */
  readonly defaultCells?: number;
  /** Stop at the first empty (zero-phandle) entry, as index-by-index lookups do. */
  readonly stopAtEmpty?: boolean;
}

/**
 * The entries of a link list up to the first malformed one (reported to `sink`).
 * drivers/iommu/of_iommu.c: of_iommu_configure_dev() reads `iommus` index by index until
 * of_parse_phandle_with_args() fails, so an empty entry ends it (`stopAtEmpty`); consumers
 * such as the clock, reset, DMA and power-domain lookups go by index and skip nothing else.
 */
export function resolveLinks(tree: OfTree, node: OfNode, spec: LinkSpec, sink: IssueSink): DtLink[] {
  const names = spec.names === undefined ? [] : node.strings(spec.names);
  const links: DtLink[] = [];
  try {
    for (const entry of iteratePhandles(tree, node, spec.list, spec.cells, spec.defaultCells)) {
      if (entry === null) {
        if (spec.stopAtEmpty === true) break;
        continue;
      }
      links.push({
        index: entry.index,
        name: names[entry.index],
        target: entry.target.path,
        args: entry.args,
        targetAvailable: entry.target.available,
      });
    }
  } catch (error) {
    report(error, sink);
  }
  return links;
}

/** The link specs population reads, by device field. */
export const LINK_SPECS: {
  readonly iommus: LinkSpec;
  readonly msiParent: LinkSpec;
  readonly dmas: LinkSpec;
  readonly resets: LinkSpec;
  readonly clocks: LinkSpec;
  readonly powerDomains: LinkSpec;
} = {
  // drivers/iommu/of_iommu.c: of_iommu_configure_dev()
  iommus: { list: 'iommus', cells: '#iommu-cells', stopAtEmpty: true },
  // drivers/of/irq.c: of_msi_get_domain(): of_for_each_phandle(..., "#msi-cells", 0)
  msiParent: { list: 'msi-parent', cells: '#msi-cells', defaultCells: 0 },
  // drivers/dma/of-dma.c: of_dma_request_slave_channel()
  dmas: { list: 'dmas', cells: '#dma-cells', names: 'dma-names' },
  // drivers/reset/core.c: __of_reset_control_get()
  resets: { list: 'resets', cells: '#reset-cells', names: 'reset-names' },
  // drivers/clk/clk.c: of_parse_clkspec()
  clocks: { list: 'clocks', cells: '#clock-cells', names: 'clock-names' },
  // drivers/pmdomain/core.c: __genpd_dev_pm_attach()
  powerDomains: { list: 'power-domains', cells: '#power-domain-cells', names: 'power-domain-names' },
};

function toIrq(node: OfNode, index: number, spec: OfIrqSpec): DtIrq | FdtError {
  const version = gicVersion(spec.controller);
  const base = {
    index,
    name: node.strings('interrupt-names')[index],
    controller: spec.controller.path,
    args: spec.args,
  };
  if (version === undefined) return { ...base, gicType: undefined, intid: undefined, trigger: undefined };
  const gic = decodeGicSpecifier(version, spec.args);
  if (gic === undefined) {
    // gic_irq_domain_translate() returns -EINVAL: irq_create_of_mapping() fails and
    // platform_get_irq() reports no interrupt at this index.
    return new FdtError(
      'BADVALUE',
      `interrupt ${index}: GICv${version} ${spec.controller.path} rejects <${spec.args.join(' ')}>`,
      {
        path: node.path,
      },
    );
  }
  return { ...base, gicType: gic.type, intid: gic.intid, trigger: gic.trigger };
}

/**
 * A platform device's interrupts: drivers/base/platform.c: platform_irq_count() counts
 * platform_get_irq_optional() (of_irq_get(): of_irq_parse_one() + irq_create_of_mapping())
 * from index 0 until the first failure.
 */
export function platformIrqs(tree: OfTree, node: OfNode, sink: IssueSink): DtIrq[] {
  const irqs: DtIrq[] = [];
  const source = irqResolver(tree, node);
  for (let index = 0; ; index++) {
    let spec: OfIrqSpec | undefined;
    try {
      spec = source.at(index);
    } catch (error) {
      report(error, sink);
      return irqs;
    }
    if (spec === undefined) return irqs;
    const irq = toIrq(node, index, spec);
    if (isFdtError(irq)) {
      sink(irq);
      return irqs;
    }
    irqs.push(irq);
  }
}

/** include/linux/amba/bus.h: AMBA_NR_IRQS. */
export const AMBA_NR_IRQS = 9;

/**
 * An AMBA device's interrupts: drivers/amba/bus.c: of_amba_device_decode_irq() (run from
 * amba_probe() since v5.17; of_amba_device_create() did the same before) sets
 * `dev->irq[i] = of_irq_get(node, i)` for i < AMBA_NR_IRQS; a failing index is 0 and the
 * next ones are still tried.
 */
export function ambaIrqs(tree: OfTree, node: OfNode, sink: IssueSink): DtIrq[] {
  const irqs: DtIrq[] = [];
  const source = irqResolver(tree, node);
  for (let index = 0; index < AMBA_NR_IRQS; index++) {
    try {
      const spec = source.at(index);
      if (spec === undefined) continue;
      const irq = toIrq(node, index, spec);
      if (isFdtError(irq)) sink(irq);
      else irqs.push(irq);
    } catch (error) {
      report(error, sink);
    }
  }
  return irqs;
}
