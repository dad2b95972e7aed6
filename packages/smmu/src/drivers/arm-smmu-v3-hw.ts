import {
  KernelError,
  type MmioDevice,
  type PhysAddr,
  type PhysicalMemory,
  rejectUnknownOptions,
} from '@vfiokit/core';
import * as R from '../hw/smmu-v3-regs.js';
import type { ArmLpaeIoPgtable } from '../pgtable/io-pgtable-arm.js';
import type { DomainFlushOps } from '../pgtable/lpae-domain.js';
import type { TablePageAllocator } from '../pgtable/page-allocator.js';

/** Options of an {@link ArmSmmuV3Programmer}. */
export interface ArmSmmuV3ProgrammerOptions {
  /** Where queues, stream tables and CDs are allocated (in the SMMU's memory). */
  readonly allocator: TablePageAllocator;
  /** A 2-level stream table (default) or a linear one. */
  readonly twoLevel?: boolean;
  /** STRTAB_BASE_CFG.LOG2SIZE (default: IDR1.SIDSIZE, at most 16). */
  readonly log2Size?: number;
  /** STRTAB_SPLIT of a 2-level table (default 8, the kernel's). */
  readonly split?: number;
}

/** One event record as `arm_smmu_evtq_thread` reads it: four 64-bit doublewords. */
export interface SmmuV3EventRecord {
  readonly id: number;
  readonly streamId: number;
  readonly dwords: readonly [bigint, bigint, bigint, bigint];
}

/** Options of {@link ArmSmmuV3Programmer.flushOps}. */
export interface V3FlushOpsOptions {
  /** The planted driver bug: the gathered leaf invalidations are never issued. */
  readonly omitLeafTlbi?: boolean;
}

const CMDQ_LOG2 = 8;
const EVTQ_LOG2 = 7;

/**
 * The queue and table handling of drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c that tests
 * need to drive an {@link ArmSmmuV3} through registers and memory only:
 * `arm_smmu_device_reset` (queues, stream table, CFGI_ALL, TLBI_NSNH_ALL, enables),
 * `arm_smmu_make_s1_cd`/`arm_smmu_make_cdtable_ste`/`arm_smmu_make_s2_domain_ste` with a
 * CFGI_STE + CMD_SYNC after each write, the TLB flush ops with a gather batched until
 * `iotlb_sync` (CMD_TLBI_NH_VA or CMD_TLBI_S2_IPA per granule, then CMD_SYNC), and
 * the event queue consumer. A test helper, not the arm-smmu-v3 driver.
 */
export class ArmSmmuV3Programmer {
  readonly smmu: MmioDevice;
  readonly memory: PhysicalMemory;
  private readonly allocator: TablePageAllocator;
  private readonly twoLevel: boolean;
  private readonly log2Size: number;
  private readonly split: number;
  private strtab = 0;
  private cmdq = 0;
  private evtq = 0;
  private cmdProd = 0;
  private readonly l2Tables = new Map<number, number>();
  private readonly cds = new Map<number, number>();

  constructor(smmu: MmioDevice, options: ArmSmmuV3ProgrammerOptions) {
    rejectUnknownOptions(options, ['allocator', 'twoLevel', 'log2Size', 'split'], 'ArmSmmuV3Programmer');
    this.smmu = smmu;
    this.allocator = options.allocator;
    this.memory = options.allocator.memory;
    this.twoLevel = options.twoLevel ?? true;
    const sidBits = smmu.read(R.IDR1, 4) & 0x3f;
    this.log2Size = options.log2Size ?? Math.min(sidBits, 16);
    this.split = options.split ?? 8;
  }

