import { KernelError, type MmioDevice, rejectUnknownOptions } from '@vfiokit/core';
import * as R from '../hw/smmu-v2-regs.js';
import type { ArmLpaeIoPgtable } from '../pgtable/io-pgtable-arm.js';
import type { DomainFlushOps } from '../pgtable/lpae-domain.js';

/** One master's context as arm-smmu.c programs it. */
export interface SmmuV2Context {
  readonly contextBank: number;
  /** The stream map entry (SMR + S2CR index); −1 for a bank written without one. */
  readonly smrIndex: number;
  readonly streamId: number;
  /** SMR mask (default 0: exact match). */
  readonly smrMask?: number;
  readonly pgtable: ArmLpaeIoPgtable;
  /** Default `contextBank` (arm_smmu_init_domain_context: `cfg->asid = cfg->cbndx`). */
  readonly asid?: number;
  /** Default `contextBank + 1` (`cfg->vmid = cfg->cbndx + 1`). */
  readonly vmid?: number;
}

/** Options of {@link ArmSmmuV2Programmer.flushOps}. */
export interface FlushOpsOptions {
  /** The planted driver bug: leaf invalidations (TLBIVAL) are never issued. */
  readonly omitLeafTlbi?: boolean;
}

/**
 * The register sequences of drivers/iommu/arm/arm-smmu/arm-smmu.c that tests need to drive
 * an {@link ArmSmmuV2} through its registers only: `arm_smmu_device_reset`,
 * `arm_smmu_write_context_bank` + `arm_smmu_write_sme`, and the stage-1/stage-2 TLB ops
 * (`arm_smmu_tlb_inv_range_s1/s2`, `arm_smmu_tlb_sync_context`). It is a test helper, not
 * the arm-smmu driver (which forms groups and probes from the device tree).
 */
export class ArmSmmuV2Programmer {
  private readonly smmu: MmioDevice;
  private readonly numPage: number;
  private readonly v2: boolean;
  private readonly contexts = new Map<number, SmmuV2Context>();

  constructor(smmu: MmioDevice, options: { readonly v1?: boolean } = {}) {
    rejectUnknownOptions(options, ['v1'], 'ArmSmmuV2Programmer');
    this.smmu = smmu;
    const id1 = smmu.read(R.GR0_ID1, 4);
    this.numPage = 2 ** (((id1 >>> 28) & 7) + 1);
    this.v2 = !(options.v1 ?? false);
  }

  /** Byte offset of context bank `n`'s page. */
  contextBankBase(n: number): number {
    return (this.numPage + n) * 0x1000;
  }

  /** `arm_smmu_device_reset` with `disable_bypass`: unmatched streams fault. */
  reset(): void {
    const s = this.smmu;
    s.write(R.GR0_sGFSR, 4, s.read(R.GR0_sGFSR, 4));
    const id0 = s.read(R.GR0_ID0, 4);
    const id1 = s.read(R.GR0_ID1, 4);
    for (let i = 0; i < (id0 & 0xff); i++) {
      s.write(R.GR0_S2CR_BASE + 4 * i, 4, R.S2CR_TYPE_FAULT << 16);
      s.write(R.GR0_SMR_BASE + 4 * i, 4, 0);
    }
    for (let cb = 0; cb < (id1 & 0xff); cb++) {
      s.write(this.contextBankBase(cb) + R.CB_SCTLR, 4, 0);
      s.write(this.contextBankBase(cb) + R.CB_FSR, 4, R.FSR_FAULT);
    }
    s.write(R.GR0_TLBIALLH, 4, 0);
    s.write(R.GR0_TLBIALLNSNH, 4, 0);
    s.write(R.GR0_sCR0, 4, R.sCR0_GFRE | R.sCR0_GFIE | (1 << 4) | (1 << 5) | R.sCR0_USFCFG);
    s.write(R.GR0_sTLBGSYNC, 4, 0);
  }

