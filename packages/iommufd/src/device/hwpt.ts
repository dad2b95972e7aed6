import type { IommuDomain } from '@vfiokit/core';
import type { IommufdIoas } from '../ioas/ioas.js';
import { IommufdObject } from '../objects/object-table.js';

/**
 * `struct iommufd_hwpt_paging` (drivers/iommu/iommufd/hw_pagetable.c): an IOMMU domain that
 * mirrors an IOAS (`iopt_table_add_domain`). It holds a user of its IOAS; attached devices
 * hold users of it. An auto domain (made by attaching a device straight to an IOAS) goes
 * away with its last device.
 */
export class IommufdHwptPaging extends IommufdObject {
  readonly type: 'hwpt_paging' = 'hwpt_paging';
  autoDomain = false;
  /** `hwpt_paging->msi_cookie`: `iommu_get_msi_cookie` was called at the SW MSI base. */
  msiCookie: bigint | undefined;

  constructor(
    readonly ioas: IommufdIoas,
    readonly domain: IommuDomain,
    /** Whether `iopt_table_add_domain` succeeded (an aborted allocation has nothing to undo). */
    private inTable = false,
  ) {
    super();
  }

  /** Marks the domain as added to the IOAS's table (`list_add_tail(&hwpt_item)`). */
  addedToTable(): void {
    this.inTable = true;
    this.ioas.hwpts.push(this);
  }

  /** `iommufd_hwpt_paging_destroy`. */
  destroy(): void {
    if (this.inTable) {
      const at = this.ioas.hwpts.indexOf(this);
      if (at >= 0) this.ioas.hwpts.splice(at, 1);
      this.ioas.iopt.removeDomain(this.domain);
      this.inTable = false;
    }
    // __iommufd_hwpt_destroy: iommu_domain_free — the driver takes its context bank / ASID and
    // the tables back.
    this.domain.free?.();
    this.ioas.users--;
  }
}
