import { readFileSync } from 'node:fs';
import { DeviceTreeBuilder, ref } from '@vfiokit/devicetree';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHost } from '../host.js';
import { errnoOf } from '../test-support.js';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../../../../shared/fixtures/dtb/${name}`, import.meta.url)));

describe('a host made from the Juno r2 device tree shows its IOMMU groups as Linux does', () => {
  const host = createHost(fixture('juno-r2.dtb'));

  it('binds arm-smmu to every available SMMU before the masters’ drivers', () => {
    expect(host.iommu.driverNames).toEqual(['arm-smmu', 'arm-smmu-v3']);
    expect(host.device('7fb00000.iommu')?.driverName).toBe('arm-smmu');
    // suppress_bind_attrs: no bind/unbind files.
    expect(host.fs.ls('/sys/bus/platform/drivers/arm-smmu')).not.toContain('unbind');
  });

  it('readlink …/iommu_group and /sys/kernel/iommu_groups/<n>/devices', () => {
    expect(host.fs.readlink('/sys/bus/amba/devices/7ff00000.dma-controller/iommu_group')).toMatch(
      /\/kernel\/iommu_groups\/1$/,
    );
    expect(host.fs.ls('/sys/kernel/iommu_groups')).toEqual(['0', '1', '2', '3', '4']);
    expect(host.fs.ls('/sys/kernel/iommu_groups/4/devices')).toEqual(['7ffb0000.usb', '7ffc0000.usb']);
    expect(host.fs.ls('/sys/kernel/iommu_groups/1')).toEqual(['devices', 'reserved_regions', 'type']);
    expect(host.iommuGroupOf('7ffc0000.usb')).toBe(host.iommuGroupOf('7ffb0000.usb'));
    expect(host.iommuGroups.map((g) => g.id)).toEqual([0, 1, 2, 3, 4]);
    expect(host.iommuOf('7ff00000.dma-controller')).toEqual({
      node: '/iommu@7fb00000',
      streamIds: [0, 1, 2, 3, 4, 5, 6, 7, 8],
      group: 1,
    });
  });

  it('type is the default domain’s ("DMA"), reserved_regions the software MSI window (iommu_group_show_resv_regions)', () => {
    expect(host.fs.cat('/sys/kernel/iommu_groups/1/type')).toBe('DMA\n');
    expect(host.fs.cat('/sys/kernel/iommu_groups/1/reserved_regions')).toBe(
      '0x0000000008000000 0x00000000080fffff msi\n',
    );
  });

  it('a device outside any group has no iommu_group link', () => {
    expect(host.fs.ls('/sys/bus/platform/devices/7ff50000.hdlcd')).toContain('iommu_group');
    expect(host.fs.ls('/sys/bus/amba/devices/7ff80000.serial')).not.toContain('iommu_group');
    expect(host.iommuGroupOf('7ff80000.serial')).toBeUndefined();
  });
});

describe('DMA ownership is one book for the driver core and the groups', () => {
  it('a host driver bound to a group member makes VFIO’s claim EPERM; a claimed group refuses a host driver (EBUSY)', () => {
    const host = createHost(fixture('juno-r2.dtb'));
    const group = host.iommuGroupOf('7ffb0000.usb');
    expect(group?.ownerCnt).toBe(0);
    void host.core.platform.registerDriver({
      name: 'ohci-platform',
      ofMatchTable: ['generic-ohci'],
      probe: () => {},
    });
    expect(host.device('7ffb0000.usb')?.driverName).toBe('ohci-platform');
    expect(group?.ownerCnt).toBe(1);
    expect(errnoOf(() => group?.claimDmaOwner({}))).toBe('EPERM');
    // The other member, still driverless, cannot be probed by a host driver once VFIO owns it.
    expect(host.core.platform.unbind('ohci-platform', '7ffb0000.usb')).toBeUndefined();
    const owner = {};
    group?.claimDmaOwner(owner);
    void host.core.platform.registerDriver({
      name: 'ehci-platform',
      ofMatchTable: ['generic-ehci'],
      probe: () => {},
    });
    expect(host.device('7ffc0000.usb')?.driverName).toBeNull();
    expect(host.device('7ffc0000.usb')?.lastProbeError).toMatchObject({
      stage: 'dma_configure',
      message: expect.stringMatching(/^EBUSY/),
    });
  });
});

describe('VFIO sees the SMMU groups', () => {
  it('vfio-platform registers a coherent master in its IOMMU group: /dev/vfio/<group id>', () => {
    // No reset module for a USB host: reset_required=0 lets vfio-platform take it.
    const host = createHost(fixture('juno-r2.dtb'), { cmdline: 'vfio_platform.reset_required=0' });
    host.fs.write('/sys/bus/platform/devices/7ffb0000.usb/driver_override', 'vfio-platform');
    host.fs.write('/sys/bus/platform/drivers_probe', '7ffb0000.usb');
    expect(host.device('7ffb0000.usb')?.driverName).toBe('vfio-platform');
    expect(host.fs.ls('/dev/vfio')).toContain('4');
    expect(host.tainted & 64).toBe(0);
  });

  it('a non-coherent master behind a non-coherent MMU-401 is EINVAL (no IOMMU_CAP_CACHE_COHERENCY)', () => {
    const host = createHost(fixture('juno-r2.dtb'), { cmdline: 'vfio_platform.reset_required=0' });
    host.fs.write('/sys/bus/platform/devices/7ff50000.hdlcd/driver_override', 'vfio-platform');
    host.fs.write('/sys/bus/platform/drivers_probe', '7ff50000.hdlcd');
    expect(host.device('7ff50000.hdlcd')?.driverName).toBeNull();
    expect(host.device('7ff50000.hdlcd')?.lastProbeError?.message).toMatch(/^EINVAL/);
    // The same device behind a coherent SMMU would be fine: the USB hosts' MMU-401 is.
    expect(host.iommuGroupOf('7ff50000.hdlcd')?.cacheCoherent('7ff50000.hdlcd')).toBe(false);
  });

  it('group ids come from one IDA: a no-IOMMU group takes the next id after the SMMU groups', () => {
    const tree = new DeviceTreeBuilder()
      .root((r) =>
        r
          .string('compatible', 'vfiokit,test')
          .cells('#address-cells', 2)
          .cells('#size-cells', 2)
          .node('iommu@10000000', (n) =>
            n
              .label('smmu')
              .string('compatible', 'arm,mmu-500')
              .cells('reg', 0, 0x1000_0000, 0, 0x10000)
              .cells('#iommu-cells', 1)
              .flag('dma-coherent'),
          )
          .node('dev@20000000', (n) =>
            n
              .string('compatible', 'vfiokit,dev')
              .cells('reg', 0, 0x2000_0000, 0, 0x1000)
              .cells('iommus', ref('smmu'), 3),
          )
          .node('plain@30000000', (n) =>
            n.string('compatible', 'vfiokit,plain').cells('reg', 0, 0x3000_0000, 0, 0x1000),
          ),
      )
      .build();
    const host = createHost(tree, {
      cmdline: 'vfio.enable_unsafe_noiommu_mode=1 vfio_platform.reset_required=0',
    });
    expect(host.iommuGroupOf('20000000.dev')?.id).toBe(0);
    host.fs.write('/sys/bus/platform/devices/30000000.plain/driver_override', 'vfio-platform');
    host.fs.write('/sys/bus/platform/drivers_probe', '30000000.plain');
    expect(host.fs.readlink('/sys/bus/platform/devices/30000000.plain/iommu_group')).toMatch(
      /iommu_groups\/1$/,
    );
    expect(host.fs.cat('/sys/kernel/iommu_groups/1/type')).toBe('unknown\n');
    expect(host.fs.cat('/sys/kernel/iommu_groups/0/type')).toBe('DMA\n');
  });
});

describe('the oracle’s QEMU virt with an SMMUv3', () => {
  it('arm-smmu-v3 binds the SMMU; only arm-smmu-v3 is built in, and no platform device gets a group', () => {
    const host = createHost(fixture('qemu-virt-gicv3-its-smmuv3.dtb'));
    expect(host.iommu.driverNames).toEqual(['arm-smmu-v3']);
    expect(host.device('9050000.smmuv3')?.driverName).toBe('arm-smmu-v3');
    expect(host.iommuGroups).toEqual([]);
    expect(host.fs.ls('/sys/bus/platform/drivers')).not.toContain('arm-smmu');
  });
});

describe('sysfs agrees with the groups (property)', () => {
  it('every group directory lists exactly its members, and each member’s iommu_group link points at it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 2 }), {
          minLength: 1,
          maxLength: 5,
        }),
        (spec) => {
          const tree = new DeviceTreeBuilder()
            .root((r) => {
              r.string('compatible', 'vfiokit,test').cells('#address-cells', 2).cells('#size-cells', 2);
              r.node('iommu@10000000', (n) =>
                n
                  .label('smmu')
                  .string('compatible', 'arm,mmu-500')
                  .cells('reg', 0, 0x1000_0000, 0, 0x10000)
                  .cells('#iommu-cells', 1),
              );
              spec.forEach((sids, i) => {
                r.node(`dev@${(0x2000_0000 + i * 0x1_0000).toString(16)}`, (n) =>
                  n
                    .string('compatible', 'vfiokit,dev')
                    .cells('reg', 0, 0x2000_0000 + i * 0x1_0000, 0, 0x1000)
                    .cells('iommus', ...sids.flatMap((sid) => [ref('smmu'), sid])),
                );
              });
            })
            .build();
          const host = createHost(tree);
          const listed = host.fs.ls('/sys/kernel/iommu_groups');
          expect(listed).toEqual(host.iommuGroups.map((g) => String(g.id)).sort());
          for (const group of host.iommuGroups) {
            expect(host.fs.ls(`/sys/kernel/iommu_groups/${group.id}/devices`)).toEqual(
              [...group.devices].sort(),
            );
            for (const name of group.devices) {
              expect(host.fs.readlink(`/sys/bus/platform/devices/${name}/iommu_group`)).toMatch(
                new RegExp(`/kernel/iommu_groups/${group.id}$`),
              );
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
