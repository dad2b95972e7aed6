import {
  IOMMU_CACHE,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuDmaOwnership,
  IommuGroupIda,
  type Iova,
  iova,
  PhysicalMemory,
  physAddr,
} from '@vfiokit/core';
import { OfTree } from '@vfiokit/devicetree';
import { DriverCore } from '@vfiokit/platform-bus';
import { describe, expect, it } from 'vitest';
import { SmmuDmaPort } from '../hw/smmu-dma-port.js';
import { ArmSmmuV2 } from '../hw/smmu-v2.js';
import * as R from '../hw/smmu-v2-regs.js';
import type { ArmSmmuV3 } from '../hw/smmu-v3.js';
import * as R3 from '../hw/smmu-v3-regs.js';
import { TablePageAllocator } from '../pgtable/page-allocator.js';
import { ArmSmmuDriver } from './arm-smmu.js';
import { SmmuDriverDomain } from './arm-smmu-domain.js';
import { IommuProbe } from './iommu-probe.js';
import { bootSmmus } from './test-support.js';
import { testTree } from './test-trees.js';

const RAM = 0x1_0000_0000;
const PROT = IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE;
const owner = {};

function v2Host() {
  const tree = testTree(
    [{ label: 'smmu', compatible: ['arm,mmu-500'], cells: 1, address: 0x1000_0000, dmaCoherent: true }],
    [{ address: 0x2000_0000, iommus: [['smmu', 0x42]] }],
  );
  const booted = bootSmmus(tree);
  booted.memory.allocate(physAddr(RAM), 0x10_0000);
  const model = booted.smmus.models.get('10000000.iommu') as ArmSmmuV2;
  const instance = booted.smmus.armSmmu.instance('/iommu@10000000')!;
  const group = booted.smmus.groupOf('20000000.dev')!;
  const port = new SmmuDmaPort({ smmu: model, streamId: 0x42, memory: booted.memory });
  return { ...booted, model, instance, group, port };
}

function v3Host() {
  const tree = testTree(
    [{ label: 'smmu', compatible: ['arm,smmu-v3'], cells: 1, address: 0x1000_0000, dmaCoherent: true }],
    [{ address: 0x2000_0000, iommus: [['smmu', 0x42]] }],
  );
  const booted = bootSmmus(tree);
  booted.memory.allocate(physAddr(RAM), 0x10_0000);
  const model = booted.smmus.models.get('10000000.iommu') as ArmSmmuV3;
  const instance = booted.smmus.armSmmuV3.instance('/iommu@10000000')!;
  const group = booted.smmus.groupOf('20000000.dev')!;
  const port = new SmmuDmaPort({ smmu: model, streamId: 0x42, memory: booted.memory });
  return { ...booted, model, instance, group, port };
}

const s2crType = (model: ArmSmmuV2, index: number) => (model.read(R.GR0_S2CR_BASE + 4 * index, 4) >>> 16) & 3;

