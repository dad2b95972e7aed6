import { KernelError, type PhysAddr, type PhysicalMemory } from '@vfiokit/core';
import type { VfioDevice } from '../device/vfio-device.js';
import type { VfioGroup } from '../group/vfio-group.js';
import type { IommufdAccessRef, IommufdCtx, IommufdDeviceRef } from './iommufd-ctx.js';

/**
 * What a device opened through its cdev holds of iommufd (`vdev->iommufd_device` or
 * `vdev->iommufd_access`, `vdev->iommufd_attached`), by device.
 */
export interface CdevBinding {
  readonly ictx: IommufdCtx;
  readonly idev: IommufdDeviceRef | null;
  readonly access: IommufdAccessRef | null;
  attached: boolean;
}

const BINDINGS = new WeakMap<VfioDevice, CdevBinding>();
const GROUP_BLOCKS = new WeakMap<VfioGroup, number>();

/** The iommufd binding of a device opened through its cdev, if any. */
export function cdevBinding(device: VfioDevice): CdevBinding | undefined {
  return BINDINGS.get(device);
}

/** @internal */
export function setCdevBinding(device: VfioDevice, binding: CdevBinding | undefined): void {
  if (binding === undefined) BINDINGS.delete(device);
  else BINDINGS.set(device, binding);
}

/** `group->cdev_device_open_cnt`: devices of the group bound through their cdev. */
export function cdevDeviceOpenCount(group: VfioGroup): number {
  return GROUP_BLOCKS.get(group) ?? 0;
}

/** `vfio_device_block_group` (drivers/vfio/group.c): `EBUSY` while the group file is open. */
export function vfioDeviceBlockGroup(group: VfioGroup): void {
  if (group.opened) throw new KernelError('EBUSY', `group ${group.name} is open`);
  GROUP_BLOCKS.set(group, cdevDeviceOpenCount(group) + 1);
}

/** `vfio_device_unblock_group`. */
export function vfioDeviceUnblockGroup(group: VfioGroup): void {
  GROUP_BLOCKS.set(group, cdevDeviceOpenCount(group) - 1);
}

const PAGE = 4096;
const IOMMU_WRITE = 2;
const RW_WRITE = 1;
const RW_KTHREAD = 2;

/**
 * `vfio_pin_pages` with `device->iommufd_access` (drivers/vfio/vfio_main.c, 6.12):
 * `iommufd_access_pin_pages(access, ALIGN_DOWN(iova, PAGE_SIZE), npage * PAGE_SIZE, …)`.
 * Returns undefined for a device not bound through its cdev.
 */
export function cdevPinPages(
  device: VfioDevice,
  iova: number,
  npage: number,
  prot: number,
): PhysAddr[] | undefined {
  const b = BINDINGS.get(device);
  if (b?.access === null || b === undefined) return undefined;
  return b.ictx.accessPinPages(
    b.access,
    iova - (iova % PAGE),
    BigInt(npage) * BigInt(PAGE),
    prot & IOMMU_WRITE ? RW_WRITE : 0,
  );
}

/** `vfio_unpin_pages` with an iommufd access; false for a device not bound through its cdev. */
export function cdevUnpinPages(device: VfioDevice, iova: number, npage: number): boolean {
  const b = BINDINGS.get(device);
  if (b?.access === null || b === undefined) return false;
  b.ictx.accessUnpinPages(b.access, iova - (iova % PAGE), BigInt(npage) * BigInt(PAGE));
  return true;
}

/** `vfio_dma_rw` with an iommufd access (KTHREAD when there is no current mm); false when not bound. */
export function cdevDmaRw(
  device: VfioDevice,
  memory: PhysicalMemory,
  iova: number,
  data: Uint8Array,
  write: boolean,
  kthread: boolean,
): boolean {
  const b = BINDINGS.get(device);
  if (b?.access === null || b === undefined) return false;
  b.ictx.accessRw(b.access, iova, data, (write ? RW_WRITE : 0) | (kthread ? RW_KTHREAD : 0), memory);
  return true;
}