  /** `arm_smmu_write_context_bank` then `arm_smmu_write_sme` (S2CR, then SMR). */
  attach(context: SmmuV2Context): void {
    rejectUnknownOptions(
      context,
      ['contextBank', 'smrIndex', 'streamId', 'smrMask', 'pgtable', 'asid', 'vmid'],
      'ArmSmmuV2Programmer.attach',
    );
    this.writeContextBank(context.contextBank, context.pgtable, {
      ...(context.asid === undefined ? {} : { asid: context.asid }),
      ...(context.vmid === undefined ? {} : { vmid: context.vmid }),
    });
    this.writeS2cr(context.smrIndex, R.S2CR_TYPE_TRANS, context.contextBank);
    this.writeSmr(context.smrIndex, context.streamId, context.smrMask ?? 0, true);
  }

  /**
   * `arm_smmu_init_context_bank` + `arm_smmu_write_context_bank`: CBA2R (v2), CBAR, TCR2,
   * TTBR0 (with the ASID), TCR, MAIR0/1, then SCTLR with M set. ASID defaults to the bank
   * index, VMID to bank + 1 (arm_smmu_init_domain_context).
   */
  writeContextBank(
    cb: number,
    pgtable: ArmLpaeIoPgtable,
    ids: { readonly asid?: number; readonly vmid?: number } = {},
  ): void {
    rejectUnknownOptions(ids, ['asid', 'vmid'], 'ArmSmmuV2Programmer.writeContextBank');
    const s = this.smmu;
    const base = this.contextBankBase(cb);
    const t = pgtable;
    const vmid = ids.vmid ?? cb + 1;
    const asid = ids.asid ?? cb;
    const stage1 = t.format === 'ARM_64_LPAE_S1';
    this.contexts.set(cb, { contextBank: cb, smrIndex: -1, streamId: -1, pgtable, vmid, asid });
    if (this.v2) s.write(R.GR1_CBA2R_BASE + 0x1000 + 4 * cb, 4, (1 | (vmid << 16)) >>> 0);
    const cbar = stage1
      ? (R.CBAR_TYPE_S1_TRANS_S2_BYPASS << 16) | (3 << 8) | (0xf << 12)
      : (R.CBAR_TYPE_S2_TRANS << 16) | (vmid & 0xff);
    s.write(0x1000 + 4 * cb, 4, cbar);
    if (stage1) {
      const c = t.s1Cfg;
      if (c === undefined) throw new KernelError('EINVAL', 'stage-1 table without its config');
      if (this.v2) s.write(base + R.CB_TCR2, 4, c.tcr.ips | (7 << 15));
      // TTBR0 with the ASID in [63:48]; high word first (io-64-nonatomic-hi-lo).
      s.write(base + R.CB_TTBR0 + 4, 4, (Math.floor(c.ttbr / 0x1_0000_0000) | (asid << 16)) >>> 0);
      s.write(base + R.CB_TTBR0, 4, c.ttbr % 0x1_0000_0000);
      const tcr =
        (c.tcr.tg << 14) | (c.tcr.sh << 12) | (c.tcr.orgn << 10) | (c.tcr.irgn << 8) | c.tcr.tsz | (1 << 23);
      s.write(base + R.CB_TCR, 4, tcr >>> 0);
      s.write(base + R.CB_S1_MAIR0, 4, c.mair[0]);
      s.write(base + R.CB_S1_MAIR1, 4, c.mair[1]);
    } else {
      const c = t.s2Cfg;
      if (c === undefined) throw new KernelError('EINVAL', 'stage-2 table without its config');
      s.write(base + R.CB_TTBR0 + 4, 4, Math.floor(c.vttbr / 0x1_0000_0000));
      s.write(base + R.CB_TTBR0, 4, c.vttbr % 0x1_0000_0000);
      const v = c.vtcr;
      const vtcr =
        (1 << 31) |
        (v.ps << 16) |
        (v.tg << 14) |
        (v.sh << 12) |
        (v.orgn << 10) |
        (v.irgn << 8) |
        (v.sl << 6) |
        v.tsz;
      s.write(base + R.CB_TCR, 4, vtcr >>> 0);
    }
    // SCTLR: CFIE | CFRE | AFE | TRE | M (and ASIDPNE at stage 1).
    s.write(
      base + R.CB_SCTLR,
      4,
      R.SCTLR_CFIE | (1 << 5) | (1 << 2) | (1 << 1) | R.SCTLR_M | (stage1 ? 1 << 12 : 0),
    );
  }

