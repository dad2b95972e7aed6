// The README's usage example, verbatim apart from the assertions: it must keep working.
import { readFileSync } from 'node:fs';
import {
  IOMMU_READ,
  IOMMU_WRITE,
  IommuDmaOwnership,
  IommuGroupIda,
  iova,
  PhysicalMemory,
  physAddr,
} from '@vfiokit/core';
import { OfTree, parseFdt, populateDevices } from '@vfiokit/devicetree';
import { DriverCore } from '@vfiokit/platform-bus';
import { describe, expect, it } from 'vitest';
import { ArmLpaeDomain, ArmSmmuV3, OfSmmus, SmmuDmaPort, TablePageAllocator } from './index.js';
import { ArmSmmuV3Programmer } from './testing/index.js';

describe('README usage', () => {
  it('maps through io-pgtable-arm, DMAs through an SMMUv3, and reads the fault record', () => {
    const memory = new PhysicalMemory();
    memory.allocate(physAddr(0x1_0000_0000), 0x100_0000); // RAM the device will reach
    const allocator = new TablePageAllocator({ memory, base: physAddr(0x8000_0000), size: 0x100_0000 });
    const smmu = new ArmSmmuV3({ memory }); // an MmioDevice: registers only
    const driver = new ArmSmmuV3Programmer(smmu, { allocator }); // queues, stream table, CDs
    driver.reset();
    const domain = new ArmLpaeDomain({ allocator, flushOps: driver.flushOps(1, /* ASID */ 1) });
    driver.attachStage1(/* stream ID */ 0x42, domain.pgtable, 1); // STE -> CD -> TTB0, CFGI_STE, SYNC

    domain.map(iova(0x10_0000), physAddr(0x1_0000_0000), 0x2000, IOMMU_READ | IOMMU_WRITE);
    const dma = new SmmuDmaPort({ smmu, streamId: 0x42, memory });
    const wrote = dma.write(iova(0x10_0ffc), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)); // null: through two 4K pages
    const fault = dma.read(iova(0x20_0000), new Uint8Array(4)); // { kind: 'translation', … }
    const events = driver.readEvents(); // [{ id: 0x10 (F_TRANSLATION), streamId: 0x42, … }]

    expect(wrote).toBeNull();
    expect(memory.readU32(physAddr(0x1_0000_1000))).toBe(0x08070605);
    expect(fault).toMatchObject({ kind: 'translation', iova: 0x20_0000 });
    expect(events.map((e) => [e.id, e.streamId])).toEqual([[0x10, 0x42]]);
  });
});

describe('README: the drivers and IOMMU groups', () => {
  it('probes Juno r2’s SMMUs and forms the PL330’s group', () => {
    const junoR2Dtb = new Uint8Array(
      readFileSync(new URL('../../../../shared/fixtures/dtb/juno-r2.dtb', import.meta.url)),
    );
    const tree = parseFdt(junoR2Dtb);
    const devices = populateDevices(tree);
    const memory = new PhysicalMemory();
    const core = new DriverCore();
    const smmus = new OfSmmus({
      tree: OfTree.of(tree),
      devices,
      memory,
      allocator: new TablePageAllocator({ memory, base: physAddr(0x8400_0000), size: 0x200_0000 }),
      groupIds: new IommuGroupIda(), // shared with Vfio's fake groups on a host
      ownership: core.iommuOwnership ?? new IommuDmaOwnership(), // the driver core's book
    });
    for (const d of devices)
      void core.bus(d.bus).addDevice({ name: d.name, bus: d.bus, ofNode: d.path, compatible: d.compatible });
    for (const spec of smmus.drivers) void core.platform.registerDriver(spec); // SMMUs probe, groups form
    const group = smmus.groupOf('7ff00000.dma-controller'); // IommuGroup { id: 1, iommu: '/iommu@7fb00000', … }
    const where = smmus.iommuOf('7ff00000.dma-controller'); // { node: '/iommu@7fb00000', streamIds: [0, …, 8] }

    expect([group?.id, group?.iommu]).toEqual([1, '/iommu@7fb00000']);
    expect(where).toEqual({ node: '/iommu@7fb00000', streamIds: [0, 1, 2, 3, 4, 5, 6, 7, 8] });
  });
});
