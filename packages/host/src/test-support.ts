import { readFileSync } from 'node:fs';
import {
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_NOIOMMU_IOMMU,
  VFIO_SET_IOMMU,
} from '@vfiokit/vfio/uapi';
import { createHost, type Host } from './host.js';
import type { HostProcess } from './process/host-process.js';

/** QEMU 7.2 `-M virt,gic-version=3` device tree (packages/host/fixtures). */
export function virtDtb(): Uint8Array {
  return new Uint8Array(readFileSync(new URL('../fixtures/qemu-virt-gic-version-3.dtb', import.meta.url)));
}

/** The errno name a call throws, `'ok'` when it returns. */
export function errnoOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string') throw error;
    return code;
  }
}

/**
 * The oracle's recipe on QEMU virt: the pl031 handed to vfio-amba in no-IOMMU mode, a process
 * with the container, the noiommu group and the device fd open.
 */
export async function vfioPl031(): Promise<{
  host: Host;
  proc: HostProcess;
  container: number;
  group: number;
  device: number;
}> {
  const host = createHost(virtDtb(), { cmdline: 'vfio.enable_unsafe_noiommu_mode=1' });
  await host.fs.run('echo vfio-amba > /sys/bus/amba/devices/9010000.pl031/driver_override');
  await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/unbind');
  await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/vfio-amba/bind');
  const proc = host.spawn();
  const container = proc.open('/dev/vfio/vfio');
  const group = proc.open('/dev/vfio/noiommu-0');
  const fd = new Uint8Array(4);
  new DataView(fd.buffer).setInt32(0, container, true);
  proc.ioctl(group, VFIO_GROUP_SET_CONTAINER, fd);
  proc.ioctl(container, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU);
  const device = proc.ioctl(group, VFIO_GROUP_GET_DEVICE_FD, new TextEncoder().encode('9010000.pl031\0'));
  return { host, proc, container, group, device };
}
