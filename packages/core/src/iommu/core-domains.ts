import type { Iova, PhysAddr } from '../address.js';
import { KernelError } from '../kernel-error.js';
import type {
  IommuAccess,
  IommuDomain,
  IommuDomainType,
  IommuEndpoint,
  IommuFault,
  IommuReservedRegion,
} from './iommu-domain.js';

/**
 * What the core-owned domains share: endpoint bookkeeping, a full aperture, and no paging ops.
 * drivers/iommu/iommu.c `__iommu_map` refuses a domain without `__IOMMU_DOMAIN_PAGING`
 * (`-EINVAL`), and `iommu_unmap` on one unmaps nothing.
 */
abstract class CoreOwnedDomain implements IommuDomain {
  abstract readonly type: IommuDomainType;
  readonly pgsizeBitmap = 0;
  readonly aperture = { start: 0 as Iova, end: Number.MAX_SAFE_INTEGER as Iova };
  private readonly attached = new Map<string, IommuEndpoint>();

  get endpoints(): readonly IommuEndpoint[] {
    return [...this.attached.values()];
  }

  attach(endpoint: IommuEndpoint): void {
    if (this.attached.has(endpoint.device))
      throw new KernelError('EBUSY', `${endpoint.device} is attached to this ${this.type} domain`);
    this.attached.set(endpoint.device, endpoint);
  }

  detach(endpoint: IommuEndpoint): void {
    if (!this.attached.delete(endpoint.device))
      throw new KernelError('ENODEV', `${endpoint.device} is not attached to this ${this.type} domain`);
  }

  map(_iova: Iova, _paddr: PhysAddr, _size: number, _prot: number): void {
    throw new KernelError('EINVAL', `a ${this.type} domain has no page tables to map into`);
  }

  unmap(_iova: Iova, _size: number): number {
    return 0;
  }

  abstract translate(iova: Iova, access: IommuAccess): PhysAddr | IommuFault;

  reservedRegions(): readonly IommuReservedRegion[] {
    return [];
  }
}

/**
 * `IOMMU_DOMAIN_BLOCKED` (`group->blocking_domain`): every access faults. A group a user
 * claimed sits on it until the user attaches a domain of its own, so nothing the device
 * does in between reaches memory.
 */
export class BlockingDomain extends CoreOwnedDomain {
  readonly type = 'blocked' as const;

  translate(iova: Iova, access: IommuAccess): IommuFault {
    return { kind: 'blocked', iova, access, reason: 'the blocking domain lets no DMA through' };
  }
}

/**
 * `IOMMU_DOMAIN_IDENTITY` (`iommu.passthrough=1`, or a driver that asks for it): DMA reaches
 * the physical address equal to the bus address. The default domain of a group whose IOMMU
 * driver gives none.
 */
export class IdentityDomain extends CoreOwnedDomain {
  readonly type = 'identity' as const;

  translate(iova: Iova, _access: IommuAccess): PhysAddr {
    return iova as number as PhysAddr;
  }
}
