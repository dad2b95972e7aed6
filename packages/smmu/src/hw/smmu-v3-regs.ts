// Registers, structures, commands and events of the Arm SMMUv3 architecture (IHI 0070) as
// drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h names them.

export const IDR0 = 0x0;
export const IDR1 = 0x4;
export const IDR2 = 0x8;
export const IDR3 = 0xc;
export const IDR4 = 0x10;
export const IDR5 = 0x14;
export const IIDR = 0x18;
export const AIDR = 0x1c;
export const CR0 = 0x20;
export const CR0_SMMUEN: number = 1 << 0;
export const CR0_EVTQEN: number = 1 << 2;
export const CR0_CMDQEN: number = 1 << 3;
export const CR0ACK = 0x24;
export const CR1 = 0x28;
export const CR2 = 0x2c;
export const STATUSR = 0x40;
export const GBPA = 0x44;
export const GBPA_UPDATE: number = 1 << 31;
export const GBPA_ABORT: number = 1 << 20;
export const IRQ_CTRL = 0x50;
export const IRQ_CTRL_GERROR_IRQEN: number = 1 << 0;
export const IRQ_CTRL_EVTQ_IRQEN: number = 1 << 2;
export const IRQ_CTRLACK = 0x54;
export const GERROR = 0x60;
export const GERROR_CMDQ_ERR: number = 1 << 0;
export const GERROR_EVTQ_ABT_ERR: number = 1 << 2;
export const GERRORN = 0x64;
export const STRTAB_BASE = 0x80;
export const STRTAB_BASE_CFG = 0x88;
export const STRTAB_FMT_LINEAR = 0;
export const STRTAB_FMT_2LVL = 1;
export const CMDQ_BASE = 0x90;
export const CMDQ_PROD = 0x98;
export const CMDQ_CONS = 0x9c;
export const CMDQ_CONS_ERR_SHIFT = 24;
export const CMDQ_ERR_CERROR_ILL = 1;
export const CMDQ_ERR_CERROR_ABT = 2;
export const EVTQ_BASE = 0xa0;
/** EVTQ_PROD and EVTQ_CONS live in register page 1. */
export const EVTQ_PROD = 0x100a8;
export const EVTQ_CONS = 0x100ac;
export const Q_OVERFLOW_FLAG: number = 1 << 31;

// Stream table entry (STRTAB_STE_*), 8 doublewords.
export const STE_DWORDS = 8;
export const STE_CFG_ABORT = 0b000;
export const STE_CFG_BYPASS = 0b100;
export const STE_CFG_S1_TRANS = 0b101;
export const STE_CFG_S2_TRANS = 0b110;

// Context descriptor (CTXDESC_CD_*), 8 doublewords.
export const CD_DWORDS = 8;

// Commands (CMDQ_OP_*), 2 doublewords.
export const CMDQ_ENT_DWORDS = 2;
export const CMDQ_OP_PREFETCH_CFG = 0x1;
export const CMDQ_OP_CFGI_STE = 0x3;
export const CMDQ_OP_CFGI_ALL = 0x4;
export const CMDQ_OP_CFGI_CD = 0x5;
export const CMDQ_OP_CFGI_CD_ALL = 0x6;
export const CMDQ_OP_TLBI_NH_ALL = 0x10;
export const CMDQ_OP_TLBI_NH_ASID = 0x11;
export const CMDQ_OP_TLBI_NH_VA = 0x12;
export const CMDQ_OP_TLBI_EL2_ALL = 0x20;
export const CMDQ_OP_TLBI_S12_VMALL = 0x28;
export const CMDQ_OP_TLBI_S2_IPA = 0x2a;
export const CMDQ_OP_TLBI_NSNH_ALL = 0x30;
export const CMDQ_OP_CMD_SYNC = 0x46;
export const CMDQ_SYNC_0_CS_NONE = 0;
export const CMDQ_SYNC_0_CS_IRQ = 1;
export const CMDQ_SYNC_0_CS_SEV = 2;

// Event records (EVT_ID_*), 4 doublewords.
export const EVTQ_ENT_DWORDS = 4;
export const EVT_ID_BAD_STREAMID = 0x02;
export const EVT_ID_STE_FETCH = 0x03;
export const EVT_ID_BAD_STE = 0x04;
export const EVT_ID_CD_FETCH = 0x09;
export const EVT_ID_BAD_CD = 0x0a;
export const EVT_ID_TRANSLATION_FAULT = 0x10;
export const EVT_ID_ADDR_SIZE_FAULT = 0x11;
export const EVT_ID_ACCESS_FAULT = 0x12;
export const EVT_ID_PERMISSION_FAULT = 0x13;
/** EVTQ_1_* bits in the high word of doubleword 1. */
export const EVTQ_1_HI_PNU: number = 1 << (33 - 32);
export const EVTQ_1_HI_IND: number = 1 << (34 - 32);
export const EVTQ_1_HI_RNW: number = 1 << (35 - 32);
export const EVTQ_1_HI_S2: number = 1 << (39 - 32);
/** EVTQ_1_CLASS (bits 41:40): translation of the input address. */
export const EVTQ_1_HI_CLASS_IN: number = 2 << (40 - 32);
