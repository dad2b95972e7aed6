// Register offsets and encodings against drivers/iommu/arm/arm-smmu/arm-smmu.h and
// drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h (Linux 6.12), through the public namespaces.
import { describe, expect, it } from 'vitest';
import { smmuV2Regs as V2, smmuV3Regs as V3 } from './index.js';

describe('register layouts match the kernel headers', () => {
  it('arm-smmu.h', () => {
    expect([V2.GR0_sCR0, V2.GR0_ID0, V2.GR0_ID1, V2.GR0_ID2, V2.GR0_sGFSR, V2.GR0_sGFSYNR1]).toEqual([
      0x0, 0x20, 0x24, 0x28, 0x48, 0x54,
    ]);
    expect([
      V2.GR0_TLBIVMID,
      V2.GR0_TLBIALLNSNH,
      V2.GR0_TLBIALLH,
      V2.GR0_sTLBGSYNC,
      V2.GR0_sTLBGSTATUS,
    ]).toEqual([0x64, 0x68, 0x6c, 0x70, 0x74]);
    expect([V2.GR0_SMR_BASE, V2.GR0_S2CR_BASE, V2.GR1_CBFRSYNRA_BASE, V2.GR1_CBA2R_BASE]).toEqual([
      0x800, 0xc00, 0x400, 0x800,
    ]);
    expect([
      V2.CB_SCTLR,
      V2.CB_TCR2,
      V2.CB_TTBR0,
      V2.CB_TCR,
      V2.CB_S1_MAIR0,
      V2.CB_FSR,
      V2.CB_FAR,
      V2.CB_FSYNR0,
    ]).toEqual([0x0, 0x10, 0x20, 0x30, 0x38, 0x58, 0x60, 0x68]);
    expect([
      V2.CB_S1_TLBIVA,
      V2.CB_S1_TLBIASID,
      V2.CB_S1_TLBIVAL,
      V2.CB_S2_TLBIIPAS2L,
      V2.CB_TLBSYNC,
    ]).toEqual([0x600, 0x610, 0x620, 0x638, 0x7f0]);
    expect([V2.FSR_TF, V2.FSR_AFF, V2.FSR_PF, V2.FSR_ASF, V2.FSR_MULTI >>> 0]).toEqual([
      2, 4, 8, 0x80, 0x8000_0000,
    ]);
    expect([V2.SMR_VALID >>> 0, V2.FSYNR0_WNR, V2.SCTLR_CFIE, V2.sCR0_USFCFG]).toEqual([
      0x8000_0000, 0x10, 0x40, 0x400,
    ]);
  });

  it('arm-smmu-v3.h', () => {
    expect([V3.CR0, V3.CR0ACK, V3.GBPA, V3.IRQ_CTRL, V3.GERROR, V3.GERRORN]).toEqual([
      0x20, 0x24, 0x44, 0x50, 0x60, 0x64,
    ]);
    expect([
      V3.STRTAB_BASE,
      V3.STRTAB_BASE_CFG,
      V3.CMDQ_BASE,
      V3.CMDQ_PROD,
      V3.CMDQ_CONS,
      V3.EVTQ_BASE,
    ]).toEqual([0x80, 0x88, 0x90, 0x98, 0x9c, 0xa0]);
    // EVTQ_PROD/CONS are 0xa8/0xac in register page 1.
    expect([V3.EVTQ_PROD, V3.EVTQ_CONS]).toEqual([0x1_00a8, 0x1_00ac]);
    expect([
      V3.CMDQ_OP_CFGI_STE,
      V3.CMDQ_OP_CFGI_ALL,
      V3.CMDQ_OP_CFGI_CD,
      V3.CMDQ_OP_CFGI_CD_ALL,
      V3.CMDQ_OP_TLBI_NH_ASID,
      V3.CMDQ_OP_TLBI_NH_VA,
      V3.CMDQ_OP_TLBI_S12_VMALL,
      V3.CMDQ_OP_TLBI_S2_IPA,
      V3.CMDQ_OP_TLBI_NSNH_ALL,
      V3.CMDQ_OP_CMD_SYNC,
    ]).toEqual([0x3, 0x4, 0x5, 0x6, 0x11, 0x12, 0x28, 0x2a, 0x30, 0x46]);
    expect([
      V3.EVT_ID_BAD_STREAMID,
      V3.EVT_ID_BAD_STE,
      V3.EVT_ID_TRANSLATION_FAULT,
      V3.EVT_ID_ADDR_SIZE_FAULT,
      V3.EVT_ID_ACCESS_FAULT,
      V3.EVT_ID_PERMISSION_FAULT,
    ]).toEqual([0x02, 0x04, 0x10, 0x11, 0x12, 0x13]);
    expect([V3.STE_CFG_ABORT, V3.STE_CFG_BYPASS, V3.STE_CFG_S1_TRANS, V3.STE_CFG_S2_TRANS]).toEqual([
      0, 4, 5, 6,
    ]);
  });
});
