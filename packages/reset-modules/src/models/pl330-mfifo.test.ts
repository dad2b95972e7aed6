import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dmaSandbox, SANDBOX_IOVA, SANDBOX_SIZE } from '../testing/dma-sandbox.js';
import { pl330DebugGo } from '../testing/scenarios/pl330.js';
import { Pl330Model } from './pl330.js';
import { Pl330Mfifo } from './pl330-mfifo.js';
import { assemblePl330, pl330Ccr } from './pl330-microcode.js';
import { CS, DA, FTC, SA } from './pl330-regs.js';

// A burst moves as one DmaPort access (pl330-mfifo.ts); this checks it against the beat-by-beat
// reference — beat i at start + i·size (or start), stopping at the first beat that leaves the
// mapped window — on bursts placed across the end of the sandbox's mapping.
const END = SANDBOX_IOVA + SANDBOX_SIZE;

const burst = fc.record({
  size: fc.constantFrom(1, 2, 4, 8, 16),
  beats: fc.integer({ min: 1, max: 16 }),
  increment: fc.boolean(),
  // Distance of the burst's start below the end of the mapping (0: starts unmapped).
  below: fc.integer({ min: 0, max: 300 }),
});

function reference(start: number, size: number, beats: number, increment: boolean): number {
  for (let beat = 0; beat < beats; beat++) {
    const at = increment ? start + beat * size : start;
    if (at + size > END) return beat;
  }
  return beats;
}

/** DMALD against the beat-by-beat reference. */
const loadMatchesReference = fc.property(burst, ({ size, beats, increment, below }) => {
  const sandbox = dmaSandbox();
  const model = new Pl330Model({ dma: sandbox.dma });
  const start = END - below;
  sandbox.writeIova(
    SANDBOX_IOVA,
    assemblePl330([
      { op: 'MOV', reg: 'CCR', value: pl330Ccr({ burstBytes: size, burstLength: beats, increment }) },
      { op: 'MOV', reg: 'SAR', value: start },
      { op: 'LD' },
      { op: 'END' },
    ]),
  );
  pl330DebugGo(model, 0, SANDBOX_IOVA);
  model.tick(10);
  const done = reference(start, size, beats, increment);
  expect(model.read(SA(0), 4)).toBe(increment ? start + done * size : start);
  expect(model.read(FTC(0), 4)).toBe(done === beats ? 0 : 1 << 18);
  expect(model.read(CS(0), 4) & 0xf).toBe(done === beats ? 0 : 0xf);
});

/** DMAST against the beat-by-beat reference. */
const storeMatchesReference = fc.property(burst, ({ size, beats, increment, below }) => {
  const sandbox = dmaSandbox();
  const model = new Pl330Model({ dma: sandbox.dma });
  const total = size * beats;
  const source = SANDBOX_IOVA + 0x1000;
  const data = Uint8Array.from({ length: total }, (_, i) => (i * 13 + 1) & 0xff);
  sandbox.writeIova(source, data);
  const start = END - below;
  sandbox.writeIova(END - 512, new Uint8Array(512));
  const ccr = (inc: boolean) => pl330Ccr({ burstBytes: size, burstLength: beats, increment: inc });
  sandbox.writeIova(
    SANDBOX_IOVA,
    assemblePl330([
      { op: 'MOV', reg: 'CCR', value: ccr(true) },
      { op: 'MOV', reg: 'SAR', value: source },
      { op: 'LD' },
      { op: 'MOV', reg: 'CCR', value: ccr(increment) },
      { op: 'MOV', reg: 'DAR', value: start },
      { op: 'ST' },
      { op: 'END' },
    ]),
  );
  pl330DebugGo(model, 0, SANDBOX_IOVA);
  model.tick(10);
  const done = reference(start, size, beats, increment);
  expect(model.read(DA(0), 4)).toBe(increment ? start + done * size : start);
  expect(model.read(FTC(0), 4)).toBe(done === beats ? 0 : 1 << 17);
  // Expected memory below END: beat i's bytes at its address, the faulting beat up to END.
  const expected = new Uint8Array(512);
  const put = (at: number, bytes: Uint8Array): void => {
    for (let i = 0; i < bytes.length && at + i < END; i++) {
      if (at + i >= END - 512) expected[at + i - (END - 512)] = bytes[i] ?? 0;
    }
  };
  for (let beat = 0; beat < Math.min(beats, done + 1); beat++) {
    put(increment ? start + beat * size : start, data.subarray(beat * size, (beat + 1) * size));
  }
  expect(sandbox.readIova(END - 512, 512)).toEqual(expected);
});

describe('PL330 bursts equal the beat-by-beat reference, faults included (property)', () => {
  it('DMALD: SA advances by the beats done, data_read_err exactly when a beat leaves the mapping', () => {
    fc.assert(loadMatchesReference, { numRuns: 300 });
  });

  it('DMAST: DA advances by the beats done, the memory holds exactly the beats (and partial beat) written', () => {
    fc.assert(storeMatchesReference, { numRuns: 300 });
  });

  it('each property fails on a planted burst bug: one beat short, or an address that never increments', () => {
    const planted = (
      method: 'load' | 'store',
      bug: (args: Parameters<Pl330Mfifo['load']>) => Parameters<Pl330Mfifo['load']>,
      property: fc.IProperty<never>,
    ): boolean => {
      const original = Pl330Mfifo.prototype[method];
      Pl330Mfifo.prototype[method] = function (this: Pl330Mfifo, ...args: Parameters<Pl330Mfifo['load']>) {
        return original.apply(this, bug(args));
      };
      try {
        return fc.check(property, { numRuns: 300 }).failed;
      } finally {
        Pl330Mfifo.prototype[method] = original;
      }
    };
    const oneShort = ([a, size, beats, inc]: Parameters<Pl330Mfifo['load']>): Parameters<
      Pl330Mfifo['load']
    > => [a, size, Math.max(1, beats - 1), inc];
    const fixed = ([a, size, beats]: Parameters<Pl330Mfifo['load']>): Parameters<Pl330Mfifo['load']> => [
      a,
      size,
      beats,
      false,
    ];
    expect(planted('load', oneShort, loadMatchesReference as never)).toBe(true);
    expect(planted('load', fixed, loadMatchesReference as never)).toBe(true);
    expect(planted('store', oneShort, storeMatchesReference as never)).toBe(true);
    expect(planted('store', fixed, storeMatchesReference as never)).toBe(true);
    expect(planted('load', (args) => args, loadMatchesReference as never)).toBe(false);
  });
});
