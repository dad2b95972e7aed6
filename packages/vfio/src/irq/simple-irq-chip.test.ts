import { describe, expect, it } from 'vitest';
import { SimpleIrqChip } from './simple-irq-chip.js';

const OPTS = { name: 'test', noAutoEn: false };

// A device model drives its output line with setLevel whatever the controller's trigger
// configuration; on a line configured for edges the controller latches transitions (the GIC's
// edge detector on an SPI set to IRQ_TYPE_EDGE_RISING), so a rising output is one interrupt.
describe('SimpleIrqChip: a device-driven level on an edge-configured line', () => {
  it('a rising output is one delivery; holding it high or dropping it is none (edge-rising)', () => {
    const chip = new SimpleIrqChip({ 40: 'edge-rising' });
    let n = 0;
    chip.requestIrq(
      40,
      () => {
        n++;
        return 'handled';
      },
      OPTS,
    );
    chip.setLevel(40, true);
    chip.setLevel(40, true);
    chip.setLevel(40, false);
    expect(n).toBe(1);
    chip.setLevel(40, true);
    expect(n).toBe(2);
  });

  it('an edge while the line is disabled waits (IRQS_PENDING) and is replayed once at enable', () => {
    const chip = new SimpleIrqChip({ 40: 'edge-rising' });
    let n = 0;
    chip.requestIrq(
      40,
      () => {
        n++;
        return 'handled';
      },
      OPTS,
    );
    chip.disableIrq(40);
    chip.setLevel(40, true);
    expect(n).toBe(0);
    expect(chip.pendingEdge(40)).toBe(true);
    chip.enableIrq(40);
    expect(n).toBe(1);
  });

  it('edge-falling latches the falling transition, edge-both either', () => {
    const falling = new SimpleIrqChip({ 41: 'edge-falling' });
    const both = new SimpleIrqChip({ 42: 'edge-both' });
    let f = 0;
    let b = 0;
    falling.requestIrq(
      41,
      () => {
        f++;
        return 'handled';
      },
      OPTS,
    );
    both.requestIrq(
      42,
      () => {
        b++;
        return 'handled';
      },
      OPTS,
    );
    for (const level of [true, false, true, false]) {
      falling.setLevel(41, level);
      both.setLevel(42, level);
    }
    expect(f).toBe(2);
    expect(b).toBe(4);
  });

  it('a level-high line still fires on every assertion while enabled (unchanged)', () => {
    const chip = new SimpleIrqChip({ 43: 'level-high' });
    let n = 0;
    chip.requestIrq(
      43,
      () => {
        n++;
        return 'handled';
      },
      OPTS,
    );
    chip.setLevel(43, true);
    chip.setLevel(43, true);
    expect(n).toBe(2);
  });
});