  /** `arm_smmu_device_reset`. */
  reset(): void {
    const s = this.smmu;
    s.write(R.CR0, 4, 0);
    this.cmdq = this.allocator.alloc(16 << CMDQ_LOG2);
    this.evtq = this.allocator.alloc(32 << EVTQ_LOG2);
    if (this.twoLevel) {
      const l1Entries = 2 ** Math.max(0, this.log2Size - this.split);
      this.strtab = this.allocator.alloc(Math.max(8 * l1Entries, 64));
      s.write(R.STRTAB_BASE_CFG, 4, (R.STRTAB_FMT_2LVL << 16) | (this.split << 6) | this.log2Size);
    } else {
      this.strtab = this.allocator.alloc(64 * 2 ** this.log2Size);
      s.write(R.STRTAB_BASE_CFG, 4, (R.STRTAB_FMT_LINEAR << 16) | this.log2Size);
    }
    this.write64(R.STRTAB_BASE, this.strtab);
    this.write64(R.CMDQ_BASE, this.cmdq + CMDQ_LOG2);
    s.write(R.CMDQ_PROD, 4, 0);
    this.cmdProd = 0;
    s.write(R.CR0, 4, R.CR0_CMDQEN);
    this.command([R.CMDQ_OP_CFGI_ALL, 0, 31, 0]);
    this.sync();
    this.command([R.CMDQ_OP_TLBI_NSNH_ALL, 0, 0, 0]);
    this.sync();
    this.write64(R.EVTQ_BASE, this.evtq + EVTQ_LOG2);
    s.write(R.EVTQ_PROD, 4, 0);
    s.write(R.EVTQ_CONS, 4, 0);
    s.write(R.CR0, 4, R.CR0_CMDQEN | R.CR0_EVTQEN);
    s.write(R.IRQ_CTRL, 4, R.IRQ_CTRL_EVTQ_IRQEN | R.IRQ_CTRL_GERROR_IRQEN);
    s.write(R.CR0, 4, R.CR0_CMDQEN | R.CR0_EVTQEN | R.CR0_SMMUEN);
  }

  /** The STE address of `streamId`, allocating its level-2 table (`arm_smmu_init_l2_strtab`). */
  steAddress(streamId: number): number {
    if (!this.twoLevel) return this.strtab + 64 * streamId;
    const l1 = Math.floor(streamId / 2 ** this.split);
    let l2 = this.l2Tables.get(l1);
    if (l2 === undefined) {
      l2 = this.allocator.alloc(64 * 2 ** this.split) as number;
      this.l2Tables.set(l1, l2);
      // L1 descriptor: SPAN = split + 1, L2Ptr.
      this.writeDword(this.strtab + 8 * l1, l2 + this.split + 1);
    }
    return l2 + 64 * (streamId % 2 ** this.split);
  }

  /**
   * A stage-1 CD and its STE (`arm_smmu_make_s1_cd`, `arm_smmu_make_cdtable_ste`);
   * `overrides.ips` replaces CD.IPS, for fault tests.
   */
  attachStage1(
    streamId: number,
    pgtable: ArmLpaeIoPgtable,
    asid: number,
    overrides: { readonly ips?: number } = {},
  ): void {
    rejectUnknownOptions(overrides, ['ips'], 'ArmSmmuV3Programmer.attachStage1');
    const c = pgtable.s1Cfg;
    if (c === undefined) throw new KernelError('EINVAL', 'stage-1 table without its config');
    // The master's CD table (one CD, SSID 0) is allocated once and rewritten on later attaches
    // (arm_smmu_alloc_cd_tables at first use); the CFGI_STE below drops any cached copy.
    const cd = this.cds.get(streamId) ?? this.allocator.alloc(64);
    this.cds.set(streamId, cd);
    const t = c.tcr;
    // T0SZ, TG0, IRGN0, ORGN0, SH0, EPD1, V | IPS, AA64, R, A, ASET, ASID.
    const lo =
      (t.tsz | (t.tg << 6) | (t.irgn << 8) | (t.orgn << 10) | (t.sh << 12) | (1 << 30) | (1 << 31)) >>> 0;
    const hi = ((overrides.ips ?? t.ips) | (1 << 9) | (1 << 13) | (1 << 14) | (1 << 15) | (asid << 16)) >>> 0;
    this.writeWords(cd, lo, hi);
    this.writeDword(cd + 8, c.ttbr);
    this.writeWords(cd + 24, c.mair[0], c.mair[1]);
    const ste = this.steAddress(streamId);
    // dw1: S1DSS, CIR/COR WBRA, CSH ISH, STRW NSEL1 — then V | Config S1 | S1ContextPtr.
    this.writeDword(ste + 8, (1 << 2) | (1 << 4) | (3 << 6));
    this.writeDword(ste, cd + (R.STE_CFG_S1_TRANS << 1) + 1);
    this.cfgiSte(streamId);
  }

