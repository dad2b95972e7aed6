import { KernelError } from '../kernel-error.js';

interface GroupOwnership {
  ownerCount: number;
  owner: unknown;
  /** `group->domain == group->default_domain`, as the group that registered reports it. */
  onDefaultDomain: () => boolean;
}

/**
 * IOMMU-group DMA ownership as drivers/iommu/iommu.c keeps it (`group->owner_cnt`,
 * `group->owner`), by group id: the one book the bus's `dma_configure` step
 * (platform-bus's `platformDmaConfigure`, which only knows a device's group number) and the
 * {@link IommuGroup}s share, so a kernel driver's probe and a user-space claim see each other.
 * Kernel drivers take the default domain (`owner_cnt++`), a user-space owner (VFIO) claims the
 * whole group. The two exclude each other: a host driver's probe fails `EBUSY` on a claimed
 * group, a claim fails `EPERM` while any kernel driver uses the group.
 */
export class IommuDmaOwnership {
  private readonly groups = new Map<number, GroupOwnership>();
  /** Kernel warnings (`WARN_ON`) raised so far, oldest first, as dmesg would show them. */
  readonly warnings: string[] = [];

  private group(id: number): GroupOwnership {
    let group = this.groups.get(id);
    if (group === undefined) {
      group = { ownerCount: 0, owner: undefined, onDefaultDomain: () => true };
      this.groups.set(id, group);
    }
    return group;
  }

  /**
   * @internal An {@link IommuGroup} tells the book how to see whether it sits on its default
   * domain, which `iommu_device_use_default_domain` checks.
   */
  track(groupId: number, onDefaultDomain: () => boolean): void {
    this.group(groupId).onDefaultDomain = onDefaultDomain;
  }

  /**
   * `iommu_device_use_default_domain()`: a device without a group is always fine; while the
   * group has users, `EBUSY` when one of them is a user-space owner or the group is not on
   * its default domain; otherwise one more kernel user.
   */
  useDefaultDomain(groupId: number | undefined): void {
    if (groupId === undefined) return;
    const group = this.group(groupId);
    if (group.ownerCount > 0 && (group.owner !== undefined || !group.onDefaultDomain())) {
      throw new KernelError('EBUSY', `IOMMU group ${groupId} is owned by user space`);
    }
    group.ownerCount++;
  }

  /**
   * `iommu_device_unuse_default_domain()`: drops one kernel user of the group. With no user
   * to drop — the device got its group after its driver was bound, so the probe counted
   * nothing — the kernel only warns (`WARN_ON(!group->owner_cnt)`) and goes on; the warning
   * is kept in {@link IommuDmaOwnership.warnings}. It never fails: it runs on the unbind path,
   * which cannot.
   */
  unuseDefaultDomain(groupId: number | undefined): void {
    if (groupId === undefined) return;
    const group = this.group(groupId);
    if (group.ownerCount === 0) {
      this.warnings.push(
        `WARNING: iommu_device_unuse_default_domain: IOMMU group ${groupId} has owner_cnt 0`,
      );
      return;
    }
    group.ownerCount--;
  }

  /**
   * The bookkeeping of `iommu_group_claim_dma_owner()`: `EINVAL` for no owner (`WARN_ON`),
   * `EPERM` while any kernel driver or another owner uses the group.
   */
  claimDmaOwner(groupId: number, owner: unknown): void {
    this.assertClaimable(groupId, owner);
    const group = this.group(groupId);
    group.owner = owner;
    group.ownerCount = 1;
  }

  /** @internal The checks of {@link claimDmaOwner} alone, in the kernel's order. */
  assertClaimable(groupId: number, owner: unknown): void {
    if (owner === undefined || owner === null) throw new KernelError('EINVAL', 'a DMA owner must be given');
    const group = this.group(groupId);
    if (group.ownerCount > 0) {
      throw new KernelError('EPERM', `IOMMU group ${groupId} is in use (owner count ${group.ownerCount})`);
    }
  }

  /**
   * `iommu_device_claim_dma_owner()` on a device of the group: a second claim by the same
   * owner counts once more; another owner, or kernel drivers, give `EPERM`.
   */
  claimDeviceDmaOwner(groupId: number, owner: unknown): 'claimed' | 'shared' {
    if (owner === undefined || owner === null) throw new KernelError('EINVAL', 'a DMA owner must be given');
    const group = this.group(groupId);
    if (group.ownerCount > 0) {
      if (group.owner !== owner) {
        throw new KernelError('EPERM', `IOMMU group ${groupId} is in use (owner count ${group.ownerCount})`);
      }
      group.ownerCount++;
      return 'shared';
    }
    group.owner = owner;
    group.ownerCount = 1;
    return 'claimed';
  }

  /**
   * `iommu_group_release_dma_owner()`; `EINVAL` if `owner` does not own the group (the
   * kernel, which has no owner argument, `WARN_ON`s and returns).
   */
  releaseDmaOwner(groupId: number, owner: unknown): void {
    const group = this.group(groupId);
    if (group.owner === undefined || group.owner !== owner) {
      throw new KernelError('EINVAL', `IOMMU group ${groupId} is not owned by this owner`);
    }
    group.owner = undefined;
    group.ownerCount = 0;
  }

  /**
   * `iommu_device_release_dma_owner()`: drops one device claim; the last one releases the
   * group. Returns whether the group was released.
   */
  releaseDeviceDmaOwner(groupId: number, owner: unknown): boolean {
    const group = this.group(groupId);
    if (group.owner === undefined || group.owner !== owner) {
      throw new KernelError('EINVAL', `IOMMU group ${groupId} is not owned by this owner`);
    }
    if (group.ownerCount > 1) {
      group.ownerCount--;
      return false;
    }
    group.owner = undefined;
    group.ownerCount = 0;
    return true;
  }

  /** Whether a user-space owner holds the group (`group->owner != NULL`). */
  isClaimed(groupId: number): boolean {
    return this.groups.get(groupId)?.owner !== undefined;
  }

  /** The group's `owner_cnt`. */
  ownerCount(groupId: number): number {
    return this.groups.get(groupId)?.ownerCount ?? 0;
  }
}
