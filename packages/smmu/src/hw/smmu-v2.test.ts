import { IOMMU_READ, IOMMU_WRITE, type Iova, type PhysAddr, PhysicalMemory } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { ArmLpaeDomain, type ArmSmmuModel, ArmSmmuV2, SmmuDmaPort, TablePageAllocator } from '../index.js';
import { ArmSmmuV2Programmer } from '../testing/index.js';
import * as R from './smmu-v2-regs.js';

const RW = IOMMU_READ | IOMMU_WRITE;
const SID = 0x20;

function setup(
  options: {
    omitLeafTlbi?: boolean;
    format?: 'ARM_64_LPAE_S1' | 'ARM_64_LPAE_S2';
    model?: ArmSmmuModel;
  } = {},
) {
  const memory = new PhysicalMemory();
  memory.allocate(0x1_0000_0000 as PhysAddr, 0x100_0000);
  const allocator = new TablePageAllocator({ memory, base: 0x8000_0000 as PhysAddr, size: 0x100_0000 });
  const smmu = new ArmSmmuV2({ memory, ...(options.model === undefined ? {} : { model: options.model }) });
  const v1 =
    options.model === 'arm,smmu-v1' || options.model === 'arm,mmu-400' || options.model === 'arm,mmu-401';
  const driver = new ArmSmmuV2Programmer(smmu, { v1 });
  driver.reset();
  const domain = new ArmLpaeDomain({
    allocator,
    format: options.format ?? 'ARM_64_LPAE_S1',
    ...(v1 ? { ias: 32, oas: 40 } : {}),
    flushOps: driver.flushOps(0, { omitLeafTlbi: options.omitLeafTlbi ?? false }),
  });
  driver.attach({ contextBank: 0, smrIndex: 0, streamId: SID, pgtable: domain.pgtable });
  const irqs: string[] = [];
  smmu.on('context-irq', (cb) => irqs.push(`context ${cb}`));
  smmu.on('global-irq', () => irqs.push('global'));
  const port = new SmmuDmaPort({ smmu, streamId: SID, memory });
  const cb0 = driver.contextBankBase(0);
  return { memory, allocator, smmu, driver, domain, irqs, port, cb0 };
}

describe('ArmSmmuV2: SMR -> S2CR -> context bank -> page-table walk', () => {
  it.each<ArmSmmuModel>(['arm,smmu-v1', 'arm,smmu-v2', 'arm,mmu-400', 'arm,mmu-401', 'arm,mmu-500'])(
    '%s: a master DMAs through the tables io-pgtable-arm wrote',
    (model) => {
      const { memory, domain, port } = setup({ model });
      domain.map(0x1000_0000 as Iova, 0x1_0000_2000 as PhysAddr, 0x2000, RW);
      expect(port.write((0x1000_0ff0 + 0) as Iova, new Uint8Array([1, 2, 3, 4]))).toBeNull();
      expect(memory.readU32(0x1_0000_2ff0 as PhysAddr)).toBe(0x04030201);
      const into = new Uint8Array(0x20);
      memory.writeU32(0x1_0000_3008 as PhysAddr, 0xdeadbeef);
      expect(port.read(0x1000_0ff0 as Iova, into)).toBeNull();
      expect(into[0x18]).toBe(0xef);
    },
  );

  it('reports its geometry in ID0/ID1 the way arm_smmu_device_cfg_probe reads it', () => {
    const smmu = new ArmSmmuV2({ memory: new PhysicalMemory(), contextBanks: 8, streamMatchGroups: 16 });
    expect(smmu.size).toBe(0x1_0000);
    expect(smmu.read(R.GR0_ID0, 4) & 0xff).toBe(16);
    const id1 = smmu.read(R.GR0_ID1, 4);
    expect(2 ** (((id1 >>> 28) & 7) + 1) * 2 * 0x1000).toBe(smmu.size);
    expect(id1 & 0xff).toBe(8);
    // NUMS2CB: no stage-2-only banks, so arm_smmu_init_domain_context finds stage-1 banks.
    expect((id1 >>> 16) & 0xff).toBe(0);
    expect(() => new ArmSmmuV2({ memory: new PhysicalMemory(), contextBanks: 0 })).toThrow(/contextBanks/);
    expect(() => smmu.read(smmu.size, 4)).toThrow(/outside/);
  });

  it('an SMR mask makes one entry match a range of stream IDs; others are unidentified', () => {
    const { smmu, driver, domain, memory, irqs } = setup();
    driver.attach({ contextBank: 0, smrIndex: 1, streamId: 0x40, smrMask: 0xf, pgtable: domain.pgtable });
    domain.map(0x1000 as Iova, 0x1_0000_0000 as PhysAddr, 0x1000, RW);
    expect(smmu.translate(0x4f, 0x1010 as Iova, 'read')).toBe(0x1_0000_0010);
    expect(smmu.translate(0x50, 0x1010 as Iova, 'read')).toMatchObject({ kind: 'blocked' });
    expect(smmu.read(R.GR0_sGFSR, 4)).toBe(R.sGFSR_USF);
    expect(smmu.read(R.GR0_sGFSYNR1, 4)).toBe(0x50);
    expect(irqs).toEqual(['global']);
    expect(smmu.globalIrqAsserted()).toBe(true);
    smmu.write(R.GR0_sGFSR, 4, R.sGFSR_USF);
    expect(smmu.globalIrqAsserted()).toBe(false);
    expect(memory.populatedPages).toBeGreaterThan(0);
  });

  it('two SMRs matching one stream are a stream match conflict (sGFSR.SMCF)', () => {
    const { smmu, driver, domain } = setup();
    driver.attach({ contextBank: 0, smrIndex: 1, streamId: 0x21, smrMask: 0x1, pgtable: domain.pgtable });
    expect(smmu.translate(SID, 0 as Iova, 'read')).toMatchObject({ kind: 'blocked' });
    expect(smmu.read(R.GR0_sGFSR, 4)).toBe(R.sGFSR_SMCF);
  });

  it('a bank with stage-2 tables (CBAR.TYPE S2_TRANS) walks VTCR/VTTBR and honours S2AP', () => {
    const { domain, smmu } = setup({ format: 'ARM_64_LPAE_S2' });
    domain.map(0x20_0000 as Iova, 0x1_0020_0000 as PhysAddr, 0x20_0000, IOMMU_WRITE);
    expect(smmu.translate(SID, 0x20_1234 as Iova, 'write')).toBe(0x1_0020_1234);
    expect(smmu.translate(SID, 0x20_1234 as Iova, 'read')).toMatchObject({ kind: 'permission' });
  });
});

