/**
 * Broadcom FlexRM ring manager (`brcm,iproc-flexrm-mbox`) register layout, named as
 * drivers/mailbox/bcm-flexrm-mailbox.c and drivers/vfio/platform/reset/vfio_platform_bcmflexrm.c
 * name it. Each ring has a 64 KiB register window (RING_REGS_SIZE).
 */

/** Bytes of register space per ring. */
export const RING_REGS_SIZE = 0x10000;
/** What `RING_VER` reads on a ring ("v001"); the vfio reset module only touches such rings. */
export const RING_VER_MAGIC = 0x76303031;

export const RING_VER = 0x000;
export const RING_BD_START_ADDR = 0x004;
export const RING_BD_READ_PTR = 0x008;
export const RING_BD_WRITE_PTR = 0x00c;
export const RING_BD_READ_PTR_DDR_LS = 0x010;
export const RING_BD_READ_PTR_DDR_MS = 0x014;
export const RING_CMPL_START_ADDR = 0x018;
export const RING_CMPL_WRITE_PTR = 0x01c;
export const RING_NUM_REQ_RECV_LS = 0x020;
export const RING_NUM_REQ_RECV_MS = 0x024;
export const RING_NUM_REQ_TRANS_LS = 0x028;
export const RING_NUM_REQ_TRANS_MS = 0x02c;
export const RING_NUM_REQ_OUTSTAND = 0x030;
export const RING_CONTROL = 0x034;
export const RING_FLUSH_DONE = 0x038;
export const RING_MSI_ADDR_LS = 0x03c;
export const RING_MSI_ADDR_MS = 0x040;
export const RING_MSI_CONTROL = 0x048;
export const RING_BD_READ_PTR_DDR_CONTROL = 0x04c;
export const RING_MSI_DATA_VALUE = 0x064;

/** RING_CONTROL: bit 5 flushes the ring, bit 4 activates it. */
export const CONTROL_FLUSH_SHIFT = 5;
export const CONTROL_ACTIVE_SHIFT = 4;
export const CONTROL_FLUSH: number = 1 << CONTROL_FLUSH_SHIFT;
export const CONTROL_ACTIVE: number = 1 << CONTROL_ACTIVE_SHIFT;
/** RING_FLUSH_DONE bit 0. */
export const FLUSH_DONE_MASK = 0x1;

/** RING_MSI_CONTROL: bit 15 enables the MSI, bits 9:0 the completion count threshold. */
export const MSI_ENABLE_SHIFT = 15;
export const MSI_COUNT_MASK = 0x3ff;

/** RING_BD_START_ADDR holds the BD ring's bus address >> 12 (bits 27:0). */
export const RING_BD_ALIGN_ORDER = 12;
/** RING_CMPL_START_ADDR holds the completion ring's bus address >> 13 (bits 26:0). */
export const RING_CMPL_ALIGN_ORDER = 13;
/** Descriptors are 64-bit, little-endian. */
export const RING_DESC_SIZE = 8;
/** Completion ring entries (RING_MAX_REQ_COUNT). */
export const RING_CMPL_DESC_COUNT = 1024;
/** BD ring entries (RING_MAX_REQ_COUNT × RING_BD_DESC_PER_REQ). */
export const RING_BD_DESC_COUNT: number = 1024 * 32;

/** Descriptor types (bits 63:60). */
export const NULL_TYPE = 0;
export const HEADER_TYPE = 1;
export const SRC_TYPE = 2;
export const DST_TYPE = 3;
export const NPTR_TYPE = 5;

/** Completion DME status bits (read and write response errors). */
export const DME_STATUS_RRESP_ERR: number = 1 << 4;
export const DME_STATUS_BRESP_ERR: number = 1 << 5;
