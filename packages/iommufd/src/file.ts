import { KernelError } from '@vfiokit/core';
import { IommufdContext, type IommufdContextOptions } from './context.js';
import { iommufdIoctl } from './ioctl.js';

/**
 * An open `/dev/iommu` as a file in a process's fd table (`iommufd_fops`): `ioctl` takes the
 * raw UAPI struct, `release` is the last close. It has the shape of `@vfiokit/vfio`'s
 * `VfioFile` (an `anon` file to VFIO), so a process model can hold it, and VFIO's
 * `iommufd_ctx_from_fd` finds the context through `iommufd`.
 */
export class IommufdFile {
  readonly kind: 'anon' = 'anon';
  readonly iommufd: IommufdContext;

  /** `open("/dev/iommu")`. */
  constructor(options: IommufdContextOptions) {
    this.iommufd = new IommufdContext(options);
  }

  /** `iommufd_fops_ioctl`. */
  ioctl(_current: unknown, request: number, arg?: Uint8Array | number): number {
    return iommufdIoctl(this.iommufd, request, arg);
  }

  /** iommufd has no read. */
  read(): number {
    throw new KernelError('EINVAL', '/dev/iommu has no read');
  }

  /** iommufd has no write. */
  write(): number {
    throw new KernelError('EINVAL', '/dev/iommu has no write');
  }

  /** iommufd has no mmap. */
  mmap(): never {
    throw new KernelError('ENODEV', '/dev/iommu has no mmap');
  }

  /** The last close: the context goes once bound devices and accesses let go. */
  release(): void {
    this.iommufd.close();
  }
}
