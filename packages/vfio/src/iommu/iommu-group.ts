import { type IommuDomain, type IommuEndpoint, KernelError, rejectUnknownOptions } from '@vfiokit/core';
import { IommuDmaOwnership } from '@vfiokit/platform-bus';

/** Options of an {@link IommuGroup}. */
export interface IommuGroupOptions {
  /** `/sys/kernel/iommu_groups/<id>`. */
  readonly id: number;
  /** Allocates a paging (UNMANAGED) domain for this group's devices (`iommu_paging_domain_alloc`). */
  readonly allocateDomain: () => IommuDomain;
  /**
   * `device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY)`: SMMUv3 says yes iff the SMMU is
   * coherent; SMMUv2 iff its table walks are coherent or the device is `dma-coherent`
   * (drivers/iommu/arm/arm-smmu*.c `capable`). Default: coherent.
   */
  readonly cacheCoherent?: (device: string) => boolean;
  /**
   * The ownership book the bus's `dma_configure` step uses (platform-bus's
   * `IommuDmaOwnership`, shared with `platformDmaConfigure`), so a claim by VFIO and a host
   * driver's probe see each other. Default: a private one.
   */
  readonly ownership?: IommuDmaOwnership;
}

/**
 * An IOMMU group with the DMA-ownership rules of drivers/iommu/iommu.c: kernel drivers take
 * the default domain at probe (`iommu_device_use_default_domain`, `owner_cnt++`), and a user
 * such as VFIO claims the whole group (`iommu_group_claim_dma_owner`) only while no kernel
 * driver uses it. The SMMU models own real groups; this is the part VFIO and the bus's
 * `dma_configure` step need.
 */
export class IommuGroup {
  readonly id: number;
  private readonly members = new Map<string, IommuEndpoint>();
  private readonly allocate: () => IommuDomain;
  private readonly coherent: (device: string) => boolean;
  private readonly book: IommuDmaOwnership;
  private ownerToken: object | null = null;
  private attached: IommuDomain | null = null;

  constructor(options: IommuGroupOptions) {
    rejectUnknownOptions(options, ['id', 'allocateDomain', 'cacheCoherent', 'ownership'], 'IommuGroup');
    this.id = options.id;
    this.allocate = options.allocateDomain;
    this.coherent = options.cacheCoherent ?? (() => true);
    this.book = options.ownership ?? new IommuDmaOwnership();
  }

  /** Adds a device (`iommu_group_add_device`). */
  addDevice(endpoint: IommuEndpoint): void {
    if (this.members.has(endpoint.device))
      throw new KernelError('EEXIST', `${endpoint.device} is in group ${this.id}`);
    this.members.set(endpoint.device, endpoint);
  }

  /** Removes a device (`iommu_group_remove_device`). */
  removeDevice(device: string): void {
    if (!this.members.delete(device)) throw new KernelError('ENODEV', `${device} is not in group ${this.id}`);
  }

  /** Devices of the group, by name. */
  get devices(): readonly string[] {
    return [...this.members.keys()];
  }

  /** The bus masters of the group, as domains attach them. */
  get endpoints(): readonly IommuEndpoint[] {
    return [...this.members.values()];
  }

  /** `group->owner_cnt`. */
  get ownerCnt(): number {
    return this.book.ownerCount(this.id);
  }

  /** `group->owner`: the claiming user, or null. */
  get owner(): object | null {
    return this.ownerToken;
  }

  /** The domain a user attached, or null while the group sits on its default domain. */
  get domain(): IommuDomain | null {
    return this.attached;
  }

  /** A new paging domain for this group. */
  allocateDomain(): IommuDomain {
    return this.allocate();
  }

  /** `device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY)`. */
  cacheCoherent(device: string): boolean {
    return this.coherent(device);
  }

  /**
   * `iommu_device_use_default_domain`: a kernel driver without `driver_managed_dma` is about
   * to probe. `EBUSY` while a user owns the group.
   */
  deviceUseDefaultDomain(_device: string): void {
    this.book.useDefaultDomain(this.id);
  }

  /** `iommu_device_unuse_default_domain`: the kernel driver unbound. */
  deviceUnuseDefaultDomain(_device: string): void {
    this.book.unuseDefaultDomain(this.id);
  }

  /** `iommu_group_dma_owner_claimed`: `owner_cnt != 0` (kernel drivers or a user). */
  dmaOwnerClaimed(): boolean {
    return this.book.ownerCount(this.id) > 0;
  }

  /**
   * `iommu_group_claim_dma_owner`: `EPERM` while kernel drivers use the group (`owner_cnt` > 0),
   * `EBUSY` when it is not on its default domain.
   */
  claimDmaOwner(owner: object): void {
    if (this.attached !== null)
      throw new KernelError('EBUSY', `group ${this.id} is not on its default domain`);
    this.book.claimDmaOwner(this.id, owner);
    this.ownerToken = owner;
  }

  /** `iommu_group_release_dma_owner`: back to the default domain. */
  releaseDmaOwner(owner: object): void {
    if (this.ownerToken !== owner)
      throw new KernelError('EINVAL', `group ${this.id} is not owned by this user`);
    if (this.attached !== null) this.detachDomain(this.attached);
    this.book.releaseDmaOwner(this.id, owner);
    this.ownerToken = null;
  }

  /** `iommu_attach_group`: attaches every device to `domain`; only for the owner's domains. */
  attachDomain(domain: IommuDomain): void {
    if (this.ownerToken === null) throw new KernelError('EINVAL', `group ${this.id} has no DMA owner`);
    if (this.attached !== null)
      throw new KernelError('EBUSY', `group ${this.id} is attached to another domain`);
    const done: IommuEndpoint[] = [];
    try {
      for (const endpoint of this.members.values()) {
        domain.attach(endpoint);
        done.push(endpoint);
      }
    } catch (error) {
      for (const endpoint of done) domain.detach(endpoint);
      throw error;
    }
    this.attached = domain;
  }

  /** `iommu_detach_group`: back to the default domain. */
  detachDomain(domain: IommuDomain): void {
    if (this.attached !== domain)
      throw new KernelError('EINVAL', `group ${this.id} is not attached to that domain`);
    for (const endpoint of this.members.values()) domain.detach(endpoint);
    this.attached = null;
  }
}
