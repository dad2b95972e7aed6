/**
 * ARM GIC interrupt specifiers → INTID and trigger type, as the GIC irqchip drivers
 * translate them: drivers/irqchip/irq-gic.c (GICv2 family) and drivers/irqchip/irq-gic-v3.c,
 * gic_irq_domain_translate(); constants from include/dt-bindings/interrupt-controller/
 * arm-gic.h and irq.h, include/linux/irqchip/arm-gic-v3.h (ESPI_BASE_INTID, EPPI_BASE_INTID).
 */
import type { OfNode } from './of-tree.js';

/** include/linux/irqchip/arm-gic-v3.h: ESPI_BASE_INTID. */
export const ESPI_BASE_INTID = 4096;
/** include/linux/irqchip/arm-gic-v3.h: EPPI_BASE_INTID. */
export const EPPI_BASE_INTID = 1056;
/** include/linux/irq.h: IRQ_TYPE_SENSE_MASK. */
export const IRQ_TYPE_SENSE_MASK = 0x0000000f;

/** Compatibles of drivers/irqchip/irq-gic.c's IRQCHIP_DECLARE()s (GICv1/v2 family). */
export const GIC_V2_COMPATIBLES: readonly string[] = [
  'arm,arm11mp-gic',
  'arm,arm1176jzf-devchip-gic',
  'arm,cortex-a15-gic',
  'arm,cortex-a9-gic',
  'arm,cortex-a7-gic',
  'arm,gic-400',
  'arm,pl390',
  'qcom,msm-8660-qgic',
  'qcom,msm-qgic2',
];
/** Compatibles of drivers/irqchip/irq-gic-v3.c's IRQCHIP_DECLARE(). */
export const GIC_V3_COMPATIBLES: readonly string[] = ['arm,gic-v3'];

/** The GIC interrupt types of the first specifier cell. */
export type GicInterruptType = 'SPI' | 'PPI' | 'ESPI' | 'EPPI';

/** Linux trigger types (include/dt-bindings/interrupt-controller/irq.h IRQ_TYPE_*). */
export type IrqTrigger = 'none' | 'edge-rising' | 'edge-falling' | 'edge-both' | 'level-high' | 'level-low';

/** A decoded GIC specifier. */
export interface GicInterrupt {
  readonly type: GicInterruptType;
  /** The number within its type (second cell). */
  readonly number: number;
  /** The GIC interrupt ID: SPI n → n + 32, PPI n → n + 16, ESPI n → n + 4096, EPPI n → n + 1056. */
  readonly intid: number;
  /** `param[2] & IRQ_TYPE_SENSE_MASK`. */
  readonly flags: number;
  /** The trigger named by `flags`, or `undefined` for a combination Linux has no name for. */
  readonly trigger: IrqTrigger | undefined;
}

/** Which GIC driver owns a controller node, if any. */
export function gicVersion(controller: OfNode): 2 | 3 | undefined {
  if (GIC_V3_COMPATIBLES.some((c) => controller.isCompatible(c))) return 3;
  if (GIC_V2_COMPATIBLES.some((c) => controller.isCompatible(c))) return 2;
  return undefined;
}

const TRIGGERS: ReadonlyMap<number, IrqTrigger> = new Map([
  [0, 'none'],
  [1, 'edge-rising'],
  [2, 'edge-falling'],
  [3, 'edge-both'],
  [4, 'level-high'],
  [8, 'level-low'],
]);

/** The Linux name of an IRQ_TYPE_* sense value, or `undefined`. */
export function irqTrigger(flags: number): IrqTrigger | undefined {
  return TRIGGERS.get(flags & IRQ_TYPE_SENSE_MASK);
}

/**
 * gic_irq_domain_translate() for a device-tree specifier: at least 3 cells; cell 0 is the
 * type (0 SPI, 1 PPI; GICv3 adds 2 ESPI and 3 EPPI), cell 1 the number, cell 2 the flags.
 * `undefined` where the driver returns -EINVAL (fewer than 3 cells, or a type the GIC
 * version does not know). A 4th GICv3 cell (PPI partition phandle) does not change the INTID.
 */
export function decodeGicSpecifier(version: 2 | 3, args: readonly number[]): GicInterrupt | undefined {
  if (args.length < 3) return undefined;
  const kind = args[0]!;
  const number = args[1]!;
  const flags = args[2]! & IRQ_TYPE_SENSE_MASK;
  let type: GicInterruptType;
  let intid: number;
  if (kind === 0) {
    type = 'SPI';
    intid = number + 32;
  } else if (kind === 1) {
    type = 'PPI';
    intid = number + 16;
  } else if (version === 3 && kind === 2) {
    type = 'ESPI';
    intid = number + ESPI_BASE_INTID;
  } else if (version === 3 && kind === 3) {
    type = 'EPPI';
    intid = number + EPPI_BASE_INTID;
  } else {
    return undefined;
  }
  // hwirq is an unsigned long: the sum does not wrap on arm64; keep it exact.
  return { type, number, intid, flags, trigger: irqTrigger(flags) };
}
