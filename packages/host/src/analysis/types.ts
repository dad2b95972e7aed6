/**
 * The result of {@link analyzeHost}: plain JSON data (no classes, no bigint), the shape of
 * `vfiokit analyze --format json` and of the JSON Schema `@vfiokit/cli` ships.
 */

/** How a device would reach a VM: through its IOMMU, the emulated-IOMMU path, or no-IOMMU mode. */
export type AssignmentPath = 'smmu' | 'emulated' | 'noiommu';

/** What a resource a device references is to the assignment. */
export type DependencyOwner =
  /** It stays with the host: the VM needs a proxy or a firmware interface (SCMI) to use it. */
  | 'host'
  /** Nothing to hand over (a fixed clock, the GIC that VFIO forwards interrupts from). */
  | 'irrelevant';

/** The kinds of resources the dependency closure lists, named after their properties. */
export type DependencyKind =
  | 'clock'
  | 'reset'
  | 'power-domain'
  | 'pinctrl'
  | 'phy'
  | 'dma'
  | 'interrupt-parent';

export interface AnalysisDependency {
  readonly kind: DependencyKind;
  /** Full path of the node the phandle names (a clock controller, a pinctrl state, …). */
  readonly node: string;
  readonly owner: DependencyOwner;
}

export interface AnalysisDma {
  /** The DMA-capability policy's verdict (`@vfiokit/emulated-iommu`). */
  readonly verdict: 'master' | 'non-master' | 'unknown';
  /** One line. */
  readonly reason: string;
}

export interface AnalysisIommu {
  /** Full path of the IOMMU node of the device's first `iommus` entry. */
  readonly node: string;
  /** The first argument cell of every `iommus` entry on that IOMMU (stream IDs). */
  readonly streamIds: readonly number[];
  /** The IOMMU group id, or null when the IOMMU driver gives the device none. */
  readonly group: number | null;
}

export interface AnalysisMsi {
  /** Full path of the `msi-parent` controller. */
  readonly parent: string;
  /** Whether its MSI domain isolates (IRQ_DOMAIN_FLAG_ISOLATED_MSI), with the host's kernel rule. */
  readonly isolated: boolean;
}

/** The reset mechanism vfio-platform would use (drivers/vfio/platform/vfio_platform_common.c). */
export type ResetProvider = 'module' | 'reset-controller' | 'none';

export interface AnalysisReset {
  readonly provider: ResetProvider;
  /** The reset module's compatible, the reset controller's path, or null for `none`. */
  readonly name: string | null;
  /** The kernel's deprecation text (reset modules, Linux 6.18), or null. */
  readonly deprecated: string | null;
}

export interface DeviceAnalysis {
  /** dev_name(): `7ff00000.dma-controller` (for a disabled node: the name it would get). */
  readonly name: string;
  readonly bus: 'platform' | 'amba';
  readonly compatible: readonly string[];
  /** The node's `status` (`okay` when absent). Only `okay` nodes become devices. */
  readonly status: string;
  readonly dma: AnalysisDma;
  readonly iommu: AnalysisIommu | null;
  readonly msi: AnalysisMsi | null;
  readonly reset: AnalysisReset | null;
  /** The path it would take, or null when none can work. */
  readonly path: AssignmentPath | null;
  /** Whether it can be assigned with the host's settings (after unbinding its group's other members). */
  readonly assignable: boolean;
  /** What it would still need: settings (`allow_unsafe_interrupts=1`), modules, overrides, unbinds. */
  readonly requires: readonly string[];
  /** One line each: why, in the order the checks ran. */
  readonly reasons: readonly string[];
  readonly dependencies: readonly AnalysisDependency[];
}

export interface AnalysisGroup {
  readonly id: number;
  /** Full path of the IOMMU node. */
  readonly iommu: string;
  /** Member device names. */
  readonly devices: readonly string[];
  /** Whether every member can leave the host (be unbound or bound to vfio) with these settings. */
  readonly viable: boolean;
}

/** The host settings the analysis ran with (the module parameters by their kernel names). */
export interface AnalysisSettings {
  readonly kernel: string;
  readonly reset_required: boolean;
  readonly allow_unsafe_interrupts: boolean;
  readonly enable_unsafe_noiommu_mode: boolean;
  readonly dma_entry_limit: number;
  /** Compatibles of the reset modules built in. */
  readonly reset_modules: readonly string[];
  /** NOT IN LINUX — vfiokit's DMA-capability policy. */
  readonly dma_policy: {
    readonly overrides: readonly {
      readonly kind: 'device' | 'path' | 'compatible';
      readonly value: string;
      readonly verdict: 'master' | 'non-master';
    }[];
    readonly dt_property: boolean;
    readonly builtin_classes: boolean;
  };
  /** NOT IN LINUX — the RFC's generic emulated route. */
  readonly emulated_generic: boolean;
}

export interface HostAnalysis {
  /** What was analysed: a file name, or `demo-soc` for the built-in SoC. */
  readonly source: string;
  readonly settings: AnalysisSettings;
  readonly devices: readonly DeviceAnalysis[];
  readonly groups: readonly AnalysisGroup[];
}

/** Options of {@link analyzeHost}; unknown keys are `EINVAL`. */
export interface AnalyzeOptions {
  /** The `source` field (default `device tree`). */
  readonly source?: string;
}
