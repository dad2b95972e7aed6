import type { DmaClassEntry } from './class-entry.js';

/**
 * Known bus-master classes: devices whose hardware fetches descriptors or data from memory
 * by itself. Any compatible of the node may match (a match only ever makes the verdict more
 * cautious). Sources name the specification or TRM and the Linux driver that sets up the
 * device's own DMA (descriptor rings, schedules, framebuffers, virtqueues).
 */
export const MASTER_CLASSES: readonly DmaClassEntry[] = [
  {
    id: 'arm,pl330',
    compatibles: ['arm,pl330'],
    label: 'PL330 DMA controller',
    reason: 'runs channel programs that read and write memory',
    source: 'ARM DDI0424 (PL330 TRM); drivers/dma/pl330.c',
  },
  {
    id: 'arm,pl080',
    compatibles: ['arm,pl080', 'arm,pl081'],
    label: 'PL080/PL081 DMA controller',
    reason: 'AHB master that moves data between memory and peripherals',
    source: 'ARM DDI0196 (PL080 TRM), DDI0218 (PL081 TRM); drivers/dma/amba-pl08x.c',
  },
  {
    id: 'snps,dma-spear1340',
    compatibles: ['snps,dma-spear1340', 'snps,axi-dma-1.01a'],
    label: 'DesignWare DMA controller',
    reason: 'AHB/AXI master that moves data for its clients',
    source: 'drivers/dma/dw/platform.c; drivers/dma/dw-axi-dmac/dw-axi-dmac-platform.c',
  },
  {
    id: 'calxeda,hb-xgmac',
    compatibles: ['calxeda,hb-xgmac'],
    label: 'Calxeda XGMAC',
    reason: 'Ethernet MAC with descriptor-ring DMA',
    source: 'drivers/net/ethernet/calxeda/xgmac.c (xgmac_dma_init)',
  },
  {
    id: 'amd,xgbe-seattle-v1a',
    compatibles: ['amd,xgbe-seattle-v1a'],
    label: 'AMD XGBE',
    reason: 'Ethernet MAC with descriptor-ring DMA',
    source: 'drivers/net/ethernet/amd/xgbe/xgbe-dev.c, xgbe-platform.c',
  },
  {
    id: 'snps,dwmac',
    compatibles: [
      'snps,dwmac',
      'snps,dwmac-*',
      '*-dwmac',
      '*-dwmac-*',
      'snps,dwxgmac*',
      'snps,dwc-qos-ethernet*',
    ],
    label: 'DesignWare Ethernet MAC',
    reason: 'Ethernet MAC with its own descriptor DMA engine',
    source: 'drivers/net/ethernet/stmicro/stmmac/stmmac_main.c (dwmac DMA)',
  },
  {
    id: 'cdns,macb',
    compatibles: ['cdns,macb', 'cdns,gem', 'cdns,*-gem', '*,*-gem'],
    label: 'Cadence MACB/GEM',
    reason: 'Ethernet MAC with descriptor-ring DMA',
    source: 'drivers/net/ethernet/cadence/macb_main.c',
  },
  {
    id: 'generic-ehci',
    compatibles: [
      'generic-ehci',
      '*-ehci',
      'generic-ohci',
      '*-ohci',
      'generic-xhci',
      '*-xhci',
      'xhci-platform',
    ],
    label: 'USB host controller',
    reason: 'EHCI/OHCI/xHCI fetch schedules and buffers from memory',
    source: 'EHCI 1.0, OHCI 1.0a, xHCI 1.2 specs; drivers/usb/host/{ehci,ohci}-platform.c, xhci-plat.c',
  },
  {
    id: 'snps,dwc3',
    compatibles: ['snps,dwc3', '*-dwc3', 'snps,dwc2', '*-dwc2', '*,*-hsotg'],
    label: 'DesignWare USB controller',
    reason: 'USB host/device controller with its own DMA',
    source: 'drivers/usb/dwc3/core.c, drivers/usb/dwc2/platform.c',
  },
  {
    id: 'generic-ahci',
    compatibles: ['generic-ahci', '*-ahci', 'calxeda,hb-ahci'],
    label: 'AHCI SATA controller',
    reason: 'HBA fetches command lists and PRDs from memory',
    source: 'AHCI 1.3.1 spec; drivers/ata/ahci_platform.c, drivers/ata/sata_highbank.c',
  },
  {
    id: 'sdhci',
    compatibles: ['*sdhci*', '*-usdhc', '*-esdhc'],
    label: 'SDHCI host',
    reason: 'SD host controller with SDMA/ADMA bus mastering',
    source: 'SD Host Controller Simplified Spec (SDMA, ADMA2); drivers/mmc/host/sdhci.c',
  },
  {
    id: 'snps,dw-mshc',
    compatibles: ['snps,dw-mshc', '*-dw-mshc'],
    label: 'DesignWare MMC host',
    reason: 'MMC host with an internal DMA controller (IDMAC)',
    source: 'drivers/mmc/host/dw_mmc.c (dw_mci_idmac_init)',
  },
  {
    id: 'pci-host-ecam-generic',
    compatibles: ['pci-host-ecam-generic', 'pci-host-cam-generic', '*-pcie', '*,pcie-*'],
    label: 'PCIe host bridge',
    reason: 'devices behind it master the bus through it',
    source: 'drivers/pci/controller/pci-host-generic.c',
  },
  {
    id: 'arm,mali',
    compatibles: [
      'arm,mali-t*',
      'arm,mali-g*',
      'arm,mali-bifrost',
      'arm,mali-midgard',
      'arm,mali-valhall*',
      'arm,mali-4*',
      'arm,mali-utgard',
    ],
    label: 'Mali GPU',
    reason: 'GPU with its own MMU, reads and writes memory',
    source: 'drivers/gpu/drm/panfrost/panfrost_drv.c, drivers/gpu/drm/lima/lima_drv.c',
  },
  {
    id: 'arm,hdlcd',
    compatibles: ['arm,hdlcd', 'arm,pl110', 'arm,pl111', 'arm,mali-dp*', 'arm,mali-d71'],
    label: 'display engine',
    reason: 'scans its framebuffer out of memory',
    source:
      'drivers/gpu/drm/arm/hdlcd_crtc.c, drivers/gpu/drm/pl111/pl111_drv.c, drivers/gpu/drm/arm/malidp_drv.c',
  },
  {
    id: 'arm,cryptocell',
    compatibles: ['arm,cryptocell-*', 'inside-secure,safexcel-*'],
    label: 'crypto engine',
    reason: 'reads and writes its operands in memory by DMA',
    source: 'drivers/crypto/ccree/cc_driver.c, drivers/crypto/inside-secure/safexcel.c',
  },
  {
    id: 'arm,coresight-tmc',
    compatibles: ['arm,coresight-tmc'],
    label: 'CoreSight TMC',
    reason: 'as ETR it writes trace data into system memory',
    source: 'ARM DDI0461 (TMC TRM); drivers/hwtracing/coresight/coresight-tmc-etr.c',
  },
  {
    id: 'virtio,mmio',
    compatibles: ['virtio,mmio'],
    label: 'virtio-mmio device',
    reason: 'reads and writes its virtqueues in memory',
    source: 'VIRTIO 1.2 §2.7 and §4.2; drivers/virtio/virtio_mmio.c',
  },
  {
    id: 'qemu,fw-cfg-mmio',
    compatibles: ['qemu,fw-cfg-mmio'],
    label: 'QEMU fw_cfg',
    reason: 'its DMA interface copies into guest memory',
    source: 'QEMU docs/specs/fw_cfg.rst (DMA interface); drivers/firmware/qemu_fw_cfg.c',
  },
];
