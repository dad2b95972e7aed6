// Test support (not exported): small device trees with IOMMUs and masters, built in code.
import {
  type DeviceTree,
  DeviceTreeBuilder,
  type DtCell,
  type DtNodeBuilder,
  ref,
} from '@vfiokit/devicetree';

export interface TestIommu {
  readonly label: string;
  readonly compatible: readonly string[];
  /** `#iommu-cells`. */
  readonly cells: number;
  readonly address: number;
  readonly dmaCoherent?: boolean;
  readonly streamMatchMask?: number;
  readonly status?: string;
}

export interface TestMaster {
  /** Unit address: the device is `<address hex>.dev`. */
  readonly address: number;
  /** `iommus` entries: IOMMU label, then the argument cells. */
  readonly iommus: readonly (readonly [string, ...number[]])[];
  readonly dmaCoherent?: boolean;
  /** An AMBA PrimeCell instead of a platform device. */
  readonly amba?: boolean;
}

/** `<address>.dev`: the name populate() gives a master of {@link testTree}. */
export function masterName(master: TestMaster): string {
  return `${master.address.toString(16)}.dev`;
}

/** A root with the IOMMU nodes first, then the masters, all at top level (two address cells). */
export function testTree(iommus: readonly TestIommu[], masters: readonly TestMaster[]): DeviceTree {
  return new DeviceTreeBuilder()
    .root((root) => {
      root.string('compatible', 'vfiokit,test').cells('#address-cells', 2).cells('#size-cells', 2);
      for (const iommu of iommus) {
        root.node(`iommu@${iommu.address.toString(16)}`, (n) => {
          n.label(iommu.label)
            .string('compatible', ...iommu.compatible)
            .cells('reg', 0, iommu.address, 0, 0x10000)
            .cells('#iommu-cells', iommu.cells);
          if (iommu.dmaCoherent === true) n.flag('dma-coherent');
          if (iommu.streamMatchMask !== undefined) n.cells('stream-match-mask', iommu.streamMatchMask);
          if (iommu.status !== undefined) n.string('status', iommu.status);
        });
      }
      for (const master of masters) addMaster(root, master);
    })
    .build();
}

function addMaster(root: DtNodeBuilder, master: TestMaster): void {
  root.node(`dev@${master.address.toString(16)}`, (n) => {
    n.string('compatible', ...(master.amba === true ? ['arm,pl330', 'arm,primecell'] : ['vfiokit,dev']))
      .cells('reg', 0, master.address, 0, 0x1000)
      .cells('iommus', ...master.iommus.flatMap(([label, ...args]): DtCell[] => [ref(label), ...args]));
    if (master.dmaCoherent === true) n.flag('dma-coherent');
    // The PL330's peripheral ID, so the AMBA bus need not read it from a register model.
    if (master.amba === true) n.cells('arm,primecell-periphid', 0x00241330);
  });
}
