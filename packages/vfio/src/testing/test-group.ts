import {
  type IommuDmaOwnership,
  IommuGroup,
  type IommuReservedRegion,
  rejectUnknownOptions,
  swMsiRegion,
} from '@vfiokit/core';
import { FlatIommuDomain } from '@vfiokit/core/testing';

/** The SMMU drivers' software MSI window: `MSI_IOVA_BASE` 0x8000000, `MSI_IOVA_LENGTH` 1 MiB. */
export const SMMU_SW_MSI_REGION: IommuReservedRegion = Object.freeze(swMsiRegion());

/** Options of {@link testIommuGroup}. */
export interface TestIommuGroupOptions {
  readonly id: number;
  /** Devices and their stream IDs. */
  readonly devices?: ReadonlyArray<{ readonly name: string; readonly streamIds?: readonly number[] }>;
  /** Page sizes of the domains (default 4K | 2M | 1G, an SMMU with a 4K granule). */
  readonly pgsizeBitmap?: number;
  /** Input address bits (default 48). */
  readonly inputBits?: number;
  /** Reserved regions (default: the SMMU's SW_MSI window). */
  readonly reservedRegions?: readonly IommuReservedRegion[];
  /** `IOMMU_CAP_CACHE_COHERENCY` (default true). */
  readonly coherent?: boolean;
  /** The bus's ownership book (platform-bus `DriverCore.iommuOwnership`), shared with dma_configure. */
  readonly ownership?: IommuDmaOwnership;
}

/**
 * An IOMMU group whose domains are core's exact `FlatIommuDomain`s, shaped like an Arm SMMU
 * group (4K/2M/1G pages, the SW_MSI window reserved), for tests until `@vfiokit/smmu` is wired.
 * `domains` lists every domain it handed out.
 */
export function testIommuGroup(
  options: TestIommuGroupOptions,
): IommuGroup & { readonly domains: FlatIommuDomain[] } {
  rejectUnknownOptions(
    options,
    ['id', 'devices', 'pgsizeBitmap', 'inputBits', 'reservedRegions', 'coherent', 'ownership'],
    'testIommuGroup',
  );
  const domains: FlatIommuDomain[] = [];
  const group = new IommuGroup({
    id: options.id,
    allocateDomain: () => {
      const domain = new FlatIommuDomain({
        pgsizeBitmap: options.pgsizeBitmap ?? 0x1000 | 0x20_0000 | 0x4000_0000,
        inputBits: options.inputBits ?? 48,
        reservedRegions: options.reservedRegions ?? [SMMU_SW_MSI_REGION],
      });
      domains.push(domain);
      return domain;
    },
    cacheCoherent: () => options.coherent ?? true,
    ...(options.ownership === undefined ? {} : { ownership: options.ownership }),
  });
  for (const device of options.devices ?? [])
    group.addDevice({ device: device.name, streamIds: device.streamIds ?? [0] });
  return Object.assign(group, { domains });
}
