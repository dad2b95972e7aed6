import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeGicSpecifier, EPPI_BASE_INTID, ESPI_BASE_INTID, gicVersion, irqTrigger } from './of-gic.js';
import { dtTree } from './of-literal.js';
import { OfTree } from './of-tree.js';

describe('GIC specifiers (drivers/irqchip/irq-gic.c, irq-gic-v3.c: gic_irq_domain_translate)', () => {
  it('SPI n -> n + 32 and PPI n -> n + 16 on both GIC versions', () => {
    expect(decodeGicSpecifier(2, [0, 5, 4])).toEqual({
      type: 'SPI',
      number: 5,
      intid: 37,
      flags: 4,
      trigger: 'level-high',
    });
    expect(decodeGicSpecifier(3, [1, 14, 0xf08])).toEqual({
      type: 'PPI',
      number: 14,
      intid: 30,
      flags: 8,
      trigger: 'level-low',
    });
  });

  it('GICv3 only: ESPI n -> n + 4096, EPPI n -> n + 1056', () => {
    expect(decodeGicSpecifier(3, [2, 3, 1])?.intid).toBe(ESPI_BASE_INTID + 3);
    expect(decodeGicSpecifier(3, [3, 7, 1])?.intid).toBe(EPPI_BASE_INTID + 7);
    expect(decodeGicSpecifier(2, [2, 3, 1])).toBeUndefined();
    expect(decodeGicSpecifier(2, [3, 7, 1])).toBeUndefined();
  });

  it('needs three cells; a 4th (GICv3 PPI partition) does not change the INTID', () => {
    expect(decodeGicSpecifier(3, [0, 1])).toBeUndefined();
    expect(decodeGicSpecifier(3, [1, 7, 4, 0x42])?.intid).toBe(23);
    expect(decodeGicSpecifier(3, [9, 1, 4])).toBeUndefined();
  });

  it('trigger is flags & IRQ_TYPE_SENSE_MASK with the Linux names', () => {
    expect([0, 1, 2, 3, 4, 8].map(irqTrigger)).toEqual([
      'none',
      'edge-rising',
      'edge-falling',
      'edge-both',
      'level-high',
      'level-low',
    ]);
    expect(irqTrigger(5)).toBeUndefined();
    expect(irqTrigger(0x104)).toBe('level-high');
  });

  it('SPI and PPI INTIDs are offsets of the number for any number', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(2 as const, 3 as const),
        fc.integer({ min: 0, max: 1019 }),
        fc.nat(0xffff),
        (v, n, flags) => {
          expect(decodeGicSpecifier(v, [0, n, flags])?.intid).toBe(n + 32);
          expect(decodeGicSpecifier(v, [1, n, flags])?.intid).toBe(n + 16);
        },
      ),
    );
  });

  it('recognises GIC nodes by the drivers IRQCHIP_DECLARE compatibles', () => {
    const t = OfTree.of(
      dtTree({
        children: {
          a: { props: { compatible: ['arm,cortex-a15-gic', 'arm,cortex-a9-gic'] } },
          b: { props: { compatible: ['qcom,msm8996-gic-v3', 'arm,gic-v3'] } },
          c: { props: { compatible: ['arm,gic-v3-its'] } },
        },
      }),
    );
    expect(['/a', '/b', '/c'].map((p) => gicVersion(t.require(p)))).toEqual([2, 3, undefined]);
  });
});