describe('ArmSmmuV2 context faults: FSR/FAR/FSYNR0/CBFRSYNRA and the context interrupt', () => {
  it('a translation fault latches FSR.TF, FAR, FSYNR0.WNR, the stream ID, and raises the IRQ once', () => {
    const { smmu, port, irqs, cb0, driver } = setup();
    const fault = port.write(0x5000_0123 as Iova, new Uint8Array(4));
    expect(fault).toMatchObject({ kind: 'translation', iova: 0x5000_0123, access: 'write' });
    expect(smmu.read(cb0 + R.CB_FSR, 4)).toBe(R.FSR_TF);
    expect(smmu.read(cb0 + R.CB_FAR, 4)).toBe(0x5000_0123);
    expect(smmu.read(cb0 + R.CB_FAR + 4, 4)).toBe(0);
    expect(smmu.read(cb0 + R.CB_FSYNR0, 4) & R.FSYNR0_WNR).toBe(R.FSYNR0_WNR);
    expect(smmu.read(0x1000 + R.GR1_CBFRSYNRA_BASE, 4)).toBe(SID);
    expect(irqs).toEqual(['context 0']);
    expect(smmu.contextIrqAsserted(0)).toBe(true);
    // A second fault before the handler clears FSR only sets MULTI.
    port.read(0x6000_0000 as Iova, new Uint8Array(4));
    expect(smmu.read(cb0 + R.CB_FSR, 4) >>> 0).toBe((R.FSR_TF | R.FSR_MULTI) >>> 0);
    expect(smmu.read(cb0 + R.CB_FAR, 4)).toBe(0x5000_0123);
    expect(irqs).toEqual(['context 0']);
    driver.clearFault(0);
    expect(smmu.contextIrqAsserted(0)).toBe(false);
    port.read(0x6000_0000 as Iova, new Uint8Array(4));
    expect(irqs).toEqual(['context 0', 'context 0']);
    expect(smmu.read(cb0 + R.CB_FSYNR0, 4) & R.FSYNR0_WNR).toBe(0);
  });

  it('a write to a read-only mapping is FSR.PF; an address past 48 bits is FSR.ASF', () => {
    const { smmu, domain, port, cb0, driver } = setup();
    domain.map(0x1000 as Iova, 0x1_0000_0000 as PhysAddr, 0x1000, IOMMU_READ);
    expect(port.read(0x1000 as Iova, new Uint8Array(4))).toBeNull();
    expect(port.write(0x1000 as Iova, new Uint8Array(4))).toMatchObject({ kind: 'permission' });
    expect(smmu.read(cb0 + R.CB_FSR, 4)).toBe(R.FSR_PF);
    driver.clearFault(0);
    expect(smmu.translate(SID, (2 ** 48 + 0x1000) as Iova, 'read')).toMatchObject({ kind: 'address-size' });
    expect(smmu.read(cb0 + R.CB_FSR, 4)).toBe(R.FSR_ASF);
  });
});

