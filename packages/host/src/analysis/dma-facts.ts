import { type DtDevice, type OfNode, type OfTree, propertyCells, propertyString } from '@vfiokit/devicetree';
import { type DmaChannelFact, type DmaFacts, VFIOKIT_NO_DMA_PROPERTY } from '@vfiokit/emulated-iommu';

/**
 * The firmware facts the DMA-capability policy judges, read from a device's node: the
 * populated device gives what drivers/of resolved (`iommus`, `msi-parent`, `dmas`); the node
 * gives the rest. `dma-coherent` is the node's OWN property (the policy's rule), not
 * of_dma_is_coherent()'s inherited answer.
 */
export function dmaFactsOf(tree: OfTree, node: OfNode | undefined, device: DtDevice): DmaFacts {
  const noDma = node?.property(VFIOKIT_NO_DMA_PROPERTY);
  const noDmaText = noDma === undefined || noDma.value.length === 0 ? undefined : propertyString(noDma.value);
  const dmaCells = node?.u32('#dma-cells');
  const dmaMasters = node === undefined ? [] : targets(tree, node, 'dma-masters');
  const status = node?.string('status');
  return {
    path: device.path,
    deviceName: device.name,
    compatible: [...device.compatible],
    ...(status === undefined ? {} : { status }),
    // A present but unresolvable `iommus` is still evidence: the property's presence counts.
    iommus:
      device.iommus.length > 0
        ? device.iommus.map((link) => link.target)
        : node?.has('iommus') === true
          ? ['(unresolved iommus)']
          : [],
    iommuMap: node?.has('iommu-map') === true,
    msiParent: node?.has('msi-parent') === true,
    ...(dmaCells === undefined ? {} : { dmaCells }),
    ...(dmaMasters.length === 0 ? {} : { dmaMasters }),
    dmaCoherent: node?.has('dma-coherent') === true,
    dmas: device.dmas.map(
      (link): DmaChannelFact =>
        link.name === undefined ? { provider: link.target } : { provider: link.target, name: link.name },
    ),
    ...(noDma === undefined ? {} : { noDma: noDmaText === undefined || noDmaText === '' ? true : noDmaText }),
    ...(device.periphid === undefined ? {} : { periphid: device.periphid }),
  };
}

// `dma-masters` (bindings/dma/dma-router.yaml): plain phandles, no arguments.
function targets(tree: OfTree, node: OfNode, list: string): string[] {
  const property = node.property(list);
  if (property === undefined) return [];
  const out: string[] = [];
  for (const phandle of propertyCells(property.value)) {
    const target = phandle === 0 ? undefined : tree.nodeByPhandle(phandle);
    if (target !== undefined) out.push(target.path);
  }
  return out;
}
