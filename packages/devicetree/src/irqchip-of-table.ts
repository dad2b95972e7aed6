/**
 * The compatibles of every `IRQCHIP_DECLARE()` in drivers/irqchip of Linux v6.12
 * (`__irqchip_of_table`, which irqchip_init() hands to of_irq_init()): 156 entries, by
 * driver file. of_irq_init() sets OF_POPULATED on each controller it initialises, so
 * of_platform_populate() creates no device for it.
 *
 * Left out: the declarations whose init clears OF_POPULATED again so that a platform driver
 * still probes the node — irq-imx-gpcv2.c (`fsl,imx7d-gpc`, `fsl,imx8mq-gpc`: "so that later
 * the GPC power domain driver will not be skipped") and irq-riscv-imsic-early.c
 * (`riscv,imsics`).
 *
 * Generated from linux-source-6.12 (Debian 6.12.118) by matching
 * `IRQCHIP_DECLARE(name, "compatible", init)` in drivers/irqchip/*.c (nothing else in
 * drivers/ or arch/arm64 declares one). Which of them a kernel has depends on its config;
 * `populate()`'s `earlyInit.irqchips` takes the list of a specific build.
 */
export const IRQCHIP_OF_TABLE_V6_12: readonly string[] = Object.freeze([
  // exynos-combiner.c
  'samsung,exynos4210-combiner',
  // irq-al-fic.c
  'amazon,al-fic',
  // irq-alpine-msi.c
  'al,alpine-msix',
  // irq-apple-aic.c
  'apple,aic',
  'apple,aic2',
  // irq-armada-370-xp.c
  'marvell,mpic',
  // irq-aspeed-i2c-ic.c
  'aspeed,ast2400-i2c-ic',
  'aspeed,ast2500-i2c-ic',
  // irq-aspeed-scu-ic.c
  'aspeed,ast2400-scu-ic',
  'aspeed,ast2500-scu-ic',
  'aspeed,ast2600-scu-ic0',
  'aspeed,ast2600-scu-ic1',
  // irq-aspeed-vic.c
  'aspeed,ast2400-vic',
  'aspeed,ast2500-vic',
  // irq-ath79-cpu.c
  'qca,ar7100-cpu-intc',
  // irq-ath79-misc.c
  'qca,ar7100-misc-intc',
  'qca,ar7240-misc-intc',
  // irq-atmel-aic.c
  'atmel,at91rm9200-aic',
  // irq-atmel-aic5.c
  'atmel,sama5d2-aic',
  'atmel,sama5d3-aic',
  'atmel,sama5d4-aic',
  'microchip,sam9x60-aic',
  // irq-bcm2835.c
  'brcm,bcm2835-armctrl-ic',
  'brcm,bcm2836-armctrl-ic',
  // irq-bcm2836.c
  'brcm,bcm2836-l1-intc',
  // irq-bcm6345-l1.c
  'brcm,bcm6345-l1-intc',
  // irq-clps711x.c
  'cirrus,ep7209-intc',
  // irq-crossbar.c
  'ti,irq-crossbar',
  // irq-csky-apb-intc.c
  'csky,apb-intc',
  'csky,dual-apb-intc',
  'csky,gx6605s-intc',
  // irq-csky-mpintc.c
  'csky,mpintc',
  // irq-davinci-cp-intc.c
  'ti,cp-intc',
  // irq-digicolor.c
  'cnxt,cx92755-ic',
  // irq-dw-apb-ictl.c
  'snps,dw-apb-ictl',
  // irq-ftintc010.c
  'cortina,gemini-interrupt-controller',
  'faraday,ftintc010',
  'moxa,moxart-ic',
  // irq-gic-realview.c
  'arm,eb11mp-gic',
  'arm,tc11mp-gic',
  // irq-gic-v3.c
  'arm,gic-v3',
  // irq-gic.c
  'arm,arm1176jzf-devchip-gic',
  'arm,arm11mp-gic',
  'arm,cortex-a15-gic',
  'arm,cortex-a7-gic',
  'arm,cortex-a9-gic',
  'arm,gic-400',
  'arm,pl390',
  'qcom,msm-8660-qgic',
  'qcom,msm-qgic2',
  // irq-goldfish-pic.c
  'google,goldfish-pic',
  // irq-hip04.c
  'hisilicon,hip04-intc',
  // irq-i8259.c
  'intel,i8259',
  // irq-idt3243x.c
  'idt,32434-pic',
  // irq-ingenic-tcu.c
  'ingenic,jz4725b-tcu',
  'ingenic,jz4740-tcu',
  'ingenic,jz4760-tcu',
  'ingenic,jz4770-tcu',
  'ingenic,x1000-tcu',
  // irq-ingenic.c
  'ingenic,jz4725b-intc',
  'ingenic,jz4740-intc',
  'ingenic,jz4760-intc',
  'ingenic,jz4770-intc',
  'ingenic,jz4775-intc',
  'ingenic,jz4780-intc',
  // irq-ixp4xx.c
  'intel,ixp42x-interrupt',
  'intel,ixp43x-interrupt',
  'intel,ixp45x-interrupt',
  'intel,ixp46x-interrupt',
  // irq-jcore-aic.c
  'jcore,aic1',
  'jcore,aic2',
  // irq-loongarch-cpu.c
  'loongson,cpu-interrupt-controller',
  // irq-loongson-eiointc.c
  'loongson,ls2k0500-eiointc',
  'loongson,ls2k2000-eiointc',
  // irq-loongson-htpic.c
  'loongson,htpic-1.0',
  // irq-loongson-htvec.c
  'loongson,htvec-1.0',
  // irq-loongson-liointc.c
  'loongson,liointc-1.0',
  'loongson,liointc-1.0a',
  'loongson,liointc-2.0',
  // irq-loongson-pch-msi.c
  'loongson,pch-msi-1.0',
  // irq-loongson-pch-pic.c
  'loongson,pch-pic-1.0',
  // irq-lpc32xx.c
  'nxp,lpc3220-mic',
  'nxp,lpc3220-sic',
  // irq-ls-extirq.c
  'fsl,ls1021a-extirq',
  'fsl,ls1043a-extirq',
  'fsl,ls1088a-extirq',
  // irq-ls1x.c
  'loongson,ls1x-intc',
  // irq-mips-cpu.c
  'mti,cpu-interrupt-controller',
  // irq-mips-gic.c
  'mti,gic',
  // irq-mmp.c
  'marvell,mmp3-intc',
  'mrvl,mmp-intc',
  'mrvl,mmp2-intc',
  'mrvl,mmp2-mux-intc',
  // irq-mscc-ocelot.c
  'mscc,jaguar2-icpu-intr',
  'mscc,luton-icpu-intr',
  'mscc,ocelot-icpu-intr',
  'mscc,serval-icpu-intr',
  // irq-mst-intc.c
  'mstar,mst-intc',
  // irq-mtk-cirq.c
  'mediatek,mtk-cirq',
  // irq-mtk-sysirq.c
  'mediatek,mt6577-sysirq',
  // irq-mvebu-odmi.c
  'marvell,odmi-controller',
  // irq-mxs.c
  'alphascale,asm9260-icoll',
  'fsl,icoll',
  // irq-nvic.c
  'arm,armv7m-nvic',
  // irq-omap-intc.c
  'ti,am33xx-intc',
  'ti,dm814-intc',
  'ti,dm816-intc',
  'ti,omap2-intc',
  'ti,omap3-intc',
  // irq-ompic.c
  'openrisc,ompic',
  // irq-or1k-pic.c
  'opencores,or1200-pic',
  'opencores,or1k-pic',
  'opencores,or1k-pic-edge',
  'opencores,or1k-pic-level',
  // irq-orion.c
  'marvell,orion-bridge-intc',
  'marvell,orion-intc',
  // irq-owl-sirq.c
  'actions,s500-sirq',
  'actions,s700-sirq',
  'actions,s900-sirq',
  // irq-pic32-evic.c
  'microchip,pic32mzda-evic',
  // irq-rda-intc.c
  'rda,8810pl-intc',
  // irq-realtek-rtl.c
  'realtek,rtl-intc',
  // irq-riscv-intc.c
  'andestech,cpu-intc',
  'riscv,cpu-intc',
  // irq-sifive-plic.c
  'allwinner,sun20i-d1-plic',
  // irq-sni-exiu.c
  'socionext,synquacer-exiu',
  // irq-sp7021-intc.c
  'sunplus,sp7021-intc',
  // irq-stm32-exti.c
  'st,stm32-exti',
  'st,stm32h7-exti',
  // irq-sun4i.c
  'allwinner,sun4i-a10-ic',
  'allwinner,suniv-f1c100s-ic',
  // irq-sun6i-r.c
  'allwinner,sun50i-h6-r-intc',
  'allwinner,sun6i-a31-r-intc',
  // irq-sunxi-nmi.c
  'allwinner,sun6i-a31-sc-nmi',
  'allwinner,sun7i-a20-sc-nmi',
  'allwinner,sun9i-a80-nmi',
  // irq-tb10x.c
  'abilis,tb10x-ictl',
  // irq-tegra.c
  'nvidia,tegra20-ictlr',
  'nvidia,tegra210-ictlr',
  'nvidia,tegra30-ictlr',
  // irq-versatile-fpga.c
  'arm,versatile-fpga-irq',
  'arm,versatile-sic',
  // irq-vf610-mscm-ir.c
  'fsl,vf610-mscm-ir',
  // irq-vic.c
  'arm,pl190-vic',
  'arm,pl192-vic',
  'arm,versatile-vic',
  // irq-vt8500.c
  'via,vt8500-intc',
  // irq-wpcm450-aic.c
  'nuvoton,wpcm450-aic',
  // irq-xilinx-intc.c
  'xlnx,opb-intc-1.00.c',
  'xlnx,xps-intc-1.00.a',
  // irq-xtensa-mx.c
  'cdns,xtensa-mx',
  // irq-xtensa-pic.c
  'cdns,xtensa-pic',
  // irq-zevio.c
  'lsi,zevio-intc',
  // spear-shirq.c
  'st,spear300-shirq',
  'st,spear310-shirq',
  'st,spear320-shirq',
]);
