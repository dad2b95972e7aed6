import { KernelError } from '@vfiokit/core';
import type { Vfio } from '../vfio.js';
import { VfioDeviceCdevFile } from './device-cdev-file.js';

/**
 * `open("/dev/vfio/devices/vfio<index>")` (`vfio_device_fops_cdev_open`): `ENOENT` when no
 * such node exists (no CONFIG_VFIO_DEVICE_CDEV, no such index, or a no-IOMMU device, which
 * gets no cdev), `ENODEV` once the device's unregistration began
 * (`vfio_device_try_get_registration`).
 */
export function openDeviceCdev(vfio: Vfio, name: string): VfioDeviceCdevFile {
  if (!vfio.deviceNodes().includes(name))
    throw new KernelError('ENOENT', `/dev/vfio/devices/${name} does not exist`);
  for (const group of vfio.groups.values())
    for (const device of group.devices) {
      if (`vfio${vfio.deviceIndex(device)}` !== name) continue;
      if (!device.tryGetRegistration())
        throw new KernelError('ENODEV', `${device.name} is being unregistered`);
      return new VfioDeviceCdevFile(device, group, vfio.msiIsolation, vfio.noiommuCdev);
    }
  throw new KernelError('ENOENT', `/dev/vfio/devices/${name} does not exist`);
}
