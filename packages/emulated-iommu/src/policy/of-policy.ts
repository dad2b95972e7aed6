import { KernelError } from '@vfiokit/core';
import type { DmaCapabilityPolicy } from '@vfiokit/vfio';
import { assessCompiled } from './assess.js';
import type { DmaFacts } from './facts.js';
import { type CompiledDmaPolicyOptions, compileDmaPolicyOptions, type DmaPolicyOptions } from './options.js';
import type { DmaCapabilityVerdict } from './verdict.js';

/**
 * The device vfio's `DmaCapabilityPolicy.assess` is given (a platform-bus `Device`). Taken
 * from the interface so that this package names the type without importing platform-bus.
 */
export type DmaPolicyDevice = Parameters<DmaCapabilityPolicy['assess']>[0];

/** Finds the firmware facts of a device-tree node by its full path (`/soc/serial@7ff80000`). */
export type DmaFactsLookup = (ofNode: string) => DmaFacts | undefined;

/**
 * vfio's `DmaCapabilityPolicy` backed by {@link assessDmaCapability}: it finds the device's
 * facts by its `of_node` path through the lookup given at construction (`@vfiokit/host` reads
 * them from the device tree), fills in the kernel device name, and judges them.
 *
 * A device made in code (no `ofNode`) has no firmware description: it is judged on its name,
 * compatible and IOMMU group alone (so only a user override or the class table can make it
 * `non-master`). A device whose `ofNode` the lookup does not know is `unknown` — without its
 * facts, mastering cannot be ruled out.
 */
export class OfDmaCapabilityPolicy implements DmaCapabilityPolicy {
  readonly #lookup: DmaFactsLookup;
  readonly #options: CompiledDmaPolicyOptions;

  constructor(lookup: DmaFactsLookup, options?: DmaPolicyOptions) {
    if (typeof lookup !== 'function')
      throw new KernelError('EINVAL', 'OfDmaCapabilityPolicy: the facts lookup must be a function');
    this.#lookup = lookup;
    this.#options = compileDmaPolicyOptions(options);
  }

  /** The verdict for a bus device (what vfio-platform asks at probe). */
  assess(device: DmaPolicyDevice): DmaCapabilityVerdict {
    const ofNode = device.description.ofNode;
    // An IOMMU group is hard evidence whatever the firmware says (the IOMMU driver put it there).
    const group = device.iommuGroup === undefined ? [] : [`iommu_group ${device.iommuGroup}`];
    if (ofNode === undefined) {
      return this.assessFacts({ deviceName: device.name, compatible: device.compatible, iommus: group });
    }
    const facts = this.#lookup(ofNode);
    if (facts === undefined) {
      return {
        verdict: 'unknown',
        cannotDma: false,
        reason: 'no firmware facts for its device-tree node: DMA cannot be ruled out',
        rule: 'no-rule',
        source: `facts lookup returned nothing for ${ofNode}`,
        dependsOnDmaEngine: [],
        overruled: [],
      };
    }
    return this.assessFacts({
      ...facts,
      deviceName: facts.deviceName ?? device.name,
      iommus: [...(facts.iommus ?? []), ...group],
    });
  }

  /** The verdict for firmware facts (what the passthrough analysis asks per node). */
  assessFacts(facts: DmaFacts): DmaCapabilityVerdict {
    return assessCompiled(facts, this.#options);
  }
}
