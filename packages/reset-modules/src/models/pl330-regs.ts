// ARM PL330 DMA controller (DMA-330) register map and encodings, as drivers/dma/pl330.c names
// them; fault-type bits from the ARM CoreLink DMA-330 TRM (DDI 0424), FTRD/FTR0-7.

export const DS: number = 0x000;
export const DPC: number = 0x004;
export const INTEN: number = 0x020;
export const ES: number = 0x024;
export const INTSTATUS: number = 0x028;
export const INTCLR: number = 0x02c;
export const FSM: number = 0x030;
export const FSC: number = 0x034;
export const FTM: number = 0x038;
export const FTC = (n: number): number => 0x040 + n * 4;
export const CS = (n: number): number => 0x100 + n * 8;
export const CPC = (n: number): number => 0x104 + n * 8;
export const SA = (n: number): number => 0x400 + n * 0x20;
export const DA = (n: number): number => 0x404 + n * 0x20;
export const CC = (n: number): number => 0x408 + n * 0x20;
export const LC0 = (n: number): number => 0x40c + n * 0x20;
export const LC1 = (n: number): number => 0x410 + n * 0x20;
export const DBGSTATUS: number = 0xd00;
export const DBGCMD: number = 0xd04;
export const DBGINST0: number = 0xd08;
export const DBGINST1: number = 0xd0c;
export const CR0: number = 0xe00;
export const CR1: number = 0xe04;
export const CR2: number = 0xe08;
export const CR3: number = 0xe0c;
export const CR4: number = 0xe10;
export const CRD: number = 0xe14;
export const PERIPH_ID: number = 0xfe0;
export const PCELL_ID: number = 0xff0;
export const PL330_REGION_SIZE: number = 0x1000;

export const DBG_BUSY: number = 1 << 0;
export const CS_CNS: number = 1 << 21;
export const DS_DNS: number = 1 << 9;

/** Thread states (DS/CS bits [3:0]), pl330.c `DS_ST_*`. */
export const DS_ST_STOP: number = 0x0;
export const DS_ST_EXEC: number = 0x1;
export const DS_ST_WFP: number = 0x7;
export const DS_ST_KILL: number = 0x8;
export const DS_ST_FAULT: number = 0xf;

/** CCR fields (pl330.c `CC_*`). */
export const CC_SRCINC: number = 1 << 0;
export const CC_DSTINC: number = 1 << 14;
export const CC_SRCBRSTSIZE_SHFT: number = 1;
export const CC_SRCBRSTLEN_SHFT: number = 4;
export const CC_DSTBRSTSIZE_SHFT: number = 15;
export const CC_DSTBRSTLEN_SHFT: number = 18;

/** Channel fault type bits (FTRn). */
export const FT_UNDEF_INSTR: number = 1 << 0;
export const FT_OPERAND_INVALID: number = 1 << 1;
export const FT_CH_EVNT_ERR: number = 1 << 5;
export const FT_CH_PERIPH_ERR: number = 1 << 6;
export const FT_MFIFO_ERR: number = 1 << 12;
export const FT_ST_DATA_UNAVAILABLE: number = 1 << 13;
export const FT_INSTR_FETCH_ERR: number = 1 << 16;
export const FT_DATA_WRITE_ERR: number = 1 << 17;
export const FT_DATA_READ_ERR: number = 1 << 18;
export const FT_DBG_INSTR: number = 1 << 30;
/** Manager fault type bits (FTRD). */
export const FTM_UNDEF_INSTR: number = 1 << 0;
export const FTM_OPERAND_INVALID: number = 1 << 1;
export const FTM_DMAGO_ERR: number = 1 << 4;
export const FTM_DBG_INSTR: number = 1 << 30;

/** Opcodes (pl330.c `CMD_*`). */
export const CMD_DMAEND: number = 0x00;
export const CMD_DMAKILL: number = 0x01;
export const CMD_DMALD: number = 0x04;
export const CMD_DMAST: number = 0x08;
/** DMASTP (outside the model's subset): shares DMALPFE's bit pattern, so it must decode first. */
export const CMD_DMASTP: number = 0x29;
export const CMD_DMARMB: number = 0x12;
export const CMD_DMAWMB: number = 0x13;
export const CMD_DMANOP: number = 0x18;
export const CMD_DMALP: number = 0x20;
export const CMD_DMALPEND: number = 0x28;
export const CMD_DMAWFP: number = 0x30;
export const CMD_DMASEV: number = 0x34;
export const CMD_DMAFLUSHP: number = 0x35;
export const CMD_DMAGO: number = 0xa0;
export const CMD_DMAMOV: number = 0xbc;

/** The model's configuration: 8 channels, 32 events, 32 peripheral requests. */
export const PL330_CHANNELS: number = 8;
export const PL330_EVENTS: number = 32;
export const PL330_PERIPHERALS: number = 32;
/** CR0: PERIPH_REQ | (channels-1) << 4 | (periphs-1) << 12 | (events-1) << 17. */
export const PL330_CR0: number =
  (1 | ((PL330_CHANNELS - 1) << 4) | ((PL330_PERIPHERALS - 1) << 12) | ((PL330_EVENTS - 1) << 17)) >>> 0;
/** CRD: 64-bit bus (3), write/read issuing capability 8, queue depth 16, 32-line data buffer. */
export const PL330_CRD: number = (3 | (7 << 4) | (15 << 8) | (7 << 12) | (15 << 16) | (31 << 20)) >>> 0;
/** MFIFO size in bytes: 32 lines of 8 bytes. */
export const PL330_MFIFO_BYTES: number = 256;
/** PrimeCell peripheral ID bytes: part 0x330, designer 0x41 (ARM), revision 2 (r1p1). */
export const PL330_PERIPH_ID: readonly number[] = [0x30, 0x13, 0x24, 0x00];
/** PrimeCell component ID bytes: 0xB105F00D. */
export const PL330_PCELL_ID: readonly number[] = [0x0d, 0xf0, 0x05, 0xb1];
