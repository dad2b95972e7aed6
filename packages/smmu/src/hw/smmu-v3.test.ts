import { IOMMU_READ, IOMMU_WRITE, type Iova, type PhysAddr, PhysicalMemory } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { ArmLpaeDomain, ArmSmmuV3, iotlbTag, SmmuDmaPort, TablePageAllocator } from '../index.js';
import { ArmSmmuV3Programmer } from '../testing/index.js';
import * as R from './smmu-v3-regs.js';

const RW = IOMMU_READ | IOMMU_WRITE;
const SID = 0x123;
const ASID = 7;
const VMID = 3;

function setup(
  options: {
    twoLevel?: boolean;
    omitLeafTlbi?: boolean;
    format?: 'ARM_64_LPAE_S1' | 'ARM_64_LPAE_S2';
    oas?: number;
  } = {},
) {
  const memory = new PhysicalMemory();
  memory.allocate(0x1_0000_0000 as PhysAddr, 0x100_0000);
  const allocator = new TablePageAllocator({ memory, base: 0x8000_0000 as PhysAddr, size: 0x400_0000 });
  const smmu = new ArmSmmuV3({ memory });
  const driver = new ArmSmmuV3Programmer(smmu, { allocator, twoLevel: options.twoLevel ?? true });
  driver.reset();
  const stage = options.format === 'ARM_64_LPAE_S2' ? 2 : 1;
  const domain = new ArmLpaeDomain({
    allocator,
    format: options.format ?? 'ARM_64_LPAE_S1',
    ...(options.oas === undefined ? {} : { oas: options.oas }),
    flushOps: driver.flushOps(stage, stage === 1 ? ASID : VMID, {
      omitLeafTlbi: options.omitLeafTlbi ?? false,
    }),
  });
  if (stage === 1) driver.attachStage1(SID, domain.pgtable, ASID);
  else driver.attachStage2(SID, domain.pgtable, VMID);
  const irqs: string[] = [];
  smmu.on('evtq-irq', () => irqs.push('evtq'));
  smmu.on('gerror-irq', () => irqs.push('gerror'));
  const port = new SmmuDmaPort({ smmu, streamId: SID, memory });
  return { memory, allocator, smmu, driver, domain, irqs, port };
}

describe('ArmSmmuV3: stream table -> STE -> CD -> TTB0 walk', () => {
  it.each([true, false])(
    '2-level stream table %s: a master DMAs through the kernel page tables',
    (twoLevel) => {
      const { memory, domain, port } = setup({ twoLevel });
      domain.map(0x10_0000 as Iova, 0x1_0000_1000 as PhysAddr, 0x3000, RW);
      expect(port.write(0x10_1ffe as Iova, new Uint8Array([0xaa, 0xbb, 0xcc, 0xdd]))).toBeNull();
      expect(memory.readU32(0x1_0000_2ffe as PhysAddr)).toBe(0xddccbbaa);
    },
  );

  it('a stage-2 STE walks S2TTB with its VMID and honours S2AP', () => {
    const { domain, smmu } = setup({ format: 'ARM_64_LPAE_S2' });
    domain.map(0x4000_0000 as Iova, 0x1_0000_0000 as PhysAddr, 0x1000, IOMMU_READ);
    expect(smmu.translate(SID, 0x4000_0010 as Iova, 'read')).toBe(0x1_0000_0010);
    expect(smmu.translate(SID, 0x4000_0010 as Iova, 'write')).toMatchObject({ kind: 'permission' });
  });

  it('reports IDR0/IDR1/IDR5 as arm_smmu_device_hw_probe expects and refuses unknown options', () => {
    const smmu = new ArmSmmuV3({ memory: new PhysicalMemory(), streamIdBits: 12 });
    expect((smmu.read(R.IDR0, 4) >>> 2) & 3).toBe(2); // TTF AArch64
    expect((smmu.read(R.IDR0, 4) >>> 27) & 3).toBe(1); // 2-level
    expect(smmu.read(R.IDR1, 4) & 0x3f).toBe(12);
    expect(smmu.read(R.IDR5, 4) & 7).toBe(5);
    expect(() => new ArmSmmuV3({ memory: new PhysicalMemory(), sidBits: 3 } as never)).toThrow(
      /unknown option/,
    );
  });
});

