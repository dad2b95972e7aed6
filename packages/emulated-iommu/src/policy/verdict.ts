import type { DmaVerdict } from '@vfiokit/vfio';

/**
 * What the policy concludes about one device:
 * - `master`: it can master the bus (hard firmware evidence, a known bus-master class, or a
 *   user override saying so);
 * - `non-master`: an explicit rule proves it cannot (a user override, the `vfiokit,no-dma`
 *   device-tree property, or the built-in table of simple peripheral classes);
 * - `unknown`: nothing proves either — treated like `master` by every consumer that needs
 *   proof (the RFC driver refuses it).
 */
export type DmaCapability = 'master' | 'non-master' | 'unknown';

/**
 * The rule that decided, machine-readable:
 * - hard firmware evidence of mastering: `iommus`, `iommu-map`, `msi-parent`,
 *   `dma-controller` (`#dma-cells`), `dma-coherent`;
 * - `master-class` / `non-master-class`: an entry of a built-in table (see `entry`);
 * - `override`: a user override (see `entry`: `path:…`, `device:…` or `compatible:…`);
 * - `dt-property`: vfiokit's own `vfiokit,no-dma` property on the node;
 * - `no-rule`: nothing applied (`unknown`).
 */
export type DmaRuleId =
  | 'iommus'
  | 'iommu-map'
  | 'msi-parent'
  | 'dma-controller'
  | 'dma-coherent'
  | 'master-class'
  | 'override'
  | 'dt-property'
  | 'non-master-class'
  | 'no-rule';

/** The rule ids that are hard evidence of bus mastering: no explicit rule overrules them. */
export const HARD_MASTER_EVIDENCE: readonly DmaRuleId[] = [
  'iommus',
  'iommu-map',
  'msi-parent',
  'dma-controller',
  'dma-coherent',
];

/** A rule that applied to the device, with where it comes from. */
export interface DmaRuleRef {
  readonly rule: DmaRuleId;
  /** The table entry id or the override's key, when the rule is one of many. */
  readonly entry?: string;
  /** Where the rule's claim comes from: a binding, a TRM, a kernel file, or "user override". */
  readonly source: string;
}

/**
 * A verdict with its reason. It is a `DmaVerdict` of `@vfiokit/vfio` (`cannotDma` is true
 * exactly for `non-master`), so vfio-platform can use it directly.
 */
export interface DmaCapabilityVerdict extends DmaVerdict, DmaRuleRef {
  readonly verdict: DmaCapability;
  /** True exactly when {@link verdict} is `non-master`. */
  readonly cannotDma: boolean;
  /** One line of at most {@link MAX_REASON_LENGTH} characters, for an 80-column CLI. */
  readonly reason: string;
  /**
   * The DMA engines (node paths of the `dmas` providers) whose channels this device uses but
   * does not own: they master the bus on its behalf and stay with the host. Empty when the
   * device has no `dmas`.
   */
  readonly dependsOnDmaEngine: readonly string[];
  /** Rules that also applied but lost to {@link rule} (conflicts), in precedence order. */
  readonly overruled: readonly DmaRuleRef[];
}

/** The longest reason a verdict carries (an 80-column CLI prints it after the verdict). */
export const MAX_REASON_LENGTH = 100;
