import { IommufdObject } from '../objects/object-table.js';
import { IoPagetable } from './io-pagetable.js';

/** A HW pagetable as its IOAS lists it (`ioas->hwpt_list`). */
export interface IoasHwpt {
  readonly autoDomain: boolean;
}

/**
 * `struct iommufd_ioas` (drivers/iommu/iommufd/ioas.c): an IO address space user space maps
 * memory into; HW pagetables allocated on it mirror it into IOMMU domains.
 */
export class IommufdIoas extends IommufdObject {
  readonly type: 'ioas' = 'ioas';
  readonly iopt: IoPagetable = new IoPagetable();
  /** `ioas->hwpt_list`. */
  readonly hwpts: IoasHwpt[] = [];

  /** `iommufd_ioas_destroy`: unmap everything (`iopt_unmap_all`), which unpins it all. */
  destroy(): void {
    this.iopt.unmapAll();
  }
}
