import { KernelError } from '@vfiokit/core';
import type { Device, DriverSpec } from './device.js';

/**
 * The bus's `dma_configure` / `dma_cleanup` callbacks, called by the driver core around a
 * probe (drivers/base/dd.c really_probe(): dma_configure before the driver's probe,
 * dma_cleanup when the probe fails and after remove). Injectable so the IOMMU layer (or
 * `@vfiokit/vfio`, which claims a group for user space) decides whether a host driver may
 * bind. `configure` throws a `KernelError` (`EBUSY`, `EPROBE_DEFER`) to refuse the probe.
 */
export interface DmaConfigureHook {
  configure(device: Device, driver: DriverSpec): void;
  cleanup(device: Device, driver: DriverSpec): void;
}

interface GroupOwnership {
  ownerCount: number;
  owner: unknown;
}

/**
 * IOMMU-group DMA ownership as drivers/iommu/iommu.c keeps it: kernel drivers take the
 * default domain (`owner_cnt++`), a user-space owner (VFIO) claims the whole group. The two
 * exclude each other: a host driver's probe fails `EBUSY` on a claimed group, a claim fails
 * `EPERM` while any kernel driver uses the group.
 */
export class IommuDmaOwnership {
  private readonly groups = new Map<number, GroupOwnership>();
  /** Kernel warnings (`WARN_ON`) raised so far, oldest first, as dmesg would show them. */
  readonly warnings: string[] = [];

  private group(id: number): GroupOwnership {
    let group = this.groups.get(id);
    if (group === undefined) {
      group = { ownerCount: 0, owner: undefined };
      this.groups.set(id, group);
    }
    return group;
  }

  /**
   * `iommu_device_use_default_domain()`: a device without a group is always fine; a group
   * with a user-space owner gives `EBUSY`; otherwise one more kernel user.
   */
  useDefaultDomain(groupId: number | undefined): void {
    if (groupId === undefined) return;
    const group = this.group(groupId);
    if (group.ownerCount > 0 && group.owner !== undefined) {
      throw new KernelError('EBUSY', `IOMMU group ${groupId} is owned by user space`);
    }
    group.ownerCount++;
  }

  /**
   * `iommu_device_unuse_default_domain()` (drivers/iommu/iommu.c): drops one kernel user of
   * the group. With no user to drop — the device got its group after its driver was bound,
   * so the probe counted nothing — the kernel only warns (`WARN_ON(!group->owner_cnt)`) and
   * goes on; the warning is kept in {@link IommuDmaOwnership.warnings}. It never fails: it
   * runs on the unbind path, which cannot.
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
   * `iommu_group_claim_dma_owner()`: `EPERM` while any kernel driver or another owner uses
   * the group; `EINVAL` for an undefined owner.
   */
  claimDmaOwner(groupId: number, owner: unknown): void {
    if (owner === undefined || owner === null) throw new KernelError('EINVAL', 'a DMA owner must be given');
    const group = this.group(groupId);
    if (group.ownerCount > 0) {
      throw new KernelError('EPERM', `IOMMU group ${groupId} is in use (owner count ${group.ownerCount})`);
    }
    group.owner = owner;
    group.ownerCount = 1;
  }

  /** `iommu_group_release_dma_owner()`; `EINVAL` if `owner` does not own the group. */
  releaseDmaOwner(groupId: number, owner: unknown): void {
    const group = this.group(groupId);
    if (group.owner === undefined || group.owner !== owner) {
      throw new KernelError('EINVAL', `IOMMU group ${groupId} is not owned by this owner`);
    }
    group.owner = undefined;
    group.ownerCount = 0;
  }

  /** `iommu_group_dma_owner_claimed()`. */
  isClaimed(groupId: number): boolean {
    return this.groups.get(groupId)?.owner !== undefined;
  }

  /** The group's `owner_cnt`. */
  ownerCount(groupId: number): number {
    return this.groups.get(groupId)?.ownerCount ?? 0;
  }
}

/**
 * `platform_dma_configure()` / `platform_dma_cleanup()` (drivers/base/platform.c; AMBA's
 * are the same in drivers/amba/bus.c): unless the driver sets `driver_managed_dma`, take
 * the device's IOMMU group default domain at probe and drop it at cleanup.
 */
export function platformDmaConfigure(ownership: IommuDmaOwnership): DmaConfigureHook {
  return {
    configure(device: Device, driver: DriverSpec): void {
      if (driver.driverManagedDma !== true) ownership.useDefaultDomain(device.iommuGroup);
    },
    cleanup(device: Device, driver: DriverSpec): void {
      if (driver.driverManagedDma !== true) ownership.unuseDefaultDomain(device.iommuGroup);
    },
  };
}
