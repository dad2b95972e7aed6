// Register map of the Calxeda Highbank XGMAC, from drivers/net/ethernet/calxeda/xgmac.c (the
// native driver) and drivers/vfio/platform/reset/vfio_platform_calxedaxgmac.c (the reset module).

/** MAC Configuration (`XGMAC_CONTROL`). */
export const XGMAC_CONTROL: number = 0x000;
export const XGMAC_FRAME_FILTER: number = 0x004;
export const XGMAC_VERSION: number = 0x020;
/** `XGMAC_ADDR_HIGH(0)` / `XGMAC_ADDR_LOW(0)`: the station MAC address. */
export const XGMAC_ADDR_HIGH0: number = 0x040;
export const XGMAC_ADDR_LOW0: number = 0x044;
export const XGMAC_DMA_BUS_MODE: number = 0xf00;
export const XGMAC_DMA_TX_POLL: number = 0xf04;
export const XGMAC_DMA_RX_POLL: number = 0xf08;
export const XGMAC_DMA_RX_BASE_ADDR: number = 0xf0c;
export const XGMAC_DMA_TX_BASE_ADDR: number = 0xf10;
export const XGMAC_DMA_STATUS: number = 0xf14;
export const XGMAC_DMA_CONTROL: number = 0xf18;
export const XGMAC_DMA_INTR_ENA: number = 0xf1c;

export const XGMAC_CONTROL_TE: number = 0x8;
export const XGMAC_CONTROL_RE: number = 0x4;
export const DMA_BUS_MODE_SFT_RESET: number = 0x1;
export const DMA_CONTROL_ST: number = 0x2000;
export const DMA_CONTROL_SR: number = 0x2;

export const DMA_STATUS_NIS: number = 0x10000;
export const DMA_STATUS_AIS: number = 0x8000;
export const DMA_STATUS_FBI: number = 0x2000;
export const DMA_STATUS_RU: number = 0x80;
export const DMA_STATUS_RI: number = 0x40;
export const DMA_STATUS_TU: number = 0x4;
export const DMA_STATUS_TI: number = 0x1;
/** The write-one-to-clear interrupt bits of DMA_STATUS (bits 16:0). */
export const DMA_STATUS_INTR_MASK: number = 0x1ffff;
export const DMA_STATUS_TS_SHIFT: number = 20;
export const DMA_STATUS_RS_SHIFT: number = 17;

export const DESC_OWN: number = 0x8000_0000;
export const TXDESC_END_RING: number = 0x0020_0000;
export const TXDESC_INTERRUPT: number = 0x4000_0000;
export const RXDESC1_END_RING: number = 0x0000_8000;
export const RXDESC_FIRST_SEG: number = 0x200;
export const RXDESC_LAST_SEG: number = 0x100;
export const DESC_BUFFER1_SZ_MASK: number = 0x1fff;
/** `sizeof(struct xgmac_dma_desc)`: flags, buf_size, buf1_addr, buf2_addr, ext_status, res[3]. */
export const XGMAC_DESC_SIZE: number = 32;
/** The region size the model decodes (the device tree's `reg` is 0x1000). */
export const XGMAC_REGION_SIZE: number = 0x1000;
