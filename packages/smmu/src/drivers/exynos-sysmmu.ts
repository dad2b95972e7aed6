import { type IommuEndpoint, type IommuGroup, KernelError, rejectUnknownOptions } from '@vfiokit/core';
import type { Device, DriverSpec } from '@vfiokit/platform-bus';
import type { IommuFwspec, IommuMaster, IommuOps } from './iommu-master.js';
import type { IommuProbe } from './iommu-probe.js';

/** Options of an {@link ExynosSysmmuDriver}. */
export interface ExynosSysmmuDriverOptions {
  readonly probe: IommuProbe;
}

/**
 * The Exynos System MMU driver (drivers/iommu/exynos-iommu.c, Linux 6.12) as far as groups
 * go: each `samsung,exynos-sysmmu` node (`#iommu-cells = <0>`) registers an instance; a master
 * lists one or more of them in `iommus` (`exynos_iommu_of_xlate` adds each to the master's
 * controller list and no IDs); `exynos_iommu_device_group` is `generic_device_group`, so every
 * master gets a group of its own. Not modelled: the System MMU registers and Exynos's own
 * two-level page-table format, so a group's default domain is core's identity stand-in and a
 * paging domain cannot be allocated (`EOPNOTSUPP`). `exynos_iommu_ops` has no `capable`, so
 * `IOMMU_CAP_CACHE_COHERENCY` is false and VFIO refuses these devices, as on Linux.
 */
export class ExynosSysmmuDriver {
  readonly spec: DriverSpec;
  readonly ops: IommuOps;
  private readonly probe: IommuProbe;
  private readonly instances = new Set<string>();
  // owner->controllers of each probed master.
  private readonly controllers = new Map<string, readonly string[]>();

  constructor(options: ExynosSysmmuDriverOptions) {
    rejectUnknownOptions(options, ['probe'], 'ExynosSysmmuDriver');
    this.probe = options.probe;
    this.spec = {
      name: 'exynos-sysmmu',
      ofMatchTable: ['samsung,exynos-sysmmu'],
      // exynos_sysmmu_driver: .suppress_bind_attrs = true.
      suppressBindAttrs: true,
      probe: (device) => this.deviceProbe(device),
    };
    this.ops = {
      name: 'exynos-sysmmu',
      // No IDs: the controller list is read back from `iommus` at probe.
      ofXlate: () => undefined,
      probeDevice: (master, fwspec) => this.probeDevice(master, fwspec),
      releaseDevice: (master) => {
        this.controllers.delete(master.name);
      },
      cacheCoherent: () => false,
      reservedRegions: () => [],
    };
  }

  /** The System MMUs in front of a probed master (`owner->controllers`), in `iommus` order. */
  controllersOf(device: string): readonly string[] | undefined {
    return this.controllers.get(device);
  }

  private deviceProbe(device: Device): void {
    const path = device.description.ofNode;
    if (path === undefined) throw new KernelError('ENODEV', `${device.name}: no OF node`);
    this.instances.add(path);
    this.probe.register(path, this.ops);
  }

  // exynos_iommu_probe_device (the master has controllers) + generic_device_group.
  private probeDevice(
    master: IommuMaster,
    fwspec: IommuFwspec,
  ): { group: IommuGroup; endpoint: IommuEndpoint } {
    if (!this.instances.has(fwspec.iommu)) throw new KernelError('ENODEV', `${fwspec.iommu}: no System MMU`);
    const controllers = [...new Set(master.iommus.map((link) => link.target))];
    this.controllers.set(master.name, controllers);
    const group = this.probe.allocGroup({
      iommu: fwspec.iommu,
      allocateDomain: () => {
        throw new KernelError('EOPNOTSUPP', 'Exynos System MMU page tables are not modelled');
      },
      cacheCoherent: () => false,
      reservedRegions: () => [],
    });
    return { group, endpoint: { device: master.name, streamIds: [] } };
  }
}
