import { KVM_UAPI_CONSTANTS as K } from '@vfiokit/kvm';
import {
  VFIO_DEVICE_BIND_IOMMUFD,
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_NOIOMMU_IOMMU,
  VFIO_SET_IOMMU,
} from '@vfiokit/vfio/uapi';
import { describe, expect, it } from 'vitest';
import { createHost, type Host } from '../host.js';
import type { HostProcess } from '../process/host-process.js';
import { kvmDeviceAttrArg } from './kvm-files.js';
import { virtKvmDtb } from './kvm-test-support.js';

// The VM a VFIO device sees (`device->kvm`, for drivers such as vfio-ap or kvmgt that need it)
// is taken at the device's first open: from the group's KVM-VFIO FILE_ADD on the group path
// (vfio_device_group_get_kvm_safe, drivers/vfio/group.c), from the device file's own FILE_ADD
// before VFIO_DEVICE_BIND_IOMMUFD on the cdev path (vfio_df_get_kvm_safe, device_cdev.c). A
// file added after the open or bind gives the device no VM; the last close drops it.

async function pl031Host(): Promise<Host> {
  const host = createHost(virtKvmDtb(), { cmdline: 'vfio.enable_unsafe_noiommu_mode=1' });
  await host.fs.run('echo vfio-amba > /sys/bus/amba/devices/9010000.pl031/driver_override');
  await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/unbind');
  await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/vfio-amba/bind');
  return host;
}

function kvmVfioDevice(proc: HostProcess): number {
  const kvm = proc.open('/dev/kvm');
  const vm = proc.ioctl(kvm, K.KVM_CREATE_VM, 0);
  const cd = new Uint8Array(12);
  new DataView(cd.buffer).setUint32(0, K.KVM_DEV_TYPE_VFIO, true);
  proc.ioctl(vm, K.KVM_CREATE_DEVICE, cd);
  return new DataView(cd.buffer).getUint32(4, true);
}

function fileAdd(proc: HostProcess, kvmVfio: number, fd: number): void {
  proc.ioctl(
    kvmVfio,
    K.KVM_SET_DEVICE_ATTR,
    kvmDeviceAttrArg({ group: K.KVM_DEV_VFIO_FILE, attr: K.KVM_DEV_VFIO_FILE_ADD, value: { fd } }),
  );
}

function vfioDevice(host: Host, name: string) {
  for (const group of host.vfio.groups.values()) {
    const device = group.devices.find((d) => d.name === name);
    if (device !== undefined) return device;
  }
  throw new RangeError(`${name} is not a VFIO device`);
}

async function groupPath(addFirst: boolean): Promise<{ host: Host; proc: HostProcess; device: number }> {
  const host = await pl031Host();
  const proc = host.spawn();
  const container = proc.open('/dev/vfio/vfio');
  const group = proc.open('/dev/vfio/noiommu-0');
  const cfd = new Uint8Array(4);
  new DataView(cfd.buffer).setInt32(0, container, true);
  proc.ioctl(group, VFIO_GROUP_SET_CONTAINER, cfd);
  proc.ioctl(container, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU);
  const kvmVfio = kvmVfioDevice(proc);
  if (addFirst) fileAdd(proc, kvmVfio, group);
  const device = proc.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, new TextEncoder().encode('9010000.pl031\0'));
  if (!addFirst) fileAdd(proc, kvmVfio, group);
  return { host, proc, device };
}

describe('device->kvm: KVM_DEV_VFIO_FILE_ADD before the open counts, after it does not', () => {
  it('group path: the group added before GET_DEVICE_FD gives the device the VM, until the last close', async () => {
    const { host, proc, device } = await groupPath(true);
    expect(vfioDevice(host, '9010000.pl031').kvm).toBeDefined();
    proc.close(device);
    expect(vfioDevice(host, '9010000.pl031').kvm).toBeUndefined();
  });

  it('group path: the group added after GET_DEVICE_FD leaves the open device without a VM', async () => {
    const { host } = await groupPath(false);
    expect(vfioDevice(host, '9010000.pl031').kvm).toBeUndefined();
  });

  it('cdev path: the device file added before VFIO_DEVICE_BIND_IOMMUFD gives the device the VM; after, none', async () => {
    for (const addFirst of [true, false]) {
      const host = createHost(virtKvmDtb());
      const uuid = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001';
      await host.fs.run(`echo ${uuid} > /sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create`);
      const proc = host.spawn();
      const cdev = proc.open('/dev/vfio/devices/vfio0');
      const iommufd = proc.open('/dev/iommu');
      const kvmVfio = kvmVfioDevice(proc);
      if (addFirst) fileAdd(proc, kvmVfio, cdev);
      const bind = new Uint8Array(16);
      const view = new DataView(bind.buffer);
      view.setUint32(0, 16, true);
      view.setInt32(8, iommufd, true);
      proc.ioctl(cdev, VFIO_DEVICE_BIND_IOMMUFD, bind);
      if (!addFirst) fileAdd(proc, kvmVfio, cdev);
      expect(vfioDevice(host, uuid).kvm !== undefined, `FILE_ADD ${addFirst ? 'before' : 'after'} BIND`).toBe(
        addFirst,
      );
      proc.close(cdev);
      expect(vfioDevice(host, uuid).kvm).toBeUndefined();
    }
  });
});
