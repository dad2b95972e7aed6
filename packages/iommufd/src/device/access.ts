import type { IoptAccess } from '../ioas/io-pagetable.js';
import type { IommufdIoas } from '../ioas/ioas.js';
import { IommufdObject } from '../objects/object-table.js';

/** `struct iommufd_access_ops`: what an emulated driver gives `iommufd_access_create`. */
export interface IommufdAccessOps {
  /** `needs_pin_pages`: the driver pins pages, so IOVAs must be page aligned. */
  readonly needsPinPages: boolean;
  /**
   * `unmap`: user space is unmapping `[iova, iova + length)`; the driver must unpin every
   * page it pinned there before returning (vfio's `vfio_emulated_unmap` → `dma_unmap`).
   */
  unmap(iova: bigint, length: bigint): void;
}

/** `IOMMUFD_ACCESS_RW_*` of include/linux/iommufd.h. */
export const IOMMUFD_ACCESS_RW_READ = 0;
export const IOMMUFD_ACCESS_RW_WRITE: number = 1 << 0;
export const IOMMUFD_ACCESS_RW_KTHREAD: number = 1 << 1;

/**
 * `struct iommufd_access` (drivers/iommu/iommufd/device.c): how an emulated device (mdev,
 * vfio-platform's emulated path) reaches an IOAS without an IOMMU — it pins pages or copies
 * through them, and is told to unpin when user space unmaps.
 */
export class IommufdAccess extends IommufdObject implements IoptAccess {
  readonly type: 'access' = 'access';
  readonly iovaAlignment: bigint;
  /** `access->ioas`. */
  ioas: IommufdIoas | null = null;
  /** `access->ioas_unpin`: still the old IOAS while the driver unpins during a detach. */
  ioasUnpin: IommufdIoas | null = null;

  constructor(
    readonly ops: IommufdAccessOps,
    private readonly onDestroy: (access: IommufdAccess) => void,
  ) {
    super();
    this.iovaAlignment = ops.needsPinPages ? 4096n : 1n;
  }

  notifyUnmap(iova: bigint, length: bigint): void {
    this.ops.unmap(iova, length);
  }

  /** `iommufd_access_destroy_object`: detach from the IOAS, drop the context. */
  destroy(): void {
    this.onDestroy(this);
  }
}
