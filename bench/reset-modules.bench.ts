import {
  assemblePl330,
  calxedaXgmacSoftReset,
  createAmdXgbeReset,
  Pl330Model,
  pl330Ccr,
  pl330Reset,
} from '@vfiokit/reset-modules';
import {
  amdXgbeScenario,
  calxedaXgmacScenario,
  dmaSandbox,
  PL330_SOFTWARE_RESET_EXEMPTIONS,
  pl330DebugGo,
  pl330Scenario,
  type QuiescenceSpec,
  type QuiescenceWorld,
  quiescenceProperty,
  SANDBOX_IOVA,
} from '@vfiokit/reset-modules/testing';
import fc from 'fast-check';
import { medianMs, printTable } from './measure.js';

const RUNS = 200;

export default function run(): void {
  // PL330 memory-to-memory copies, every fetch and data access through the IOMMU domain: 16 KiB
  // in 16-byte bursts (4 beats of 4 bytes, data-bound), and 4 KiB in single bytes (fetch-bound).
  const copyMs = (bytes: number, burstBytes: number, burstLength: number): number => {
    const bursts = bytes / (burstBytes * burstLength);
    const inner = Math.min(bursts, 256);
    const outer = bursts / inner;
    const program = assemblePl330([
      { op: 'MOV', reg: 'CCR', value: pl330Ccr({ burstBytes, burstLength, increment: true }) },
      { op: 'MOV', reg: 'SAR', value: SANDBOX_IOVA + 0x1000 },
      { op: 'MOV', reg: 'DAR', value: SANDBOX_IOVA + 0x10000 },
      { op: 'LP', counter: 1, iterations: outer },
      { op: 'LP', counter: 0, iterations: inner },
      { op: 'LD' },
      { op: 'ST' },
      { op: 'LPEND', counter: 0, backwardJump: 2 },
      { op: 'LPEND', counter: 1, backwardJump: 6 },
      { op: 'END' },
    ]);
    const sandbox = dmaSandbox();
    sandbox.writeIova(SANDBOX_IOVA, program);
    return medianMs(() => {
      const model = new Pl330Model({ dma: sandbox.port, instructionsPerMicrosecond: 64 });
      pl330DebugGo(model, 0, SANDBOX_IOVA);
      model.tick(1_000_000);
      if (model.dmaActive() || model.read(0x404, 4) !== SANDBOX_IOVA + 0x10000 + bytes) {
        throw new RangeError('copy did not finish');
      }
    }, 20);
  };
  const burstBytes = 16 * 1024;
  const burst = copyMs(burstBytes, 4, 4);
  const singleBytes = 4 * 1024;
  const single = copyMs(singleBytes, 1, 1);
  const property = <W extends QuiescenceWorld>(spec: QuiescenceSpec<W>): number =>
    medianMs(() => fc.assert(quiescenceProperty(spec), { numRuns: RUNS, seed: 42 }), 3);
  const xgmac = property(calxedaXgmacScenario({ reset: calxedaXgmacSoftReset }));
  const xgbe = property(
    amdXgbeScenario({
      reset: createAmdXgbeReset({ warn: () => {} }),
      exemptions: [{ register: /^XPCS/, reason: 'bench' }],
    }),
  );
  const pl330 = property(
    pl330Scenario({ reset: pl330Reset, exemptions: PL330_SOFTWARE_RESET_EXEMPTIONS }) as Parameters<
      typeof quiescenceProperty
    >[0],
  );
  printTable(
    ['operation', 'rate'],
    [
      [
        'PL330 copy through IOMMU domain (16 KiB, 4 × 4-byte bursts)',
        `${(burstBytes / burst / 1000).toFixed(1)} MB/s`,
      ],
      [
        'PL330 copy through IOMMU domain (4 KiB, 1-byte single beats)',
        `${(singleBytes / single / 1000).toFixed(2)} MB/s`,
      ],
      ['quiescence runs, Calxeda xgmac soft reset', `${((RUNS / xgmac) * 1000).toFixed(0)} runs/s`],
      ['quiescence runs, AMD xgbe kernel reset', `${((RUNS / xgbe) * 1000).toFixed(0)} runs/s`],
      ['quiescence runs, PL330 reset', `${((RUNS / pl330) * 1000).toFixed(0)} runs/s`],
    ],
  );
}
