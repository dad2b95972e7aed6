// Register map of the AMD 10GbE (xgbe, Seattle) as the vfio reset module and the native driver
// use it: drivers/vfio/platform/reset/vfio_platform_amdxgbe.c, drivers/net/ethernet/amd/xgbe/
// xgbe-common.h, include/uapi/linux/mdio.h.

// XGMAC block (regions[0]).
export const MAC_TCR: number = 0x0000;
export const MAC_RCR: number = 0x0004;
export const MAC_ISR: number = 0x00b0;
export const MAC_IER: number = 0x00b4;
export const MAC_VR: number = 0x0110;
export const DMA_MR: number = 0x3000;
export const DMA_SBMR: number = 0x3004;
export const DMA_ISR: number = 0x3008;
/** DMA channel 0 (`DMA_CH_BASE` 0x3100; channels follow every `DMA_CH_INC` 0x80). */
export const DMA_CH_BASE: number = 0x3100;
export const DMA_CH_CR: number = 0x00;
export const DMA_CH_TCR: number = 0x04;
export const DMA_CH_RCR: number = 0x08;
export const DMA_CH_TDLR_HI: number = 0x10;
export const DMA_CH_TDLR_LO: number = 0x14;
export const DMA_CH_RDLR_HI: number = 0x18;
export const DMA_CH_RDLR_LO: number = 0x1c;
export const DMA_CH_TDTR_LO: number = 0x24;
export const DMA_CH_RDTR_LO: number = 0x2c;
export const DMA_CH_IER: number = 0x38;
export const DMA_CH_SR: number = 0x60;

export const MAC_TCR_TE: number = 0x1;
export const MAC_RCR_RE: number = 0x1;
export const DMA_MR_SWR: number = 0x1;
export const DMA_CH_TCR_ST: number = 0x1;
export const DMA_CH_RCR_SR: number = 0x1;
export const DMA_CH_SR_TI: number = 1 << 0;
export const DMA_CH_SR_TBU: number = 1 << 2;
export const DMA_CH_SR_RI: number = 1 << 6;
export const DMA_CH_SR_RBU: number = 1 << 7;
export const DMA_CH_SR_FBE: number = 1 << 12;
/** The channel status bits the model sets (write one to clear). */
export const DMA_CH_SR_MASK: number =
  DMA_CH_SR_TI | DMA_CH_SR_TBU | DMA_CH_SR_RI | DMA_CH_SR_RBU | DMA_CH_SR_FBE;
export const XGBE_DESC_SIZE: number = 16;
export const XGBE_DESC3_OWN: number = 0x8000_0000;
export const XGBE_XGMAC_REGION_SIZE: number = 0x10000;

// XPCS block (regions[1]): indirect MMD access through a window.
/** `PCS_MMD_SELECT` (0xff); its register sits at `PCS_MMD_SELECT << 2` = 0x3fc. */
export const PCS_MMD_SELECT: number = 0xff;
export const XGBE_XPCS_REGION_SIZE: number = 0x400;
export const MDIO_MMD_PCS: number = 3;
export const MDIO_MMD_AN: number = 7;
export const MDIO_CTRL1: number = 0;
export const MDIO_CTRL2: number = 7;
export const MDIO_CTRL1_RESET: number = 0x8000;
/** `MDIO_CTRL1_SPEEDSELEXT` (0x2040): the PCS CTRL1 power-on value the model uses (10G). */
export const MDIO_PCS_CTRL1_POWER_ON: number = 0x2040;
export const MDIO_AN_CTRL1_ENABLE: number = 0x1000;
export const MDIO_AN_INTMASK: number = 0x8001;
export const MDIO_AN_INT: number = 0x8002;
/** AN interrupt bits the model raises (AMD's CL73 INC_LINK / INT / PG_RCV: bits 0–2). */
export const XGBE_AN_INT_MASK: number = 0x7;