describe('ArmSmmuV3 event queue: records in the spec layout and the eventq IRQ', () => {
  it('F_TRANSLATION (0x10): StreamID, RnW, CLASS=IN, InputAddr', () => {
    const { driver, port, irqs } = setup();
    expect(port.read(0x7000_0abc as Iova, new Uint8Array(4))).toMatchObject({ kind: 'translation' });
    const [record] = driver.readEvents();
    expect(record?.id).toBe(R.EVT_ID_TRANSLATION_FAULT);
    expect(record?.streamId).toBe(SID);
    expect(record?.dwords[0]).toBe(BigInt(SID) * 2n ** 32n + 0x10n);
    expect(record?.dwords[1]).toBe((1n << 35n) | (2n << 40n)); // RnW (read), CLASS = IN
    expect(record?.dwords[2]).toBe(0x7000_0abcn);
    expect(record?.dwords[3]).toBe(0n);
    expect(irqs).toEqual(['evtq']);
  });

  it('F_PERMISSION (0x13) for a write to a read-only page, with RnW clear', () => {
    const { driver, domain, port } = setup();
    domain.map(0x1000 as Iova, 0x1_0000_0000 as PhysAddr, 0x1000, IOMMU_READ);
    expect(port.write(0x1008 as Iova, new Uint8Array(4))).toMatchObject({ kind: 'permission' });
    const [record] = driver.readEvents();
    expect(record?.id).toBe(R.EVT_ID_PERMISSION_FAULT);
    expect(record?.dwords[1]).toBe(2n << 40n);
    expect(record?.dwords[2]).toBe(0x1008n);
  });

  it('F_ADDR_SIZE (0x11) for an input address past 48 bits and for an output past CD.IPS', () => {
    const { driver, smmu } = setup();
    expect(smmu.translate(SID, (2 ** 48) as Iova, 'read')).toMatchObject({ kind: 'address-size' });
    expect(driver.readEvents().map((r) => r.id)).toEqual([R.EVT_ID_ADDR_SIZE_FAULT]);
    // A CD with a 32-bit output size (IPS 0) cannot reach RAM at 4 GiB.
    const wide = new ArmLpaeDomain({
      allocator: new TablePageAllocator({
        memory: driver.memory,
        base: 0x9000_0000 as PhysAddr,
        size: 0x10_0000,
      }),
    });
    wide.map(0x2000 as Iova, 0x1_0000_0000 as PhysAddr, 0x1000, RW);
    driver.attachStage1(SID + 1, wide.pgtable, ASID + 1, { ips: 0 });
    expect(smmu.translate(SID + 1, 0x2000 as Iova, 'read')).toMatchObject({ kind: 'address-size' });
    expect(driver.readEvents().map((r) => [r.id, r.streamId])).toEqual([[R.EVT_ID_ADDR_SIZE_FAULT, SID + 1]]);
  });

  it('stage-2 faults set S2 and carry the IPA in doubleword 3', () => {
    const { driver, smmu } = setup({ format: 'ARM_64_LPAE_S2' });
    smmu.translate(SID, 0x1234_5678 as Iova, 'write');
    const [record] = driver.readEvents();
    expect(record?.id).toBe(R.EVT_ID_TRANSLATION_FAULT);
    expect(record?.dwords[1]).toBe((1n << 39n) | (2n << 40n));
    expect(record?.dwords[3]).toBe(0x1234_5000n);
  });

  it('C_BAD_STREAMID (0x02) past the stream table or without a level-2 table; C_BAD_STE (0x04) for STE.V = 0', () => {
    const { driver, smmu, irqs } = setup();
    expect(smmu.translate(0x1_0000, 0 as Iova, 'read')).toMatchObject({ kind: 'blocked' });
    expect(smmu.translate(0x4000, 0 as Iova, 'read')).toMatchObject({ kind: 'blocked' });
    driver.writeSteWord0(SID + 1, 0);
    expect(smmu.translate(SID + 1, 0 as Iova, 'read')).toMatchObject({ kind: 'blocked' });
    const records = driver.readEvents();
    expect(records.map((r) => [r.id, r.streamId])).toEqual([
      [R.EVT_ID_BAD_STREAMID, 0x1_0000],
      [R.EVT_ID_BAD_STREAMID, 0x4000],
      [R.EVT_ID_BAD_STE, SID + 1],
    ]);
    expect(records[2]?.dwords.slice(1)).toEqual([0n, 0n, 0n]);
    expect(irqs).toEqual(['evtq', 'evtq', 'evtq']);
  });

  it('an abort STE terminates silently; a bypass STE passes addresses through', () => {
    const { driver, smmu } = setup();
    driver.writeSteWord0(SID, 1 | (R.STE_CFG_ABORT << 1));
    expect(smmu.translate(SID, 0x1000 as Iova, 'read')).toMatchObject({ kind: 'blocked' });
    driver.writeSteWord0(SID, 1 | (R.STE_CFG_BYPASS << 1));
    expect(smmu.translate(SID, 0x1000 as Iova, 'read')).toBe(0x1000);
    expect(driver.readEvents()).toEqual([]);
  });

  it('a full event queue drops records and toggles EVTQ_PROD.OVFLG', () => {
    const { smmu } = setup();
    for (let i = 0; i < 129; i++) smmu.translate(SID, (0x1000 * i) as Iova, 'read');
    expect(smmu.droppedEvents).toBe(1);
    expect(smmu.read(R.EVTQ_PROD, 4) >>> 31).toBe(1);
  });
});

