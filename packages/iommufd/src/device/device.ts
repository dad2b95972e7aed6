import type { IommuGroup } from '@vfiokit/core';
import { IommufdObject } from '../objects/object-table.js';
import type { IommufdHwptPaging } from './hwpt.js';

/**
 * `struct iommufd_group` (drivers/iommu/iommufd/device.c): what one context knows of an
 * IOMMU group — the HWPT the group is attached to and the bound devices attached through it.
 * The whole group shares one domain, so every device of it attaches to the same HWPT.
 */
export interface IommufdGroupState {
  readonly group: IommuGroup;
  hwpt: IommufdHwptPaging | null;
  readonly attached: IommufdDevice[];
  /** `igroup->sw_msi_start`. */
  swMsiStart: bigint | undefined;
  /** Devices bound through this context in the group (the kref). */
  refs: number;
}

/**
 * `struct iommufd_device`: a device a driver (VFIO) bound to the context with
 * `iommufd_device_bind`; its id is the `out_devid` of VFIO_DEVICE_BIND_IOMMUFD. The driver
 * holds a user until `iommufd_device_unbind`, an attachment holds another, so
 * IOMMU_DESTROY of a device id is always `EBUSY`.
 */
export class IommufdDevice extends IommufdObject {
  readonly type: 'device' = 'device';

  constructor(
    readonly device: string,
    readonly igroup: IommufdGroupState,
    private readonly onDestroy: (idev: IommufdDevice) => void,
  ) {
    super();
  }

  /** The HWPT the device is attached to, or null. */
  get hwpt(): IommufdHwptPaging | null {
    return this.igroup.attached.includes(this) ? this.igroup.hwpt : null;
  }

  /** `iommufd_device_destroy`: release DMA ownership, drop the group and the context. */
  destroy(): void {
    this.onDestroy(this);
  }
}
