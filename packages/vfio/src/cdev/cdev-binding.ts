import { KernelError, type PhysAddr, type PhysicalMemory } from '@vfiokit/core';
import type { VfioDevice } from '../device/vfio-device.js';
import type { VfioGroup } from '../group/vfio-group.js';
import type { MsiIsolation } from '../type1/msi-isolation.js';
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

/**
 * `ops->bind_iommufd` (drivers/vfio/iommufd.c): `vfio_iommufd_physical_bind`
 * (`iommufd_device_bind`, which claims the device's DMA ownership) for a device in an IOMMU
 * group, `vfio_iommufd_emulated_bind` (`iommufd_access_create`, its unmap callback the
 * driver's `dma_unmap`) for an emulated one. Used by the cdev's BIND_IOMMUFD and by a group
 * whose SET_CONTAINER took an iommufd.
 */
export function bindIommufd(
  device: VfioDevice,
  group: VfioGroup,
  msiIsolation: MsiIsolation,
  ictx: IommufdCtx,
): CdevBinding {
  const iommuGroup = group.iommuGroup;
  if (group.kind === 'emulated' || iommuGroup === null) {
    const access = ictx.accessCreate({
      needsPinPages: true,
      // vfio_emulated_unmap: ops->dma_unmap, if the driver has one.
      unmap: (iova, length) => {
        if (device.ops.dmaUnmap === undefined) return;
        const max = BigInt(Number.MAX_SAFE_INTEGER) - iova;
        device.dmaUnmap(Number(iova), Number(length > max ? max : length));
      },
    });
    return { ictx, idev: null, access, attached: false };
  }
  const isolatedMsi = iommuGroup.devices.every((d) => msiIsolation.deviceHasIsolatedMsi(d));
  const idev = ictx.deviceBind({ group: iommuGroup, device: device.name, isolatedMsi });
  return { ictx, idev, access: null, attached: false };
}

/** `vfio_iommufd_physical_unbind` / `vfio_iommufd_emulated_unbind`. */
export function unbindIommufd(b: CdevBinding): void {
  if (b.idev !== null) {
    if (b.attached) b.ictx.deviceDetach(b.idev);
    b.ictx.deviceUnbind(b.idev);
  } else if (b.access !== null) {
    b.ictx.accessDestroy(b.access);
  }
  b.attached = false;
}

/** `attach_ioas`: `iommufd_device_attach` for a physical device, `iommufd_access_attach` for an emulated one. */
export function attachIoas(b: CdevBinding, ptId: number): number {
  if (b.idev !== null) {
    const out = b.attached ? b.ictx.deviceReplace(b.idev, ptId) : b.ictx.deviceAttach(b.idev, ptId);
    b.attached = true;
    return out;
  }
  if (b.access !== null) {
    if (b.attached) b.ictx.accessReplace(b.access, ptId);
    else b.ictx.accessAttach(b.access, ptId);
  }
  b.attached = true;
  return ptId;
}