  /** A stage-2 STE (`arm_smmu_make_s2_domain_ste`). */
  attachStage2(streamId: number, pgtable: ArmLpaeIoPgtable, vmid: number): void {
    const c = pgtable.s2Cfg;
    if (c === undefined) throw new KernelError('EINVAL', 'stage-2 table without its config');
    const v = c.vtcr;
    const ste = this.steAddress(streamId);
    const dw2hi =
      v.tsz |
      (v.sl << 6) |
      (v.irgn << 8) |
      (v.orgn << 10) |
      (v.sh << 12) |
      (v.tg << 14) |
      (v.ps << 16) |
      (1 << 19) |
      (1 << 26);
    this.writeWords(ste + 16, vmid, dw2hi >>> 0);
    this.writeDword(ste + 24, c.vttbr);
    this.writeDword(ste, (R.STE_CFG_S2_TRANS << 1) + 1);
    this.cfgiSte(streamId);
  }

  /** Writes an STE's doubleword 0 (V and Config) and invalidates it. */
  writeSteWord0(streamId: number, value: number): void {
    this.writeDword(this.steAddress(streamId), value);
    this.cfgiSte(streamId);
  }

  /** The CD address `attachStage1` wrote for `streamId`. */
  cdAddress(streamId: number): number {
    const cd = this.cds.get(streamId);
    if (cd === undefined) throw new KernelError('ENODEV', `stream 0x${streamId.toString(16)} has no CD`);
    return cd;
  }

  /** CMD_CFGI_CD (SSID 0, leaf) + CMD_SYNC, as `arm_smmu_sync_cd` issues after a CD write. */
  cfgiCd(streamId: number): void {
    this.command([R.CMDQ_OP_CFGI_CD, streamId, 1, 0]);
    this.sync();
  }

  cfgiSte(streamId: number): void {
    this.command([R.CMDQ_OP_CFGI_STE, streamId, 1, 0]);
    this.sync();
  }

  /** Queues one command (four 32-bit words) and publishes it through CMDQ_PROD. */
  command(words: readonly [number, number, number, number]): void {
    const mask = 2 ** (CMDQ_LOG2 + 1) - 1;
    const at = this.cmdq + 16 * (this.cmdProd & (2 ** CMDQ_LOG2 - 1));
    for (let i = 0; i < 4; i++) this.memory.writeU32((at + 4 * i) as PhysAddr, (words[i] ?? 0) >>> 0);
    this.cmdProd = (this.cmdProd + 1) & mask;
    this.smmu.write(R.CMDQ_PROD, 4, this.cmdProd);
  }

  /** CMD_SYNC with CS = SEV, then poll CMDQ_CONS as `arm_smmu_cmdq_poll_until_sync` does. */
  sync(): void {
    this.command([R.CMDQ_OP_CMD_SYNC | (R.CMDQ_SYNC_0_CS_SEV << 12), 0, 0, 0]);
    const cons = this.smmu.read(R.CMDQ_CONS, 4);
    if (cons !== this.cmdProd)
      throw new KernelError('ETIMEDOUT', `CMD_SYNC not consumed (CONS 0x${cons.toString(16)})`);
  }

