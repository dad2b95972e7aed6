import { KernelError, rejectUnknownOptions } from '@vfiokit/core';

/** One `dmas` entry of a device: a channel of a DMA engine it uses but does not own. */
export interface DmaChannelFact {
  /** Full path of the DMA engine node the phandle points at (`/soc/dma-controller@7ff00000`). */
  readonly provider: string;
  /** The matching `dma-names` entry (`tx`, `rx`), when there is one. */
  readonly name?: string;
}

/**
 * The firmware facts about one device node that the DMA-capability policy reads. It is a
 * plain structure so that this package needs no device-tree parser: `@vfiokit/host` fills it
 * from the device tree (tests do so with `@vfiokit/devicetree`). Absent optional fields mean
 * "the property is absent". Facts are checked like options: unknown keys and wrong types are
 * `EINVAL`, because a misspelt evidence field (`iommu` for `iommus`) would silently drop
 * evidence of mastering.
 */
export interface DmaFacts {
  /** Full node path (`/soc/serial@7ff80000`); absent for a device made in code. */
  readonly path?: string;
  /** The kernel device name (`7ff80000.serial`), when a device exists for the node. */
  readonly deviceName?: string;
  /** The node's `compatible` list, most specific first (may be empty). */
  readonly compatible: readonly string[];
  /**
   * The `status` property (absent = `okay`). Reported only: DMA capability is a property of
   * the hardware, so a disabled node gets the same verdict as an enabled one.
   */
  readonly status?: string;
  /**
   * One entry per `iommus` specifier: the IOMMU node's path (or any non-empty text when the
   * phandle does not resolve — the property's presence is the evidence). Empty or absent:
   * no `iommus`.
   */
  readonly iommus?: readonly string[];
  /** The node has `iommu-map` (a host bridge whose children master through an IOMMU). */
  readonly iommuMap?: boolean;
  /**
   * The node has `msi-parent`: it signals interrupts by writing MSI messages to a doorbell,
   * which are memory writes it issues itself — a device that sends MSIs masters the bus.
   */
  readonly msiParent?: boolean;
  /** The `#dma-cells` value when the node has the property (a DMA controller or router). */
  readonly dmaCells?: number;
  /**
   * `dma-masters` of a DMA router (bindings/dma/dma-router.yaml): paths of the DMA controllers
   * it routes requests to. A router has `#dma-cells` but forwards requests and masters nothing.
   */
  readonly dmaMasters?: readonly string[];
  /**
   * The node's OWN `dma-coherent` property — not of_dma_is_coherent()'s answer, which also
   * inherits it from a parent bus: a coherent interconnect says nothing about each child.
   */
  readonly dmaCoherent?: boolean;
  /** The node's `dmas` entries with their `dma-names`. */
  readonly dmas?: readonly DmaChannelFact[];
  /**
   * vfiokit's own `vfiokit,no-dma` property ({@link VFIOKIT_NO_DMA_PROPERTY}): `true` when it
   * is present and empty, its text when it carries one (the reason), absent/`false` otherwise.
   */
  readonly noDma?: boolean | string;
  /** AMBA only: the `arm,primecell-periphid` property, when present. */
  readonly periphid?: number;
}

/**
 * vfiokit's own device-tree property, NOT a Linux binding: placed on a device node it states
 * that the device has no bus-master interface, so the policy judges it `non-master` (unless
 * the node also carries hard evidence of mastering). Empty (`vfiokit,no-dma;`) or with a
 * one-line reason (`vfiokit,no-dma = "RTC: APB slave only";`).
 */
export const VFIOKIT_NO_DMA_PROPERTY = 'vfiokit,no-dma';

const FACT_KEYS: readonly (keyof DmaFacts & string)[] = [
  'path',
  'deviceName',
  'compatible',
  'status',
  'iommus',
  'iommuMap',
  'msiParent',
  'dmaCells',
  'dmaMasters',
  'dmaCoherent',
  'dmas',
  'noDma',
  'periphid',
];

const WHERE = 'DmaFacts';

function bad(message: string): never {
  throw new KernelError('EINVAL', `${WHERE}: ${message}`);
}

function checkStrings(value: unknown, key: string): void {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string'))
    bad(`'${key}' must be an array of strings`);
}

function checkOptional(facts: DmaFacts, key: keyof DmaFacts, type: 'string' | 'boolean' | 'number'): void {
  const value = facts[key];
  if (value !== undefined && typeof value !== type) bad(`'${key}' must be a ${type}`);
}

/** Checks a {@link DmaFacts} value: `EINVAL` for unknown keys and wrong types. */
export function checkDmaFacts(facts: DmaFacts): void {
  if (typeof facts !== 'object' || facts === null || Array.isArray(facts)) bad('facts must be an object');
  rejectUnknownOptions(facts, FACT_KEYS, WHERE);
  checkStrings(facts.compatible, 'compatible');
  checkOptional(facts, 'path', 'string');
  checkOptional(facts, 'deviceName', 'string');
  checkOptional(facts, 'status', 'string');
  checkOptional(facts, 'iommuMap', 'boolean');
  checkOptional(facts, 'msiParent', 'boolean');
  checkOptional(facts, 'dmaCoherent', 'boolean');
  checkOptional(facts, 'periphid', 'number');
  if (facts.iommus !== undefined) checkStrings(facts.iommus, 'iommus');
  if (facts.dmaMasters !== undefined) checkStrings(facts.dmaMasters, 'dmaMasters');
  if (facts.dmaCells !== undefined && (!Number.isInteger(facts.dmaCells) || facts.dmaCells < 0))
    bad(`'dmaCells' must be a non-negative integer`);
  if (facts.noDma !== undefined && typeof facts.noDma !== 'boolean' && typeof facts.noDma !== 'string')
    bad(`'noDma' must be a boolean or a string`);
  if (facts.dmas !== undefined) {
    if (!Array.isArray(facts.dmas)) bad(`'dmas' must be an array`);
    for (const channel of facts.dmas) {
      if (typeof channel !== 'object' || channel === null) bad(`'dmas' entries must be objects`);
      rejectUnknownOptions(channel, ['provider', 'name'], `${WHERE}.dmas[]`);
      if (typeof channel.provider !== 'string') bad(`'dmas[].provider' must be a string`);
      if (channel.name !== undefined && typeof channel.name !== 'string')
        bad(`'dmas[].name' must be a string`);
    }
  }
}
