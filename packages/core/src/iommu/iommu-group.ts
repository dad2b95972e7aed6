import { KernelError } from '../kernel-error.js';
import { rejectUnknownOptions } from '../options.js';
import { BlockingDomain, IdentityDomain } from './core-domains.js';
import { IommuDmaOwnership } from './dma-ownership.js';
import type { IommuDomain, IommuEndpoint, IommuReservedRegion } from './iommu-domain.js';
import { groupReservedRegions } from './resv-regions.js';

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
   * `platformDmaConfigure` over `DriverCore.iommuOwnership`), so a claim by VFIO and a host
   * driver's probe see each other. Default: a private one.
   */
  readonly ownership?: IommuDmaOwnership;
  /**
   * `group->default_domain`, which kernel drivers' DMA goes through; the IOMMU driver gives
   * it (a DMA domain). Default: an {@link IdentityDomain}, as `iommu.passthrough=1` makes.
   */
  readonly defaultDomain?: IommuDomain;
  /** The IOMMU driver's `get_resv_regions` for one member. Default: none. */
  readonly reservedRegions?: (device: string) => readonly IommuReservedRegion[];
  /** The IOMMU instance that formed the group (its device-tree path), for reports. */
  readonly iommu?: string;
}

const OPTION_KEYS = [
  'id',
  'allocateDomain',
  'cacheCoherent',
  'ownership',
  'defaultDomain',
  'reservedRegions',
  'iommu',
] as const;

/**
 * An IOMMU group with the rules of drivers/iommu/iommu.c (Linux 6.12): members attach to the
 * group's current domain (`group->domain`); kernel drivers take the default domain at probe
 * (`iommu_device_use_default_domain`, `owner_cnt++`); a user such as VFIO claims the whole
 * group (`iommu_group_claim_dma_owner`), which moves it to the blocking domain, then attaches
 * a paging domain of its own (`iommu_attach_group`); detaching returns it to the blocking
 * domain while it is owned, releasing returns it to the default domain. `@vfiokit/smmu`'s
 * drivers form these groups, platform-bus's `dma_configure` and `@vfiokit/vfio` use them.
 */
export class IommuGroup {
  readonly id: number;
  /** The IOMMU instance that formed the group, when one did. */
  readonly iommu: string | undefined;
  /** `group->default_domain`. */
  readonly defaultDomain: IommuDomain;
  private readonly members = new Map<string, IommuEndpoint>();
  private readonly allocate: () => IommuDomain;
  private readonly coherent: (device: string) => boolean;
  private readonly resv: (device: string) => readonly IommuReservedRegion[];
  private readonly book: IommuDmaOwnership;
  private blocking: BlockingDomain | null = null;
  private current: IommuDomain;
  private ownerToken: object | null = null;

  constructor(options: IommuGroupOptions) {
    rejectUnknownOptions(options, OPTION_KEYS, 'IommuGroup');
    if (!Number.isSafeInteger(options.id) || options.id < 0)
      throw new KernelError('EINVAL', `IOMMU group id ${String(options.id)}`);
    this.id = options.id;
    this.iommu = options.iommu;
    this.allocate = options.allocateDomain;
    this.coherent = options.cacheCoherent ?? (() => true);
    this.resv = options.reservedRegions ?? (() => []);
    this.book = options.ownership ?? new IommuDmaOwnership();
    this.defaultDomain = options.defaultDomain ?? new IdentityDomain();
    this.current = this.defaultDomain;
    this.book.track(this.id, () => this.current === this.defaultDomain);
  }

  /** Adds a device (`iommu_group_add_device`); it attaches to the group's current domain. */
  addDevice(endpoint: IommuEndpoint): void {
    if (this.members.has(endpoint.device))
      throw new KernelError('EEXIST', `${endpoint.device} is in group ${this.id}`);
    this.current.attach(endpoint);
    this.members.set(endpoint.device, endpoint);
  }

  /** Removes a device (`iommu_group_remove_device`), detaching it from the current domain. */
  removeDevice(device: string): void {
    const endpoint = this.members.get(device);
    if (endpoint === undefined) throw new KernelError('ENODEV', `${device} is not in group ${this.id}`);
    this.current.detach(endpoint);
    this.members.delete(device);
  }

  /** Devices of the group, by name, in the order they were added. */
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

  /** `group->domain`: the default, the blocking, or a user's domain. */
  get currentDomain(): IommuDomain {
    return this.current;
  }