describe('ArmSmmuV2 IOTLB', () => {
  function staleAfterUnmap(omitLeafTlbi: boolean): boolean {
    const { memory, domain, port, smmu } = setup({ omitLeafTlbi });
    domain.map(0x4000 as Iova, 0x1_0000_5000 as PhysAddr, 0x1000, RW);
    expect(port.read(0x4000 as Iova, new Uint8Array(8))).toBeNull();
    expect(smmu.iotlb.size).toBe(1);
    expect(domain.unmap(0x4000 as Iova, 0x1000)).toBe(0x1000);
    memory.writeU32(0x1_0000_5000 as PhysAddr, 0);
    const fault = port.write(0x4000 as Iova, new Uint8Array([9, 9, 9, 9]));
    return fault === null && memory.readU32(0x1_0000_5000 as PhysAddr) === 0x09090909;
  }

  it('with the driver TLBIVAL a DMA after unmap faults; without it the stale entry still reaches memory', () => {
    expect(staleAfterUnmap(false)).toBe(false);
    expect(staleAfterUnmap(true)).toBe(true);
  });

  it('caches walks: the second access hits, and changing the tables alone changes nothing', () => {
    const { domain, smmu } = setup();
    domain.map(0x20_0000 as Iova, 0x1_0020_0000 as PhysAddr, 0x20_0000, RW);
    expect(smmu.translate(SID, 0x20_0000 as Iova, 'read')).toBe(0x1_0020_0000);
    const hits = smmu.iotlb.hits;
    expect(smmu.translate(SID, 0x3f_f000 as Iova, 'read')).toBe(0x1_003f_f000);
    expect(smmu.iotlb.hits).toBe(hits + 1);
    expect(smmu.iotlb.size).toBe(1); // One 2M block entry.
  });

  it('TLBIASID and TLBIALLNSNH drop entries; sTLBGSTATUS and TLBSTATUS read idle', () => {
    const { domain, smmu, cb0 } = setup();
    domain.map(0 as Iova, 0x1_0000_0000 as PhysAddr, 0x4000, RW);
    for (let i = 0; i < 4; i++) smmu.translate(SID, (i * 0x1000) as Iova, 'read');
    expect(smmu.iotlb.size).toBe(4);
    smmu.write(cb0 + R.CB_S1_TLBIASID, 4, 1); // Another ASID: nothing goes.
    expect(smmu.iotlb.size).toBe(4);
    smmu.write(cb0 + R.CB_S1_TLBIASID, 4, 0);
    expect(smmu.iotlb.size).toBe(0);
    smmu.translate(SID, 0 as Iova, 'read');
    smmu.write(R.GR0_TLBIALLNSNH, 4, 0);
    expect(smmu.iotlb.size).toBe(0);
    expect(smmu.read(R.GR0_sTLBGSTATUS, 4)).toBe(0);
    expect(smmu.read(cb0 + R.CB_TLBSTATUS, 4)).toBe(0);
  });
});

describe('ArmSmmuV2 bypass paths', () => {
  it('out of reset (sCR0.CLIENTPD) everything bypasses; with USFCFG clear unmatched streams bypass', () => {
    const smmu = new ArmSmmuV2({ memory: new PhysicalMemory() });
    expect(smmu.translate(7, 0x1234 as Iova, 'write')).toBe(0x1234);
    smmu.write(R.GR0_sCR0, 4, 0);
    expect(smmu.translate(7, 0x1234 as Iova, 'write')).toBe(0x1234);
    smmu.write(R.GR0_sCR0, 4, R.sCR0_USFCFG);
    expect(smmu.translate(7, 0x1234 as Iova, 'write')).toMatchObject({ kind: 'blocked' });
  });

  it('S2CR type BYPASS passes addresses through; type FAULT blocks; SCTLR.M = 0 bypasses the bank', () => {
    const { smmu, cb0 } = setup();
    smmu.write(R.GR0_S2CR_BASE, 4, R.S2CR_TYPE_BYPASS << 16);
    expect(smmu.translate(SID, 0x7000 as Iova, 'read')).toBe(0x7000);
    smmu.write(R.GR0_S2CR_BASE, 4, R.S2CR_TYPE_FAULT << 16);
    expect(smmu.translate(SID, 0x7000 as Iova, 'read')).toMatchObject({ kind: 'blocked' });
    smmu.write(R.GR0_S2CR_BASE, 4, R.S2CR_TYPE_TRANS << 16);
    smmu.write(cb0 + R.CB_SCTLR, 4, 0);
    expect(smmu.translate(SID, 0x7000 as Iova, 'read')).toBe(0x7000);
  });

  it('byte and halfword accesses read and merge within a register', () => {
    const { smmu, cb0 } = setup();
    smmu.write(cb0 + R.CB_CONTEXTIDR, 4, 0x11223344);
    expect(smmu.read(cb0 + R.CB_CONTEXTIDR + 1, 1)).toBe(0x33);
    expect(smmu.read(cb0 + R.CB_CONTEXTIDR + 2, 2)).toBe(0x1122);
    smmu.write(cb0 + R.CB_CONTEXTIDR + 2, 2, 0xaabb);
    expect(smmu.read(cb0 + R.CB_CONTEXTIDR, 4)).toBe(0xaabb3344);
  });
});
