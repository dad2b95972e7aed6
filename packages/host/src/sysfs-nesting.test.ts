import { DeviceTreeBuilder, ref } from '@vfiokit/devicetree';
import { describe, expect, it } from 'vitest';
import { createHost } from './host.js';

// drivers/of/platform.c of_platform_bus_create(child, matches, lookup, &dev->dev, strict): the
// children of a bus node (simple-bus) are created with the bus device as their parent, so their
// directory is under it (/sys/devices/platform/soc/<dev>) and every relative link from there
// climbs one level more (iommu.c iommu_group_add_device: sysfs_create_link(&dev->kobj, …)).
describe('sysfs: devices under a bus node sit under the bus device', () => {
  it('a device of /soc lives at /sys/devices/platform/soc/…; its links climb accordingly', () => {
    const tree = new DeviceTreeBuilder()
      .root((r) =>
        r
          .string('compatible', 'vfiokit,test')
          .cells('#address-cells', 1)
          .cells('#size-cells', 1)
          .node('iommu@10000000', (n) =>
            n
              .label('smmu')
              .string('compatible', 'arm,mmu-500')
              .cells('reg', 0x1000_0000, 0x10000)
              .cells('#iommu-cells', 1),
          )
          .node('soc', (soc) =>
            soc
              .string('compatible', 'simple-bus')
              .cells('#address-cells', 1)
              .cells('#size-cells', 1)
              .flag('ranges')
              .node('dev@20000000', (n) =>
                n
                  .string('compatible', 'vfiokit,dev')
                  .cells('reg', 0x2000_0000, 0x1000)
                  .cells('iommus', ref('smmu'), 3),
              ),
          ),
      )
      .build();
    const host = createHost(tree);
    expect(host.fs.readlink('/sys/bus/platform/devices/20000000.dev')).toBe(
      '../../../devices/platform/soc/20000000.dev',
    );
    expect(host.fs.ls('/sys/devices/platform/soc')).toContain('20000000.dev');
    expect(host.fs.readlink('/sys/bus/platform/devices/20000000.dev/iommu_group')).toBe(
      '../../../../kernel/iommu_groups/0',
    );
    expect(host.fs.ls('/sys/kernel/iommu_groups/0/devices')).toEqual(['20000000.dev']);
  });
});