describe('ArmSmmuV3 caches and the command queue', () => {
  function staleAfterUnmap(omitLeafTlbi: boolean): boolean {
    const { memory, domain, port } = setup({ omitLeafTlbi });
    domain.map(0x8000 as Iova, 0x1_0000_9000 as PhysAddr, 0x1000, RW);
    expect(port.read(0x8000 as Iova, new Uint8Array(4))).toBeNull();
    domain.unmap(0x8000 as Iova, 0x1000);
    return (
      port.write(0x8000 as Iova, new Uint8Array([7, 7, 7, 7])) === null &&
      memory.readU32(0x1_0000_9000 as PhysAddr) === 0x07070707
    );
  }

  it('with CMD_TLBI_NH_VA + CMD_SYNC a DMA after unmap faults; without, a stale IOTLB entry reaches memory', () => {
    expect(staleAfterUnmap(false)).toBe(false);
    expect(staleAfterUnmap(true)).toBe(true);
  });

  it('an STE rewritten without CMD_CFGI_STE keeps its cached configuration', () => {
    const { driver, smmu, domain, memory } = setup();
    domain.map(0 as Iova, 0x1_0000_0000 as PhysAddr, 0x1000, RW);
    expect(smmu.translate(SID, 0 as Iova, 'read')).toBe(0x1_0000_0000);
    const ste = driver.steAddress(SID);
    memory.writeU32(ste as PhysAddr, 1 | (R.STE_CFG_BYPASS << 1));
    smmu.iotlb.invalidateAll();
    expect(smmu.translate(SID, 0 as Iova, 'read')).toBe(0x1_0000_0000);
    driver.cfgiSte(SID);
    expect(smmu.translate(SID, 0 as Iova, 'read')).toBe(0);
  });

  it('a CD rewritten without CMD_CFGI_CD keeps its cached configuration (ASID and TTB0)', () => {
    const { driver, smmu, domain, memory } = setup();
    domain.map(0 as Iova, 0x1_0000_0000 as PhysAddr, 0x1000, RW);
    expect(smmu.translate(SID, 0 as Iova, 'read')).toBe(0x1_0000_0000);
    const cd = driver.cdAddress(SID);
    memory.writeU32((cd + 8) as PhysAddr, 0); // TTB0 := 0: a table of nothing
    smmu.iotlb.invalidateAll();
    expect(smmu.translate(SID, 0 as Iova, 'read')).toBe(0x1_0000_0000);
    driver.cfgiCd(SID);
    smmu.iotlb.invalidateAll();
    expect(smmu.translate(SID, 0 as Iova, 'read')).toMatchObject({ kind: 'translation' });
  });

  it('CMD_TLBI_NH_VA drops only the entry of its ASID that covers the address', () => {
    const { driver, smmu, domain } = setup();
    domain.map(0 as Iova, 0x1_0000_0000 as PhysAddr, 0x2000, RW);
    smmu.translate(SID, 0 as Iova, 'read');
    smmu.translate(SID, 0x1000 as Iova, 'read');
    driver.command([R.CMDQ_OP_TLBI_NH_VA, (ASID + 1) << 16, 0x1000 | 1, 0]);
    expect(smmu.iotlb.size).toBe(2);
    driver.command([R.CMDQ_OP_TLBI_NH_VA, ASID << 16, 0x1000 | 1, 0]);
    expect(smmu.iotlb.size).toBe(1);
    expect(smmu.iotlb.lookup(iotlbTag(0, 1, ASID), 0)).toBeDefined(); // page 0 stays
    driver.sync();
  });

  it('CMD_TLBI_NH_ASID, CMD_TLBI_S12_VMALL and CMD_TLBI_NSNH_ALL drop what they name', () => {
    const { driver, smmu, domain } = setup();
    domain.map(0 as Iova, 0x1_0000_0000 as PhysAddr, 0x4000, RW);
    const fill = () => {
      for (let i = 0; i < 4; i++) smmu.translate(SID, (i * 0x1000) as Iova, 'read');
    };
    fill();
    driver.command([R.CMDQ_OP_TLBI_NH_ASID, (ASID + 1) << 16, 0, 0]);
    expect(smmu.iotlb.size).toBe(4);
    driver.command([R.CMDQ_OP_TLBI_NH_ASID, ASID << 16, 0, 0]);
    expect(smmu.iotlb.size).toBe(0);
    fill();
    driver.command([R.CMDQ_OP_TLBI_S12_VMALL, 0, 0, 0]);
    expect(smmu.iotlb.size).toBe(0);
    fill();
    driver.command([R.CMDQ_OP_TLBI_NSNH_ALL, 0, 0, 0]);
    expect(smmu.iotlb.size).toBe(0);
    driver.sync();
  });

  it('an illegal command stops the queue with CERROR_ILL and GERROR.CMDQ_ERR until GERRORN acknowledges it', () => {
    const { driver, smmu, irqs } = setup();
    const consBefore = smmu.read(R.CMDQ_CONS, 4);
    driver.command([0x7f, 0, 0, 0]);
    expect(smmu.read(R.CMDQ_CONS, 4)).toBe(((R.CMDQ_ERR_CERROR_ILL << 24) | consBefore) >>> 0);
    expect(smmu.read(R.GERROR, 4) & R.GERROR_CMDQ_ERR).toBe(R.GERROR_CMDQ_ERR);
    expect(irqs).toEqual(['gerror']);
    // arm_smmu_cmdq_skip_err: replace the command with a CMD_SYNC, then acknowledge.
    expect(smmu.read(R.CMDQ_CONS, 4) >>> 24).toBe(1);
    const queue = (smmu.read(R.CMDQ_BASE, 4) & ~0x1f) >>> 0;
    driver.memory.writeU32((queue + 16 * consBefore) as PhysAddr, R.CMDQ_OP_CMD_SYNC);
    smmu.write(R.GERRORN, 4, smmu.read(R.GERROR, 4));
    expect(smmu.read(R.CMDQ_CONS, 4)).toBe(consBefore + 1);
  });

  it('CMD_SYNC with CS=IRQ writes MSIDATA to MSIADDR', () => {
    const { driver, memory } = setup();
    driver.command([R.CMDQ_OP_CMD_SYNC | (R.CMDQ_SYNC_0_CS_IRQ << 12), 0xcafe, 0x1_0000_0100 % 2 ** 32, 1]);
    expect(memory.readU32(0x1_0000_0100 as PhysAddr)).toBe(0xcafe);
  });
});