  /**
   * `arm_smmu_write_context_bank` for a bank without a domain (`cbs[idx].cfg == NULL`):
   * SCTLR 0, so the bank translates nothing (arm_smmu_destroy_domain_context).
   */
  disableContextBank(cb: number): void {
    this.smmu.write(this.contextBankBase(cb) + R.CB_SCTLR, 4, 0);
    this.contexts.delete(cb);
  }

  /** `arm_smmu_write_s2cr`: TYPE, CBNDX, PRIVCFG default (0), SHCFG NSH. */
  writeS2cr(index: number, type: number, cb: number): void {
    this.smmu.write(
      R.GR0_S2CR_BASE + 4 * index,
      4,
      ((type << 16) | (R.S2CR_SHCFG_NSH << 8) | (cb & 0xff)) >>> 0,
    );
  }

  /** `arm_smmu_write_smr`: ID, MASK and VALID. */
  writeSmr(index: number, id: number, mask: number, valid: boolean): void {
    this.smmu.write(
      R.GR0_SMR_BASE + 4 * index,
      4,
      ((valid ? R.SMR_VALID : 0) | ((mask & 0xffff) << 16) | (id & 0xffff)) >>> 0,
    );
  }

  /** Clears a context bank's FSR (what `arm_smmu_context_fault` does after reporting). */
  clearFault(contextBank: number): number {
    const base = this.contextBankBase(contextBank);
    const fsr = this.smmu.read(base + R.CB_FSR, 4);
    this.smmu.write(base + R.CB_FSR, 4, fsr);
    return fsr;
  }

  /** The `iommu_flush_ops` + `iotlb_sync` arm-smmu uses for the domain in `contextBank`. */
  flushOps(contextBank: number, options: FlushOpsOptions = {}): DomainFlushOps {
    rejectUnknownOptions(options, ['omitLeafTlbi'], 'ArmSmmuV2Programmer.flushOps');
    const s = this.smmu;
    const base = this.contextBankBase(contextBank);
    const context = (): SmmuV2Context => {
      const c = this.contexts.get(contextBank);
      if (c === undefined) throw new KernelError('ENODEV', `context bank ${contextBank} is not attached`);
      return c;
    };
    const stage1 = (): boolean => context().pgtable.format === 'ARM_64_LPAE_S1';
    // arm_smmu_tlb_inv_range_s1/s2: one 64-bit write per granule, VA >> 12 (| ASID << 48).
    const invRange = (iova: number, size: number, granule: number, leaf: boolean): void => {
      const c = context();
      for (let at = iova; at < iova + size; at += granule) {
        const page = Math.floor(at / 0x1000);
        const reg = stage1()
          ? leaf
            ? R.CB_S1_TLBIVAL
            : R.CB_S1_TLBIVA
          : leaf
            ? R.CB_S2_TLBIIPAS2L
            : R.CB_S2_TLBIIPAS2;
        const high = Math.floor(page / 0x1_0000_0000) | (stage1() ? (c.asid ?? 0) << 16 : 0);
        s.write(base + reg + 4, 4, high >>> 0);
        s.write(base + reg, 4, page % 0x1_0000_0000);
      }
    };
    const sync = (): void => {
      s.write(base + R.CB_TLBSYNC, 4, 0);
      if ((s.read(base + R.CB_TLBSTATUS, 4) & 1) !== 0)
        throw new KernelError('ETIMEDOUT', 'TLB sync timed out');
    };
    return {
      tlb_flush_all: () => {
        const c = context();
        if (stage1()) s.write(base + R.CB_S1_TLBIASID, 4, c.asid ?? 0);
        else s.write(R.GR0_TLBIVMID, 4, c.vmid ?? 0);
        sync();
      },
      tlb_flush_walk: (iova, size, granule) => {
        invRange(iova, size, granule, false);
        sync();
      },
      tlb_add_page: (iova, granule) => {
        if (options.omitLeafTlbi === true) return;
        invRange(iova, granule, granule, true);
      },
      iotlb_sync: sync,
    };
  }
}