  /** The domain a user attached, or null while the group sits on a core-owned domain. */
  get domain(): IommuDomain | null {
    return this.current === this.defaultDomain || this.current === this.blocking ? null : this.current;
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
   * `iommu_get_group_resv_regions`: the members' reserved regions, merged as
   * `iommu_insert_resv_region` merges them.
   */
  reservedRegions(): IommuReservedRegion[] {
    return groupReservedRegions([...this.members.keys()].map((device) => this.resv(device)));
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
   * `iommu_group_claim_dma_owner`: `EINVAL` without an owner, `EPERM` while kernel drivers use
   * the group (`owner_cnt` > 0), `EBUSY` when it is not on its default domain; then the group
   * moves to its blocking domain (`__iommu_take_dma_ownership`).
   */
  claimDmaOwner(owner: object): void {
    this.book.assertClaimable(this.id, owner);
    this.takeOwnership(owner, () => this.book.claimDmaOwner(this.id, owner));
  }

  /**
   * `iommu_device_claim_dma_owner(dev, owner)`: as a group claim, except that further claims
   * by the same owner (for other devices of the group) only count (`owner_cnt++`).
   */
  deviceClaimDmaOwner(_device: string, owner: object): void {
    if (this.ownerToken !== null && this.ownerToken === owner) {
      this.book.claimDeviceDmaOwner(this.id, owner);
      return;
    }
    this.book.assertClaimable(this.id, owner);
    this.takeOwnership(owner, () => this.book.claimDeviceDmaOwner(this.id, owner));
  }

  private takeOwnership(owner: object, record: () => void): void {
    if (this.current !== this.defaultDomain)
      throw new KernelError('EBUSY', `group ${this.id} is not on its default domain`);
    this.blocking ??= new BlockingDomain();
    this.setDomain(this.blocking);
    record();
    this.ownerToken = owner;
  }

  /** `iommu_group_release_dma_owner`: back to the default domain. */
  releaseDmaOwner(owner: object): void {
    if (this.ownerToken !== owner)
      throw new KernelError('EINVAL', `group ${this.id} is not owned by this user`);
    this.book.releaseDmaOwner(this.id, owner);
    this.ownerToken = null;
    this.setDomain(this.defaultDomain);
  }

  /** `iommu_device_release_dma_owner`: the last device claim releases the group. */
  deviceReleaseDmaOwner(_device: string, owner: object): void {
    if (this.ownerToken !== owner)
      throw new KernelError('EINVAL', `group ${this.id} is not owned by this user`);
    if (!this.book.releaseDeviceDmaOwner(this.id, owner)) return;
    this.ownerToken = null;
    this.setDomain(this.defaultDomain);
  }

  /**
   * `iommu_attach_group`: every member moves to `domain`. `EBUSY` when the group is on
   * another user's domain (only the default and the blocking domain may be left this way).
   */
  attachDomain(domain: IommuDomain): void {
    if (this.domain !== null)
      throw new KernelError('EBUSY', `group ${this.id} is attached to another domain`);
    this.setDomain(domain);
  }

  /**
   * `iommu_detach_group` (`__iommu_group_set_core_domain`): back to the blocking domain while
   * a user owns the group, else to the default domain. The kernel ignores which domain it is
   * told; the model refuses a domain that is not the attached one (`EINVAL`), which is a bug
   * in the caller.
   */
  detachDomain(domain: IommuDomain): void {
    if (this.domain !== domain || this.domain === null)
      throw new KernelError('EINVAL', `group ${this.id} is not attached to that domain`);
    this.setDomain(this.ownerToken !== null && this.blocking !== null ? this.blocking : this.defaultDomain);
  }

  /**
   * `__iommu_group_set_domain`: attach every member to `next`, leaving the old domain; on a
   * failure, the members already moved go back (`__iommu_group_set_domain_internal`'s undo).
   */
  private setDomain(next: IommuDomain): void {
    const previous = this.current;
    if (next === previous) return;
    const moved: IommuEndpoint[] = [];
    try {
      for (const endpoint of this.members.values()) {
        next.attach(endpoint);
        moved.push(endpoint);
        previous.detach(endpoint);
      }
    } catch (error) {
      for (const endpoint of moved) {
        next.detach(endpoint);
        if (!previous.endpoints.some((e) => e.device === endpoint.device)) previous.attach(endpoint);
      }
      throw error;
    }
    this.current = next;
  }
}
