/**
 * The state of one population run: the OF_POPULATED / OF_POPULATED_BUS flags, device names
 * per bus and the AMBA resources claimed in iomem_resource. Mirrors drivers/of/platform.c
 * (v6.x): of_platform_populate(), of_platform_bus_create(), of_platform_device_create_pdata(),
 * of_device_alloc(), of_amba_device_create(); drivers/amba/bus.c: amba_device_add().
 */
import type { KernelVersion } from '@vfiokit/core';
import type { FdtError } from './fdt-error.js';
import { addressResources, addressToResource } from './of-address.js';
import { makeBusId } from './of-bus-id.js';
import { isDmaCoherent } from './of-dma.js';
import { ambaIrqs, type IssueSink, LINK_SPECS, platformIrqs, report, resolveLinks } from './of-links.js';
import { u64 } from './of-prop.js';
import type { OfNode, OfTree } from './of-tree.js';
import { SKIPPED_NODE_TABLE } from './populate-tables.js';
import type { DtDevice, DtDeviceBus, DtSkippedNode, DtSkipReason } from './populate-types.js';

interface Claimed {
  readonly start: bigint;
  readonly end: bigint;
}

/** One population run over a tree. */
export class Populator {
  readonly devices: DtDevice[] = [];
  readonly skipped: DtSkippedNode[] = [];
  readonly #tree: OfTree;
  readonly #amba: boolean;
  readonly #kernel: KernelVersion;
  // OF_POPULATED / OF_POPULATED_BUS node flags.
  readonly #populated = new Set<OfNode>();
  readonly #populatedBus = new Set<OfNode>();
  // Device names per bus: device_add() fails on a duplicate (/sys/bus/<bus>/devices/<name>).
  readonly #names: Record<DtDeviceBus, Set<string>> = { platform: new Set(), amba: new Set() };
  // iomem_resource children claimed by AMBA devices (request_resource()), sorted by start.
  readonly #claimed: Claimed[] = [];

  constructor(tree: OfTree, amba: boolean, kernel: KernelVersion) {
    this.#tree = tree;
    this.#amba = amba;
    this.#kernel = kernel;
  }

  /** of_platform_populate(root, matches): each child of `root` (strict: needs `compatible`). */
  populate(root: OfNode, matches: readonly string[] | null): void {
    // Iterative pre-order walk: a hostile tree can nest buses deeper than the JS stack.
    const stack: { node: OfNode; parent: DtDevice | undefined }[] = [];
    const pushChildren = (node: OfNode, parent: DtDevice | undefined): void => {
      for (let i = node.children.length - 1; i >= 0; i--) stack.push({ node: node.children[i]!, parent });
    };
    pushChildren(root, undefined);
    while (stack.length > 0) {
      const { node, parent } = stack.pop()!;
      const device = this.#busCreate(node, matches, parent);
      if (device !== undefined) {
        pushChildren(node, device);
        // Set once the children are queued; they are all handled before this node could be
        // met again, and a tree holds each node once.
        this.#populatedBus.add(node);
      }
    }
    this.#populatedBus.add(root);
  }

  /** of_node_set_flag(np, OF_POPULATED) by an early initialiser (of_irq_init(), of_clk_init()). */
  markPopulated(node: OfNode): void {
    this.#populated.add(node);
  }

  /** of_platform_device_create(node, NULL, NULL) outside any bus walk. */
  createPlatformDevice(node: OfNode): void {
    this.#createPlatform(node, undefined);
  }