describe('arm-smmu domains: the group moves between domains through S2CR writes', () => {
  it('default DMA domain → blocked on claim (S2CR FAULT) → a user domain → blocked → default on release', () => {
    const { model, instance, group, port } = v2Host();
    const [entry] = instance.entriesOf('20000000.dev')!;
    const defaultBank = (group.defaultDomain as SmmuDriverDomain).context;
    expect(model.read(R.GR0_S2CR_BASE + 4 * entry!, 4) & 0xff).toBe(defaultBank);
    group.claimDmaOwner(owner);
    expect(s2crType(model, entry!)).toBe(R.S2CR_TYPE_FAULT);
    expect(port.read(iova(0x1000), new Uint8Array(4))).toMatchObject({ kind: 'blocked' });
    const domain = group.allocateDomain() as SmmuDriverDomain;
    expect(domain).toBeInstanceOf(SmmuDriverDomain);
    expect(domain.context).not.toBe(defaultBank);
    group.attachDomain(domain);
    expect(s2crType(model, entry!)).toBe(R.S2CR_TYPE_TRANS);
    expect(model.read(R.GR0_S2CR_BASE + 4 * entry!, 4) & 0xff).toBe(domain.context);
    domain.map(iova(0x1000), physAddr(RAM), 0x1000, PROT);
    expect(port.write(iova(0x1010), Uint8Array.of(7, 8, 9))).toBeNull();
    group.detachDomain(domain);
    expect(s2crType(model, entry!)).toBe(R.S2CR_TYPE_FAULT);
    domain.free();
    // arm_smmu_destroy_domain_context: SCTLR.M off for the freed bank.
    expect(model.read(instance.hw.contextBankBase(domain.context) + R.CB_SCTLR, 4) & R.SCTLR_M).toBe(0);
    group.releaseDmaOwner(owner);
    expect(model.read(R.GR0_S2CR_BASE + 4 * entry!, 4) & 0xff).toBe(defaultBank);
    expect(s2crType(model, entry!)).toBe(R.S2CR_TYPE_TRANS);
  });

  it('an unidentified stream is a global fault: sGFSR.USF, the "Blocked unknown Stream ID" report, sGFSR cleared', () => {
    const { model, instance, log, memory } = v2Host();
    const stranger = new SmmuDmaPort({ smmu: model, streamId: 0x77, memory });
    expect(stranger.read(iova(0x1000), new Uint8Array(4))).toMatchObject({ kind: 'blocked' });
    expect(instance.globalFaults).toEqual([expect.objectContaining({ gfsr: R.sGFSR_USF, gfsynr1: 0x77 })]);
    expect(log.slice(-2)).toEqual([
      'arm-smmu 10000000.iommu: Blocked unknown Stream ID 0x77; boot with "arm-smmu.disable_bypass=0" to allow, but this may have security implications',
      expect.stringMatching(
        /^arm-smmu 10000000\.iommu: \tGFSR 0x00000002, GFSYNR0 0x[0-9a-f]{8}, GFSYNR1 0x00000077, GFSYNR2 0x[0-9a-f]{8}$/,
      ),
    ]);
    expect(model.read(R.GR0_sGFSR, 4)).toBe(0);
  });

  it('arm-smmu.disable_bypass=0: an unidentified stream bypasses the SMMU and nothing is reported', () => {
    const memory = new PhysicalMemory();
    memory.allocate(physAddr(RAM), 0x1000);
    memory.write(physAddr(RAM), Uint8Array.of(0x3c));
    const model = new ArmSmmuV2({ memory });
    const log: string[] = [];
    const tree = testTree(
      [{ label: 'smmu', compatible: ['arm,mmu-500'], cells: 1, address: 0x1000_0000 }],
      [],
    );
    const probe = new IommuProbe({
      groupIds: new IommuGroupIda(),
      ownership: new IommuDmaOwnership(),
      masters: () => [],
    });
    const driver = new ArmSmmuDriver({
      probe,
      tree: OfTree.of(tree),
      mmio: () => model,
      allocator: new TablePageAllocator({ memory, base: physAddr(0x8000_0000), size: 0x10_0000 }),
      disableBypass: false,
      log: (line) => log.push(line),
    });
    const core = new DriverCore();
    void core.platform.addDevice({
      name: '10000000.iommu',
      bus: 'platform',
      ofNode: '/iommu@10000000',
      compatible: ['arm,mmu-500'],
    });
    void core.platform.registerDriver(driver.spec);
    const into = new Uint8Array(1);
    expect(new SmmuDmaPort({ smmu: model, streamId: 0x77, memory }).read(iova(RAM), into)).toBeNull();
    expect(into[0]).toBe(0x3c);
    expect(driver.instance('/iommu@10000000')?.globalFaults).toEqual([]);
    expect(log).toEqual([]);
  });

  it('a domain cannot be freed while streams still translate through it (EBUSY), nor twice (EINVAL)', () => {
    const { group } = v2Host();
    group.claimDmaOwner(owner);
    const domain = group.allocateDomain() as SmmuDriverDomain;
    group.attachDomain(domain);
    expect(() => domain.free()).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    group.detachDomain(domain);
    domain.free();
    expect(() => domain.free()).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('a DMA outside the mapping is a context fault: FSR.TF and FAR latched, the IRQ handler reports and clears it', () => {
    const { group, port, instance, log } = v2Host();
    group.claimDmaOwner(owner);
    const domain = group.allocateDomain() as SmmuDriverDomain;
    group.attachDomain(domain);
    domain.map(iova(0x1000), physAddr(RAM), 0x1000, PROT);
    const fault = port.read(iova(0x5000), new Uint8Array(4));
    expect(fault).toMatchObject({ kind: 'translation', iova: 0x5000, access: 'read' });
    expect(instance.faults).toEqual([
      expect.objectContaining({ contextBank: domain.context, far: 0x5000, fsr: R.FSR_TF }),
    ]);
    expect(log.at(-1)).toMatch(/Unhandled context fault: fsr=0x2, iova=0x00005000, .* cb=\d+/);
    // Cleared by the handler, so the next fault is reported again (not FSR.MULTI).
    port.write(iova(0x6000), Uint8Array.of(1));
    expect(instance.faults).toHaveLength(2);
    expect(instance.faults[1]?.fsynr ?? 0).toBeGreaterThan(0);
  });
});

// The stale-IOTLB check: fill the IOTLB, unmap, move the physical page's contents, DMA again.
function staleAfterUnmap(domain: SmmuDriverDomain, port: SmmuDmaPort): { result: unknown; data: number } {
  domain.map(iova(0x4000), physAddr(RAM), 0x1000, PROT);
  const into = new Uint8Array(1);
  expect(port.read(iova(0x4000) as Iova, into)).toBeNull();
  expect(domain.unmap(iova(0x4000), 0x1000)).toBe(0x1000);
  const result = port.read(iova(0x4000) as Iova, into);
  return { result, data: into[0] ?? 0 };
}

describe('domain churn leaks nothing', () => {
  it.each([
    ['arm-smmu', v2Host],
    ['arm-smmu-v3', v3Host],
  ] as const)(
    '%s: attach, map, detach, free three times: the table pages end where they started',
    (_, make) => {
      const host = make();
      host.group.claimDmaOwner(owner);
      const cycle = () => {
        const domain = host.group.allocateDomain() as SmmuDriverDomain;
        host.group.attachDomain(domain);
        domain.map(iova(0x4000), physAddr(RAM), 0x1000, PROT);
        host.group.detachDomain(domain);
        domain.free();
      };
      cycle();
      const after = host.allocator.liveAllocations;
      cycle();
      cycle();
      expect(host.allocator.liveAllocations).toBe(after);
    },
  );
});

describe('IOTLB maintenance of the drivers (a DMA after unmap)', () => {
  it.each([
    ['arm-smmu', v2Host],
    ['arm-smmu-v3', v3Host],
  ] as const)(
    '%s: a freed domain leaves nothing for the next domain on its bank/ASID (free_io_pgtable_ops flushes all)',
    (_, make) => {
      const host = make();
      host.memory.write(physAddr(RAM), Uint8Array.of(0x11));
      host.memory.write(physAddr(RAM + 0x1000), Uint8Array.of(0x22));
      host.group.claimDmaOwner(owner);
      const first = host.group.allocateDomain() as SmmuDriverDomain;
      host.group.attachDomain(first);
      first.map(iova(0x4000), physAddr(RAM), 0x1000, PROT);
      const into = new Uint8Array(1);
      expect(host.port.read(iova(0x4000), into)).toBeNull();
      expect(into[0]).toBe(0x11);
      // Tear down without unmapping (vfio's domain free after the last group leaves).
      host.group.detachDomain(first);
      first.free();
      const second = host.group.allocateDomain() as SmmuDriverDomain;
      expect(second.context).toBe(first.context);
      host.group.attachDomain(second);
      second.map(iova(0x4000), physAddr(RAM + 0x1000), 0x1000, PROT);
      expect(host.port.read(iova(0x4000), into)).toBeNull();
      expect(into[0]).toBe(0x22);
    },
  );

  it('arm-smmu: the driver’s TLBIVAL + TLBSYNC leave no stale entry; a planted missing TLBI shows one', () => {
    const good = v2Host();
    good.memory.write(physAddr(RAM), Uint8Array.of(0x5a));
    good.group.claimDmaOwner(owner);
    const domain = good.group.allocateDomain() as SmmuDriverDomain;
    good.group.attachDomain(domain);
    expect(staleAfterUnmap(domain, good.port).result).toMatchObject({ kind: 'translation' });

    const bad = v2Host();
    bad.memory.write(physAddr(RAM), Uint8Array.of(0x5a));
    bad.group.claimDmaOwner(owner);
    const planted = bad.instance.allocDomain('unmanaged', { omitLeafTlbi: true });
    bad.group.attachDomain(planted);
    const stale = staleAfterUnmap(planted, bad.port);
    expect(stale.result).toBeNull();
    expect(stale.data).toBe(0x5a);
  });

  it('arm-smmu-v3: CMD_TLBI_NH_VA + CMD_SYNC leave no stale entry; a planted missing TLBI shows one', () => {
    const good = v3Host();
    good.memory.write(physAddr(RAM), Uint8Array.of(0xa5));
    good.group.claimDmaOwner(owner);
    const domain = good.group.allocateDomain() as SmmuDriverDomain;
    good.group.attachDomain(domain);
    expect(staleAfterUnmap(domain, good.port).result).toMatchObject({ kind: 'translation' });
    // The fault is an F_TRANSLATION event the event queue thread consumed.
    expect(good.instance.events.map((e) => [e.id, e.streamId])).toEqual([
      [R3.EVT_ID_TRANSLATION_FAULT, 0x42],
    ]);
    // arm_smmu_evtq_thread's dump: the ID line, then the four doublewords.
    expect(good.log.slice(-5)).toEqual([
      'arm-smmu-v3 10000000.iommu: event 0x10 received:',
      ...(good.instance.events[0]?.dwords ?? []).map(
        (d) => `arm-smmu-v3 10000000.iommu: \t0x${d.toString(16).padStart(16, '0')}`,
      ),
    ]);

    const bad = v3Host();
    bad.memory.write(physAddr(RAM), Uint8Array.of(0xa5));
    bad.group.claimDmaOwner(owner);
    const planted = bad.instance.allocDomain('unmanaged', { omitLeafTlbi: true });
    bad.group.attachDomain(planted);
    const stale = staleAfterUnmap(planted, bad.port);
    expect(stale.result).toBeNull();
    expect(stale.data).toBe(0xa5);
  });

  it('arm-smmu-v3: claimed groups sit on abort STEs (C_BAD_STE is not raised: the STE is valid and aborts)', () => {
    const { group, port, instance } = v3Host();
    group.claimDmaOwner(owner);
    expect(port.read(iova(0x1000), new Uint8Array(4))).toMatchObject({ kind: 'blocked' });
    expect(instance.events).toEqual([]);
  });
});
