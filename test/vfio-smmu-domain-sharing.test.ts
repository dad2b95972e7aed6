import { type Iova, isIommuFault } from '@vfiokit/core';
import { DeviceTreeBuilder, ref } from '@vfiokit/devicetree';
import { createHost } from '@vfiokit/host';
import { SmmuDriverDomain } from '@vfiokit/smmu';
import { UserProcess, VfioContainerHandle, VfioGroupHandle } from '@vfiokit/vfio';
import { VFIO_TYPE1v2_IOMMU } from '@vfiokit/vfio/uapi';
import { describe, expect, it } from 'vitest';

// drivers/vfio/vfio_iommu_type1.c vfio_iommu_type1_attach_group (Linux 6.12): a group gets a
// new domain, then "Try to match an existing compatible domain" — same domain->ops — moves it
// into a domain of the container that its IOMMU driver accepts (arm_smmu_attach_dev: only a
// domain of the same SMMU) and frees the new one; vfio_iommu_type1_detach_group frees a domain
// (iommu_domain_free) when its last group leaves, so the context bank goes back to the SMMU.

const MMU_500_A = 0x1000_0000;
const MMU_500_B = 0x1100_0000;

function tree() {
  return new DeviceTreeBuilder()
    .root((r) => {
      r.string('compatible', 'vfiokit,test').cells('#address-cells', 2).cells('#size-cells', 2);
      for (const [label, base] of [
        ['smmu_a', MMU_500_A],
        ['smmu_b', MMU_500_B],
      ] as const) {
        r.node(`iommu@${base.toString(16)}`, (n) =>
          n
            .label(label)
            .string('compatible', 'arm,mmu-500')
            .cells('reg', 0, base, 0, 0x10000)
            .cells('#iommu-cells', 1)
            .flag('dma-coherent'),
        );
      }
      for (const [address, smmu, sid] of [
        [0x2000_0000, 'smmu_a', 3],
        [0x2100_0000, 'smmu_a', 4],
        [0x2200_0000, 'smmu_b', 5],
      ] as const) {
        r.node(`dev@${address.toString(16)}`, (n) =>
          n
            .string('compatible', 'vfiokit,dev')
            .cells('reg', 0, address, 0, 0x1000)
            .cells('iommus', ref(smmu), sid)
            .flag('dma-coherent'),
        );
      }
    })
    .build();
}

const DEVICES = ['20000000.dev', '21000000.dev', '22000000.dev'];
const RAM_VADDR = 0x7f00_0000_0000;

function hostWithVfioDevices() {
  const host = createHost(tree(), {
    cmdline: 'vfio_platform.reset_required=0 vfio_iommu_type1.allow_unsafe_interrupts=1',
  });
  for (const name of DEVICES) {
    host.fs.write(`/sys/bus/platform/devices/${name}/driver_override`, 'vfio-platform');
    host.fs.write('/sys/bus/platform/drivers_probe', name);
    expect(host.device(name)?.driverName).toBe('vfio-platform');
  }
  const groups = DEVICES.map((name) => {
    const group = host.iommuGroupOf(name);
    if (group === undefined) throw new RangeError(`${name} has no IOMMU group`);
    return group;
  });
  return { host, groups };
}

function openAll(host: ReturnType<typeof hostWithVfioDevices>['host'], ids: readonly number[]) {
  const vmm = new UserProcess({ vfio: host.vfio, rlimitMemlock: 1 << 30 });
  const paddr = host.allocateRam(0x20_0000);
  vmm.addressSpace.mmap(RAM_VADDR, paddr, 0x20_0000);
  const container = VfioContainerHandle.open(vmm);
  const handles = ids.map((id) => VfioGroupHandle.open(vmm, id));
  handles[0]?.setContainer(container);
  container.setIommu(VFIO_TYPE1v2_IOMMU);
  for (const handle of handles.slice(1)) handle.setContainer(container);
  return { vmm, paddr, container, handles };
}

describe('type1 over the arm-smmu driver: compatible domains are shared, freed domains give their context back', () => {
  it('two groups of one MMU-500 share one domain (one context bank); a group of another MMU-500 gets its own', () => {
    const { host, groups } = hostWithVfioDevices();
    const [a, b, c] = groups;
    if (a === undefined || b === undefined || c === undefined) throw new RangeError('three groups');
    expect(new Set(groups.map((g) => g.id)).size).toBe(3);
    const { container, paddr } = openAll(
      host,
      groups.map((g) => g.id),
    );
    expect(a.domain).toBeInstanceOf(SmmuDriverDomain);
    expect(b.domain).toBe(a.domain);
    expect(c.domain).toBeInstanceOf(SmmuDriverDomain);
    expect(c.domain).not.toBe(a.domain);
    // One mapping reaches every master through the tables of its SMMU's domain.
    container.mapDma({ vaddr: RAM_VADDR, iova: 0x4000_0000, size: 0x20_0000 });
    for (const group of groups) {
      const result = group.domain?.translate((0x4000_0000 + 0x123) as Iova, 'read');
      expect(result).toBe(paddr + 0x123);
    }
    const outside = a.domain?.translate(0x5000_0000 as Iova, 'read');
    expect(outside !== undefined && isIommuFault(outside)).toBe(true);
  });

  it('leaving the container frees the domain: 200 open/close cycles never run out of context banks', () => {
    const { host, groups } = hostWithVfioDevices();
    const ids = groups.slice(0, 2).map((g) => g.id);
    const contexts = new Set<number>();
    for (let cycle = 0; cycle < 200; cycle++) {
      const { container, handles } = openAll(host, ids);
      const domain = groups[0]?.domain;
      if (!(domain instanceof SmmuDriverDomain)) throw new RangeError('no SMMU domain');
      contexts.add(domain.context);
      for (const handle of handles) handle.close();
      container.close();
      expect(groups[0]?.domain).toBeNull();
    }
    // The same bank is handed out again each time (the lowest free one).
    expect(contexts.size).toBe(1);
  });
});
