import { isKernelError, type ResetHandler, type ResetTarget } from '@vfiokit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CalxedaXgmacModel } from '../models/calxeda-xgmac.js';
import { dmaSandbox } from '../testing/dma-sandbox.js';
import { modelTarget } from '../testing/model-target.js';
import { recordTarget } from '../testing/recording-mmio.js';
import { calxedaXgmacReset, calxedaXgmacSoftReset } from './calxeda-xgmac-reset.js';

const device = { name: 'fff50000.ethernet', compatible: ['calxeda,hb-xgmac'] };

describe('calxedaXgmacReset (drivers/vfio/platform/reset/vfio_platform_calxedaxgmac.c)', () => {
  it('issues exactly the kernel sequence: INTR_ENA ← 0, DMA_CONTROL &= ~(ST|SR), CONTROL &= ~(TE|RE)', () => {
    fc.assert(kernelSequence(calxedaXgmacReset), { numRuns: 200 });
  });

  it('the sequence property fails on planted bugs: order swapped, a bit left set, the soft-reset variant', () => {
    const fails = (reset: ResetHandler): boolean => fc.check(kernelSequence(reset), { numRuns: 100 }).failed;
    const regs = (target: ResetTarget) => target.regions[0]!;
    // MAC first, then the IRQ: the same writes in the wrong order.
    expect(
      fails((target) => {
        const r = regs(target);
        const dma = r.read(0xf18, 4);
        r.write(0xf18, 4, (dma & ~0x2002) >>> 0);
        r.write(0xf1c, 4, 0);
        const control = r.read(0x000, 4);
        r.write(0x000, 4, (control & ~0xc) >>> 0);
      }),
    ).toBe(true);
    // DMA_CONTROL_SR left set.
    expect(
      fails((target) => {
        const r = regs(target);
        r.write(0xf1c, 4, 0);
        r.write(0xf18, 4, (r.read(0xf18, 4) & ~0x2000) >>> 0);
        r.write(0x000, 4, (r.read(0x000, 4) & ~0xc) >>> 0);
      }),
    ).toBe(true);
    expect(fails(calxedaXgmacSoftReset)).toBe(true);
    expect(fails(calxedaXgmacReset)).toBe(false);
  });

  it('needs region 0 (the kernel ioremaps regions[0], -ENOMEM when it cannot)', () => {
    let error: unknown;
    try {
      calxedaXgmacReset({ ...device, regions: [], delay: () => {} });
    } catch (e) {
      error = e;
    }
    expect(isKernelError(error, 'ENOMEM')).toBe(true);
    expect((error as Error).message).toBe('ENOMEM: fff50000.ethernet: region 0 cannot be mapped');
  });
});

describe('calxedaXgmacSoftReset (kernel sequence + xgmac.c xgmac_hw_init soft reset)', () => {
  it('runs the kernel sequence first, then DMA_BUS_MODE ← SFT_RESET and polls until it clears', () => {
    const model = new CalxedaXgmacModel({ dma: dmaSandbox().dma, softResetMicroseconds: 3 });
    const { target, log } = recordTarget(modelTarget(model, device));
    calxedaXgmacSoftReset(target);
    const ops = log.map((e) => (e.op === 'delay' ? 'delay' : `${e.op} 0x${e.offset.toString(16)}`));
    expect(ops).toEqual([
      'write 0xf1c',
      'read 0xf18',
      'write 0xf18',
      'read 0x0',
      'write 0x0',
      'write 0xf00',
      'read 0xf00',
      'delay',
      'read 0xf00',
      'delay',
      'read 0xf00',
      'delay',
      'read 0xf00',
      'write 0xf14',
    ]);
  });

  it('fails with EBUSY when the soft reset never completes (xgmac_hw_init returns -EBUSY after 15000 polls)', () => {
    const model = new CalxedaXgmacModel({
      dma: dmaSandbox().dma,
      softResetMicroseconds: Number.POSITIVE_INFINITY,
    });
    const target = modelTarget(model, device);
    let error: unknown;
    try {
      calxedaXgmacSoftReset(target);
    } catch (e) {
      error = e;
    }
    expect(isKernelError(error, 'EBUSY')).toBe(true);
    expect((error as Error).message).toBe(
      'EBUSY: fff50000.ethernet: DMA_BUS_MODE soft reset did not complete',
    );
    expect(target.elapsedMicroseconds).toBe(15000);
    expect(model.dmaActive()).toBe(false);
  });
});

/** The kernel module's register accesses, exactly, from any register contents. */
const kernelSequence = (reset: ResetHandler) =>
  fc.property(
    fc.nat({ max: 0xffff_ffff }),
    fc.nat({ max: 0xffff_ffff }),
    fc.nat({ max: 0xffff_ffff }),
    (control, dma, ena) => {
      const model = new CalxedaXgmacModel({ dma: dmaSandbox().dma });
      model.write(0x000, 4, control);
      model.write(0xf18, 4, dma);
      model.write(0xf1c, 4, ena);
      const { target, log } = recordTarget(modelTarget(model, device));
      reset(target);
      // vfio_platform_calxedaxgmac_reset: writel(0, XGMAC_DMA_INTR_ENA); xgmac_mac_disable().
      expect(log).toEqual([
        { region: 0, op: 'write', offset: 0xf1c, size: 4, value: 0 },
        { region: 0, op: 'read', offset: 0xf18, size: 4, value: dma },
        { region: 0, op: 'write', offset: 0xf18, size: 4, value: (dma & ~0x2002) >>> 0 },
        { region: 0, op: 'read', offset: 0x000, size: 4, value: control },
        { region: 0, op: 'write', offset: 0x000, size: 4, value: (control & ~0xc) >>> 0 },
      ]);
    },
  );