  /** The stage-1 (by ASID) or stage-2 (by VMID) flush ops of an arm-smmu-v3 domain. */
  flushOps(stage: 1 | 2, tag: number, options: V3FlushOpsOptions = {}): DomainFlushOps {
    rejectUnknownOptions(options, ['omitLeafTlbi'], 'ArmSmmuV3Programmer.flushOps');
    let gather: { start: number; end: number; pgsize: number } | undefined;
    const invalidate = (iova: number, size: number, granule: number, leaf: boolean): void => {
      for (let at = iova; at < iova + size; at += granule) {
        const addr = at - (at % 0x1000);
        if (stage === 1)
          this.command([
            R.CMDQ_OP_TLBI_NH_VA,
            (tag << 16) >>> 0,
            (addr % 0x1_0000_0000) + (leaf ? 1 : 0),
            Math.floor(addr / 0x1_0000_0000),
          ]);
        else
          this.command([
            R.CMDQ_OP_TLBI_S2_IPA,
            tag,
            (addr % 0x1_0000_0000) + (leaf ? 1 : 0),
            Math.floor(addr / 0x1_0000_0000),
          ]);
      }
    };
    return {
      tlb_flush_all: () => {
        if (stage === 1) this.command([R.CMDQ_OP_TLBI_NH_ASID, (tag << 16) >>> 0, 0, 0]);
        else this.command([R.CMDQ_OP_TLBI_S12_VMALL, tag, 0, 0]);
        this.sync();
      },
      tlb_flush_walk: (iova, size, granule) => {
        invalidate(iova, size, granule, false);
        this.sync();
      },
      tlb_add_page: (iova, granule) => {
        // iommu_iotlb_gather_add_page: extend the gathered range.
        if (gather === undefined) gather = { start: iova, end: iova + granule, pgsize: granule };
        else {
          gather.start = Math.min(gather.start, iova);
          gather.end = Math.max(gather.end, iova + granule);
          gather.pgsize = Math.min(gather.pgsize, granule);
        }
      },
      iotlb_sync: () => {
        const g = gather;
        gather = undefined;
        if (g === undefined) return;
        if (options.omitLeafTlbi !== true) invalidate(g.start, g.end - g.start, g.pgsize, true);
        this.sync();
      },
    };
  }

  /** Reads and consumes every pending event record (`arm_smmu_evtq_thread`). */
  readEvents(): SmmuV3EventRecord[] {
    const s = this.smmu;
    const records: SmmuV3EventRecord[] = [];
    const mask = 2 ** (EVTQ_LOG2 + 1) - 1;
    let cons = s.read(R.EVTQ_CONS, 4) & mask;
    const prod = s.read(R.EVTQ_PROD, 4) & mask;
    while (cons !== prod) {
      const at = this.evtq + 32 * (cons & (2 ** EVTQ_LOG2 - 1));
      const d = [0, 1, 2, 3].map((i) => this.memory.readU64((at + 8 * i) as PhysAddr)) as [
        bigint,
        bigint,
        bigint,
        bigint,
      ];
      records.push({ id: Number(d[0] & 0xffn), streamId: Number(d[0] >> 32n), dwords: d });
      cons = (cons + 1) & mask;
    }
    s.write(R.EVTQ_CONS, 4, cons);
    return records;
  }

  private write64(offset: number, value: number): void {
    this.smmu.write(offset, 4, value % 0x1_0000_0000);
    this.smmu.write(offset + 4, 4, Math.floor(value / 0x1_0000_0000));
  }

  // A value below 2^53 (addresses with low flag bits) as one doubleword.
  private writeDword(address: number, value: number): void {
    this.writeWords(address, value % 0x1_0000_0000, Math.floor(value / 0x1_0000_0000));
  }

  private writeWords(address: number, lo: number, hi: number): void {
    this.memory.writeU32(address as PhysAddr, lo >>> 0);
    this.memory.writeU32((address + 4) as PhysAddr, hi >>> 0);
  }
}
