import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatLevelIrq, levelIrqResamplefdExample, RTC_DEVICE } from './level-irq-resamplefd.js';

describe('example: seed 003, a level IRQ through irqfd + resamplefd (virt/kvm/eventfd.c irqfd_resampler_ack)', () => {
  it('1,000 interrupts: each delivered once, none lost, none duplicated', async () => {
    const outcome = await levelIrqResamplefdExample();
    expect(outcome).toEqual({
      device: RTC_DEVICE,
      intid: 34,
      resamplefd: true,
      raised: 1000,
      delivered: 1000,
      lost: 0,
      duplicates: 0,
      irqfds: ['GSI 2 + resamplefd'],
    });
    expect(formatLevelIrq(outcome)).toContain('lost 0, duplicated 0');
  });

  it('the count has teeth: without the resamplefd (and no unmask) the automasked line stays masked after the first', async () => {
    const outcome = await levelIrqResamplefdExample({ interrupts: 50, resamplefd: false });
    expect(outcome).toMatchObject({ delivered: 1, lost: 49, duplicates: 0, irqfds: ['GSI 2'] });
  });

  it('any number of interrupts is delivered exactly once each (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 40 }), async (interrupts) => {
        const outcome = await levelIrqResamplefdExample({ interrupts });
        expect([outcome.delivered, outcome.lost, outcome.duplicates]).toEqual([interrupts, 0, 0]);
      }),
      { numRuns: 10 },
    );
  });

  it('rejects unknown options with EINVAL', async () => {
    await expect(levelIrqResamplefdExample({ resample: false } as never)).rejects.toMatchObject({
      code: 'EINVAL',
    });
  });
});
