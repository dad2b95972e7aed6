import { DeviceTreeBuilder, ref } from '@vfiokit/devicetree';
import { VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU } from '@vfiokit/vfio/uapi';
import { describe, expect, it } from 'vitest';
import { createHost, type Host } from '../host.js';
import { errnoOf } from '../test-support.js';

// NOT IN LINUX — seed 004's extended MSI viability as an opt-in policy
// (`vfiokit.msi_frame_viability=1`): a GICv2m frame does not isolate MSIs, so any device behind
// it can write any of its SPIs; a group attaches only when every other device behind the same
// frame is unbound or VFIO-bound in the same container. Without the option (Linux), only
// allow_unsafe_interrupts matters.
function board(cmdline: string): Host {
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
            .string('compatible', 'arm,gic-400')
            .cells('#interrupt-cells', 3)
            .cells('#address-cells', 2)
            .cells('#size-cells', 2)
            .flag('ranges')
            .flag('interrupt-controller')
            .cells('reg', 0, 0x2f000000, 0, 0x1000, 0, 0x2f002000, 0, 0x2000)
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
        .node('acc@20000000', (n) =>
          n
            .string('compatible', 'vfiokit,acc')
            .cells('reg', 0, 0x2000_0000, 0, 0x1000)
            .cells('iommus', ref('smmu'), 3)
            .cells('msi-parent', ref('v2m'))
            .flag('dma-coherent'),
        )
        .node('acc@21000000', (n) =>
          n
            .string('compatible', 'vfiokit,acc')
            .cells('reg', 0, 0x2100_0000, 0, 0x1000)
            .cells('iommus', ref('smmu'), 4)
            .cells('msi-parent', ref('v2m'))
            .flag('dma-coherent'),
        ),
    )
    .build();
  return createHost(tree, {
    cmdline: `vfio_platform.reset_required=0 vfio_iommu_type1.allow_unsafe_interrupts=1 ${cmdline}`,
  });
}

const A = '20000000.acc';
const B = '21000000.acc';

function toVfio(host: Host, device: string): number {
  host.fs.write(`/sys/bus/platform/devices/${device}/driver_override`, 'vfio-platform');
  host.fs.write('/sys/bus/platform/drivers_probe', device);
  const group = host.iommuGroupOf(device)?.id;
  if (group === undefined) throw new RangeError(`${device} has no IOMMU group`);
  return group;
}

// One process, one container per call: SET_CONTAINER for each group, SET_IOMMU after the first.
function attach(host: Host, groups: readonly number[]): string[] {
  const proc = host.spawn();
  const container = proc.open('/dev/vfio/vfio');
  const fd = new Uint8Array(4);
  new DataView(fd.buffer).setInt32(0, container, true);
  return groups.map((group, i) =>
    errnoOf(() => {
      const g = proc.open(`/dev/vfio/${group}`);
      proc.ioctl(g, VFIO_GROUP_SET_CONTAINER, fd);
      if (i === 0) proc.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
    }),
  );
}

describe('seed 004 MSI-frame viability (vfiokit.msi_frame_viability, opt-in, not in Linux)', () => {
  it('upstream (off): a device attaches even while its frame-mate sits in another container', () => {
    const host = board('');
    const a = toVfio(host, A);
    const b = toVfio(host, B);
    expect(attach(host, [b])).toEqual(['ok']);
    expect(attach(host, [a])).toEqual(['ok']);
  });

  it('on: a frame-mate bound to vfio but not in this container refuses the attach (EPERM)', () => {
    const host = board('vfiokit.msi_frame_viability=1');
    const a = toVfio(host, A);
    const b = toVfio(host, B);
    expect(attach(host, [b])).toEqual(['ok']);
    // B sits in another container now: A cannot attach to a container of its own.
    expect(attach(host, [a])).toEqual(['EPERM']);
  });

  it('on: both in one container attach; an unbound frame-mate does not block', () => {
    const host = board('vfiokit.msi_frame_viability=1');
    expect(attach(host, [toVfio(host, A), toVfio(host, B)])).toEqual(['ok', 'ok']);
    const other = board('vfiokit.msi_frame_viability=1');
    expect(attach(other, [toVfio(other, A)])).toEqual(['ok']);
  });

  it('the typed option is the same switch', () => {
    const tree = board('').tree;
    const host = createHost(tree, {
      cmdline: 'vfio_platform.reset_required=0 vfio_iommu_type1.allow_unsafe_interrupts=1',
      msi_frame_viability: true,
    });
    const a = toVfio(host, A);
    const b = toVfio(host, B);
    expect(attach(host, [b])).toEqual(['ok']);
    expect(attach(host, [a])).toEqual(['EPERM']);
  });
});