  // of_platform_bus_create(): returns the device when its children must be created too.
  #busCreate(
    node: OfNode,
    matches: readonly string[] | null,
    parent: DtDevice | undefined,
  ): DtDevice | undefined {
    if (!node.has('compatible')) return undefined;
    if (SKIPPED_NODE_TABLE.some((c) => node.isCompatible(c))) return undefined;
    if (this.#populatedBus.has(node)) return undefined;
    if (this.#amba && node.isCompatible('arm,primecell')) {
      // AMBA devices never get their children populated.
      this.#createAmba(node, parent);
      return undefined;
    }
    const device = this.#createPlatform(node, parent);
    if (device === undefined || matches === null) return undefined;
    return matches.some((c) => node.isCompatible(c)) ? device : undefined;
  }

  // of_platform_device_create_pdata() + of_device_alloc().
  #createPlatform(node: OfNode, parent: DtDevice | undefined): DtDevice | undefined {
    if (!node.available || this.#populated.has(node)) return undefined;
    const name = makeBusId(node, this.#kernel);
    if (this.#nameTaken(node, 'platform', name)) return undefined;
    const issues: FdtError[] = [];
    const sink: IssueSink = (error) => issues.push(error);
    const device = this.#describe(node, 'platform', name, parent, {
      regions: addressResources(node, this.#kernel),
      irqs: platformIrqs(this.#tree, node, sink),
      periphid: undefined,
      issues,
    });
    return this.#add(node, device);
  }

  // of_amba_device_create() + amba_device_add().
  #createAmba(node: OfNode, parent: DtDevice | undefined): void {
    if (!node.available || this.#populated.has(node)) return;
    const name = makeBusId(node, this.#kernel);
    const issues: FdtError[] = [];
    const sink: IssueSink = (error) => issues.push(error);
    // The DT may pin the peripheral ID; amba_device_add() reads the hardware when it is 0.
    const pinned = node.u32('arm,primecell-periphid');
    const periphid = pinned === 0 ? undefined : pinned;
    const irqs = ambaIrqs(this.#tree, node, sink);
    const resource = addressToResource(node, 0, this.#kernel);
    if (resource === undefined) {
      this.#skip(node, 'amba', name, 'no-resource');
      return;
    }
    const start = resource.address;
    const end = u64(resource.address + resource.size - 1n);
    const at = this.#claimSlot(start, end);
    if (at < 0) {
      this.#skip(node, 'amba', name, 'resource-conflict');
      return;
    }
    if (this.#nameTaken(node, 'amba', name)) return;
    this.#claimed.splice(at, 0, { start, end });
    this.#add(
      node,
      this.#describe(node, 'amba', name, parent, { regions: [resource], irqs, periphid, issues }),
    );
  }

  // kernel/resource.c: __request_resource(): an empty or wrapping range (end < start)
  // conflicts with the root; otherwise it must not overlap a sibling. Claimed ranges are
  // disjoint and kept sorted, so one binary search finds the only possible neighbours.
  // Returns the insertion index, or -1 on conflict.
  #claimSlot(start: bigint, end: bigint): number {
    if (end < start) return -1;
    const claimed = this.#claimed;
    let lo = 0;
    let hi = claimed.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (claimed[mid]!.start <= start) lo = mid + 1;
      else hi = mid;
    }
    const before = claimed[lo - 1];
    const after = claimed[lo];
    if (before !== undefined && before.end >= start) return -1;
    if (after !== undefined && after.start <= end) return -1;
    return lo;
  }

  #describe(
    node: OfNode,
    bus: DtDeviceBus,
    name: string,
    parent: DtDevice | undefined,
    parts: Pick<DtDevice, 'regions' | 'irqs' | 'periphid' | 'issues'>,
  ): DtDevice {
    const tree = this.#tree;
    const issues = parts.issues as FdtError[];
    const sink: IssueSink = (error) => issues.push(error);
    let dmaCoherent = false;
    try {
      dmaCoherent = isDmaCoherent(tree, node);
    } catch (error) {
      report(error, sink);
    }
    return {
      name,
      bus,
      path: node.path,
      parent: parent?.name,
      compatible: node.compatible,
      regions: parts.regions,
      irqs: parts.irqs,
      iommus: resolveLinks(tree, node, LINK_SPECS.iommus, sink),
      msiParent: resolveLinks(tree, node, LINK_SPECS.msiParent, sink)[0],
      dmaCoherent,
      dmas: resolveLinks(tree, node, LINK_SPECS.dmas, sink),
      resets: resolveLinks(tree, node, LINK_SPECS.resets, sink),
      clocks: resolveLinks(tree, node, LINK_SPECS.clocks, sink),
      powerDomains: resolveLinks(tree, node, LINK_SPECS.powerDomains, sink),
      periphid: parts.periphid,
      issues,
    };
  }

  #nameTaken(node: OfNode, bus: DtDeviceBus, name: string): boolean {
    if (!this.#names[bus].has(name)) return false;
    this.#skip(node, bus, name, 'duplicate-name');
    return true;
  }

  #add(node: OfNode, device: DtDevice): DtDevice {
    this.#populated.add(node);
    this.#names[device.bus].add(device.name);
    this.devices.push(device);
    return device;
  }

  #skip(node: OfNode, bus: DtDeviceBus, name: string, reason: DtSkipReason): void {
    this.skipped.push({ path: node.path, bus, name, reason });
  }
}
