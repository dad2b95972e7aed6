import { IommufdFile } from '@vfiokit/iommufd';
import { iommufdTaskOf, openDeviceCdev, type Task, type Vfio, type VfioFile } from '@vfiokit/vfio';

const DEVICES = '/dev/vfio/devices/';

/**
 * `open()` of the iommufd-era nodes: `/dev/iommu` (iommufd_fops_open: a new context whose
 * `current` is the opener) and `/dev/vfio/devices/vfio<index>` (the VFIO device cdev).
 * Undefined for any other path.
 */
export function openIommufdNode(path: string, current: Task, vfio: Vfio): VfioFile | undefined {
  if (path === '/dev/iommu') return new IommufdFile({ task: iommufdTaskOf(current) });
  if (path.startsWith(DEVICES) && !path.slice(DEVICES.length).includes('/'))
    return openDeviceCdev(vfio, path.slice(DEVICES.length));
  return undefined;
}
