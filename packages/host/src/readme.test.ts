// The README's usage example, verbatim apart from the assertions and the DTB path.
import { readFileSync } from 'node:fs';
import { VfioContainerHandle, VfioGroupHandle } from '@vfiokit/vfio';
import { VFIO_NOIOMMU_IOMMU } from '@vfiokit/vfio/uapi';
import { describe, expect, it } from 'vitest';
import { createHost } from './index.js';

const dtbPath = new URL('../fixtures/qemu-virt-gic-version-3.dtb', import.meta.url);

describe('README usage', () => {
  it('hands the PL031 to vfio-amba in no-IOMMU mode and reads its PrimeCell ID through the device fd', () => {
    const host = createHost(new Uint8Array(readFileSync(dtbPath)), {
      cmdline: 'console=ttyAMA0 vfio.enable_unsafe_noiommu_mode=1',
    });
    const sh = (command: string) => host.fs.run(command);

    sh('echo vfio-amba > /sys/bus/amba/devices/9010000.pl031/driver_override');
    sh('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/unbind');
    sh('echo 9010000.pl031 > /sys/bus/amba/drivers/vfio-amba/bind');
    expect(sh('cat /sys/kernel/iommu_groups/0/name')).toBe('vfio-noiommu\n');
    expect(sh('cat /proc/sys/kernel/tainted')).toBe('64\n');
    expect(sh('ls /dev/vfio')).toBe('noiommu-0\nvfio\n');

    const vmm = host.spawn();
    const container = VfioContainerHandle.open(vmm);
    const group = VfioGroupHandle.open(vmm, 'noiommu-0');
    group.setContainer(container);
    container.setIommu(VFIO_NOIOMMU_IOMMU);
    const rtc = group.getDevice('9010000.pl031');
    const regs = rtc.regionInfo(0);
    const cid = new Uint8Array(16);
    rtc.read(regs, 0xff0, cid);
    rtc.close();

    expect(regs.size).toBe(0x1000);
    expect([...cid]).toEqual([0x0d, 0, 0, 0, 0xf0, 0, 0, 0, 0x05, 0, 0, 0, 0xb1, 0, 0, 0]);
  });
});
