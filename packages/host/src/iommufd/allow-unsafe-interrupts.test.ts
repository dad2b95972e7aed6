import { readFileSync } from 'node:fs';
import { VFIO_DEVICE_BIND_IOMMUFD } from '@vfiokit/vfio/uapi';
import { describe, expect, it } from 'vitest';
import { createHost } from '../host.js';
import { errnoOf } from '../test-support.js';

// iommufd has its own module parameter (drivers/iommu/iommufd/device.c: `allow_unsafe_interrupts`,
// module iommufd): iommufd_device_bind refuses a device whose MSIs are not isolated with EPERM
// unless it is set; type1's `vfio_iommu_type1.allow_unsafe_interrupts` does not count here.
const juno = () =>
  new Uint8Array(readFileSync(new URL('../../../../../shared/fixtures/dtb/juno-r2.dtb', import.meta.url)));

async function bindPl330(cmdline: string): Promise<string> {
  const host = createHost(juno(), { cmdline: `vfio_platform.reset_required=0 ${cmdline}` });
  await host.fs.run('echo vfio-amba > /sys/bus/amba/devices/7ff00000.dma-controller/driver_override');
  await host.fs.run('echo 7ff00000.dma-controller > /sys/bus/amba/drivers_probe');
  expect(host.device('7ff00000.dma-controller')?.driverName).toBe('vfio-amba');
  const node = host.vfioDevOf('7ff00000.dma-controller');
  const proc = host.spawn();
  const cdev = proc.open(`/dev/vfio/devices/${node}`);
  const iommufd = proc.open('/dev/iommu');
  const bind = new Uint8Array(16);
  new DataView(bind.buffer).setUint32(0, 16, true);
  new DataView(bind.buffer).setInt32(8, iommufd, true);
  return errnoOf(() => proc.ioctl(cdev, VFIO_DEVICE_BIND_IOMMUFD, bind));
}

describe('iommufd.allow_unsafe_interrupts on the command line', () => {
  it("Juno r2 PL330 (no MSI parent): BIND_IOMMUFD is EPERM by default and with only type1's switch", async () => {
    expect(await bindPl330('')).toBe('EPERM');
    expect(await bindPl330('vfio_iommu_type1.allow_unsafe_interrupts=1')).toBe('EPERM');
  });

  it('with iommufd.allow_unsafe_interrupts=1 the bind succeeds', async () => {
    expect(await bindPl330('iommufd.allow_unsafe_interrupts=1')).toBe('ok');
  });
});