describe('ArmSmmuV3 queue pointers owned by the SMMU', () => {
  it('CMDQ_CONS and EVTQ_PROD take software writes only while their queue is disabled', () => {
    const smmu = new ArmSmmuV3({ memory: new PhysicalMemory() });
    smmu.write(R.CMDQ_CONS, 4, 5);
    smmu.write(R.EVTQ_PROD, 4, 6);
    expect([smmu.read(R.CMDQ_CONS, 4), smmu.read(R.EVTQ_PROD, 4)]).toEqual([5, 6]);
    smmu.write(R.CR0, 4, R.CR0_EVTQEN);
    expect(smmu.read(R.CR0ACK, 4)).toBe(R.CR0_EVTQEN);
    smmu.write(R.EVTQ_PROD, 4, 0);
    expect(smmu.read(R.EVTQ_PROD, 4)).toBe(6);
    expect(smmu.read(R.GERROR, 4)).toBe(0);
  });
});

describe('ArmSmmuV3 external aborts on its own fetches', () => {
  it('a stream table in no memory is F_STE_FETCH (0x03); a CD in no memory is F_CD_FETCH (0x09)', () => {
    const { driver, smmu, memory } = setup();
    // Point the stream table at an address with no RAM, then back.
    const base = [smmu.read(R.STRTAB_BASE, 4), smmu.read(R.STRTAB_BASE + 4, 4)];
    smmu.write(R.STRTAB_BASE + 4, 4, 0x10);
    expect(smmu.translate(SID, 0 as Iova, 'read')).toMatchObject({ kind: 'blocked' });
    smmu.write(R.STRTAB_BASE, 4, base[0] ?? 0);
    smmu.write(R.STRTAB_BASE + 4, 4, base[1] ?? 0);
    const ste = driver.steAddress(SID);
    memory.writeU32(ste as PhysAddr, (1 | (R.STE_CFG_S1_TRANS << 1)) >>> 0);
    memory.writeU32((ste + 4) as PhysAddr, 0x20); // S1ContextPtr 0x20_0000_0000: no RAM
    driver.cfgiSte(SID);
    expect(smmu.translate(SID, 0 as Iova, 'read')).toMatchObject({ kind: 'blocked' });
    expect(driver.readEvents().map((r) => r.id)).toEqual([R.EVT_ID_STE_FETCH, R.EVT_ID_CD_FETCH]);
  });

  it('a command fetched from no memory stops the queue with CERROR_ABT', () => {
    const smmu = new ArmSmmuV3({ memory: new PhysicalMemory() });
    smmu.write(R.CMDQ_BASE + 4, 4, 0x10);
    smmu.write(R.CMDQ_BASE, 4, 4);
    smmu.write(R.CR0, 4, R.CR0_CMDQEN);
    smmu.write(R.CMDQ_PROD, 4, 1);
    expect(smmu.read(R.CMDQ_CONS, 4) >>> 24).toBe(R.CMDQ_ERR_CERROR_ABT);
    expect(smmu.read(R.GERROR, 4) & R.GERROR_CMDQ_ERR).toBe(R.GERROR_CMDQ_ERR);
  });
});
