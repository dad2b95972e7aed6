/**
 * The kernel's fixed tables for population (drivers/of/platform.c, v6.x) and the default
 * early-initialised compatibles (of_irq_init(), of_clk_init()).
 */
import { IRQCHIP_OF_TABLE_V6_12 } from './irqchip-of-table.js';

/** drivers/of/platform.c: of_default_bus_match_table (with CONFIG_ARM_AMBA). */
export const OF_DEFAULT_BUS_MATCH_TABLE: readonly string[] = [
  'simple-bus',
  'simple-mfd',
  'isa',
  'arm,amba-bus',
];

/** drivers/of/platform.c: of_skipped_node_table. */
export const SKIPPED_NODE_TABLE: readonly string[] = ['operating-points-v2'];
/** drivers/of/platform.c: reserved_mem_matches (v6.x), created before anything else. */
export const RESERVED_MEM_MATCHES: readonly string[] = [
  'phram',
  'qcom,rmtfs-mem',
  'qcom,cmd-db',
  'qcom,smem',
  'ramoops',
  'nvmem-rmem',
  'google,open-dice',
];

/**
 * The default `earlyInit.irqchips`: every IRQCHIP_DECLARE() of drivers/irqchip (v6.12) whose
 * node keeps OF_POPULATED — the GICs, `apple,aic2`, `allwinner,sun6i-a31-r-intc`,
 * `fsl,ls1088a-extirq`, … (see irqchip-of-table.ts).
 */
export const DEFAULT_EARLY_IRQCHIPS: readonly string[] = IRQCHIP_OF_TABLE_V6_12;
/** The default `earlyInit.clocks`: drivers/clk/clk-fixed-rate.c and clk-fixed-factor.c CLK_OF_DECLARE()s. */
export const DEFAULT_EARLY_CLOCKS: readonly string[] = ['fixed-clock', 'fixed-factor-clock'];
