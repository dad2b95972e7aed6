import { DeviceTreeBuilder, ref } from '@vfiokit/devicetree';
import { VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU } from '@vfiokit/vfio/uapi';
import { describe, expect, it } from 'vitest';
import { createHost } from '../host.js';
import { errnoOf } from '../test-support.js';

// The host hands vfio the MSI answers of kvm's models (host.msi.answers as Vfio's
// msiIsolation): vfio_iommu_type1_attach_group refuses a group whose devices' MSIs are not
// isolated unless allow_unsafe_interrupts (drivers/vfio/vfio_iommu_type1.c, v6.3+
// msi_device_has_isolated_msi per device). A board with an MMU-500, an ITS and a GICv2m frame.
function board(cmdline: string) {
  const tree = new DeviceTreeBuilder()
    .root((r) =>
      r
        .string('compatible', 'vfiokit,test')
        .cells('#address-cells', 2)
        .cells('#size-cells', 2)
        .cells('interrupt-parent', ref('gic'))
        .node('interrupt-controller@2f000000', (gic) =>
          gic
            .label('gic')
            .string('compatible', 'arm,gic-v3')
            .cells('#interrupt-cells', 3)
            .cells('#address-cells', 2)
            .cells('#size-cells', 2)
            .flag('ranges')
            .flag('interrupt-controller')
            .cells('reg', 0, 0x2f000000, 0, 0x10000, 0, 0x2f100000, 0, 0x200000)
            .node('its@2f020000', (its) =>
              its
                .label('its')
                .string('compatible', 'arm,gic-v3-its')
                .flag('msi-controller')
                .cells('#msi-cells', 1)
                .cells('reg', 0, 0x2f020000, 0, 0x20000),
            )
            .node('v2m@2f300000', (v2m) =>
              v2m
                .label('v2m')
                .string('compatible', 'arm,gic-v2m-frame')
                .flag('msi-controller')
                .cells('reg', 0, 0x2f300000, 0, 0x1000),
            ),
        )
        .node('iommu@10000000', (n) =>
          n
            .label('smmu')
            .string('compatible', 'arm,mmu-500')
            .cells('reg', 0, 0x1000_0000, 0, 0x10000)
            .cells('#iommu-cells', 1)
            .flag('dma-coherent'),
        )
        .node('nic@20000000', (n) =>
          n
            .string('compatible', 'vfiokit,nic')
            .cells('reg', 0, 0x2000_0000, 0, 0x1000)
            .cells('iommus', ref('smmu'), 3)
            .cells('msi-parent', ref('its'), 0x30)
            .flag('dma-coherent'),
        )
        .node('dma@21000000', (n) =>
          n
            .string('compatible', 'vfiokit,dma')
            .cells('reg', 0, 0x2100_0000, 0, 0x1000)
            .cells('iommus', ref('smmu'), 4)
            .cells('msi-parent', ref('v2m'))
            .flag('dma-coherent'),
        ),
    )
    .build();
  return createHost(tree, { cmdline: `vfio_platform.reset_required=0 ${cmdline}` });
}

// vfio-platform takes the device; a process attaches its group to a type1v2 container.
function attach(cmdline: string, device: string): string {
  const host = board(cmdline);
  host.fs.write(`/sys/bus/platform/devices/${device}/driver_override`, 'vfio-platform');
  host.fs.write('/sys/bus/platform/drivers_probe', device);
  const group = host.iommuGroupOf(device)?.id;
  if (group === undefined) throw new RangeError(`${device} has no IOMMU group`);
  const proc = host.spawn();
  const container = proc.open('/dev/vfio/vfio');
  const g = proc.open(`/dev/vfio/${group}`);
  const fd = new Uint8Array(4);
  new DataView(fd.buffer).setInt32(0, container, true);
  proc.ioctl(g, VFIO_GROUP_SET_CONTAINER, fd);
  return errnoOf(() => proc.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
}

describe('type1 attach asks the host MSI models (vfio_iommu_type1_attach_group)', () => {
  it('a device behind the ITS attaches; one behind the GICv2m frame is EPERM', () => {
    expect(attach('', '20000000.nic')).toBe('ok');
    expect(attach('', '21000000.dma')).toBe('EPERM');
  });

  it('vfio_iommu_type1.allow_unsafe_interrupts=1 lets the GICv2m device attach', () => {
    expect(attach('vfio_iommu_type1.allow_unsafe_interrupts=1', '21000000.dma')).toBe('ok');
  });
});
