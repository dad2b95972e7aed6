// Register offsets and fields of the Arm SMMUv1/v2 architecture (IHI 0062) as
// drivers/iommu/arm/arm-smmu/arm-smmu.h names them.

export const GR0_sCR0 = 0x0;
export const sCR0_CLIENTPD: number = 1 << 0;
export const sCR0_GFRE: number = 1 << 1;
export const sCR0_GFIE: number = 1 << 2;
export const sCR0_USFCFG: number = 1 << 10;
export const GR0_sACR = 0x10;
export const GR0_ID0 = 0x20;
export const GR0_ID1 = 0x24;
export const GR0_ID2 = 0x28;
export const GR0_ID7 = 0x3c;
export const GR0_sGFAR = 0x40;
export const GR0_sGFSR = 0x48;
export const sGFSR_USF: number = 1 << 1;
export const sGFSR_SMCF: number = 1 << 2;
export const GR0_sGFSYNR0 = 0x50;
export const GR0_sGFSYNR1 = 0x54;
export const GR0_sGFSYNR2 = 0x58;
export const GR0_TLBIVMID = 0x64;
export const GR0_TLBIALLNSNH = 0x68;
export const GR0_TLBIALLH = 0x6c;
export const GR0_sTLBGSYNC = 0x70;
export const GR0_sTLBGSTATUS = 0x74;
export const GR0_SMR_BASE = 0x800;
export const GR0_S2CR_BASE = 0xc00;
export const SMR_VALID: number = 1 << 31;
export const S2CR_TYPE_TRANS = 0;
export const S2CR_TYPE_BYPASS = 1;
export const S2CR_TYPE_FAULT = 2;
/** ARM_SMMU_S2CR_SHCFG_NSH: S2CR.SHCFG [9:8] = non-shareable. */
export const S2CR_SHCFG_NSH = 3;

export const GR1_CBAR_BASE = 0x0;
export const GR1_CBFRSYNRA_BASE = 0x400;
export const GR1_CBA2R_BASE = 0x800;
export const CBAR_TYPE_S2_TRANS = 0;
export const CBAR_TYPE_S1_TRANS_S2_BYPASS = 1;

export const CB_SCTLR = 0x0;
export const SCTLR_M: number = 1 << 0;
export const SCTLR_CFIE: number = 1 << 6;
export const CB_ACTLR = 0x4;
export const CB_RESUME = 0x8;
export const CB_TCR2 = 0x10;
export const CB_TTBR0 = 0x20;
export const CB_TTBR1 = 0x28;
export const CB_TCR = 0x30;
export const CB_CONTEXTIDR = 0x34;
export const CB_S1_MAIR0 = 0x38;
export const CB_S1_MAIR1 = 0x3c;
export const CB_PAR = 0x50;
export const CB_FSR = 0x58;
export const FSR_MULTI: number = 1 << 31;
export const FSR_ASF: number = 1 << 7;
export const FSR_PF: number = 1 << 3;
export const FSR_AFF: number = 1 << 2;
export const FSR_TF: number = 1 << 1;
/** ARM_SMMU_FSR_FAULT: the bits that mean "a fault is recorded". */
export const FSR_FAULT: number =
  (FSR_MULTI |
    (1 << 30) |
    (1 << 8) |
    FSR_ASF |
    (1 << 6) |
    (1 << 5) |
    (1 << 4) |
    FSR_PF |
    FSR_AFF |
    FSR_TF) >>>
  0;
export const CB_FAR = 0x60;
export const CB_FSYNR0 = 0x68;
export const FSYNR0_WNR: number = 1 << 4;
export const FSYNR0_PNU: number = 1 << 5;
export const CB_FSYNR1 = 0x6c;
export const CB_S1_TLBIVA = 0x600;
export const CB_S1_TLBIVAA = 0x608;
export const CB_S1_TLBIASID = 0x610;
export const CB_S1_TLBIALL = 0x618;
export const CB_S1_TLBIVAL = 0x620;
export const CB_S1_TLBIVAAL = 0x628;
export const CB_S2_TLBIIPAS2 = 0x630;
export const CB_S2_TLBIIPAS2L = 0x638;
export const CB_TLBSYNC = 0x7f0;
export const CB_TLBSTATUS = 0x7f4;
