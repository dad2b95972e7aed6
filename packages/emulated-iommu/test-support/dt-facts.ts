// Test support only (outside src/, so it ships nowhere and the package does not depend on
// @vfiokit/devicetree): reads DmaFacts from a device tree the way @vfiokit/host is expected to.
import { readFileSync } from 'node:fs';
import { type DeviceTree, type DtDevice, OfTree, parseFdt, populate } from '@vfiokit/devicetree';
import { type DmaFacts, VFIOKIT_NO_DMA_PROPERTY } from '../src/index.js';

/** The shared real-world fixtures (read-only). */
export const FIXTURES = '/work/shared/fixtures';

/** Parses a fixture blob (`dtb/juno-r2.dtb`, `corpus/….dtb`). */
export function fixture(name: string): DeviceTree {
  return parseFdt(new Uint8Array(readFileSync(`${FIXTURES}/${name}`)));
}

/** The facts of one populated device: its links from populate(), its own properties from the node. */
export function factsOf(view: OfTree, device: DtDevice): DmaFacts {
  const node = view.require(device.path);
  const noDma = node.property(VFIOKIT_NO_DMA_PROPERTY);
  const text = node.string(VFIOKIT_NO_DMA_PROPERTY);
  const status = node.string('status');
  const dmaCells = node.u32('#dma-cells');
  const periphid = device.periphid;
  return {
    path: device.path,
    deviceName: device.name,
    compatible: device.compatible,
    ...(status === undefined ? {} : { status }),
    // Presence is the evidence: an iommus property whose phandles do not resolve still counts.
    iommus:
      device.iommus.length > 0 ? device.iommus.map((link) => link.target) : node.has('iommus') ? ['?'] : [],
    iommuMap: node.has('iommu-map'),
    msiParent: node.has('msi-parent'),
    ...(dmaCells === undefined ? {} : { dmaCells }),
    dmaMasters: node.has('dma-masters') ? ['(dma-masters)'] : [],
    dmaCoherent: node.has('dma-coherent'),
    dmas: device.dmas.map((link) => ({
      provider: link.target,
      ...(link.name === undefined ? {} : { name: link.name }),
    })),
    ...(noDma === undefined ? {} : { noDma: noDma.value.length === 0 ? true : (text ?? true) }),
    ...(periphid === undefined ? {} : { periphid }),
  };
}

/** Facts of every device of_platform_populate() creates for the tree, by node path. */
export function factsByPath(tree: DeviceTree): Map<string, DmaFacts> {
  const view = OfTree.of(tree);
  return new Map(populate(tree).devices.map((device) => [device.path, factsOf(view, device)]));
}

/**
 * Facts of any node, populated or not (a disabled node is not populated): its own properties
 * only, without resolving phandles (presence of `iommus`/`dmas` is recorded with `?`).
 */
export function nodeFacts(tree: DeviceTree, path: string): DmaFacts {
  const node = OfTree.of(tree).require(path);
  const status = node.string('status');
  const dmaCells = node.u32('#dma-cells');
  return {
    path,
    compatible: node.compatible,
    ...(status === undefined ? {} : { status }),
    iommus: node.has('iommus') ? ['?'] : [],
    iommuMap: node.has('iommu-map'),
    msiParent: node.has('msi-parent'),
    ...(dmaCells === undefined ? {} : { dmaCells }),
    dmaCoherent: node.has('dma-coherent'),
    dmas: node.has('dmas') ? [{ provider: '?' }] : [],
    ...(node.has(VFIOKIT_NO_DMA_PROPERTY) ? { noDma: node.string(VFIOKIT_NO_DMA_PROPERTY) ?? true } : {}),
  };
}
