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
  // PL330 memory-to-memory copy: 16 KiB in 16-byte bursts, every access through the IOMMU domain.
  const bytes = 16 * 1024;
  const copy = medianMs(() => {
    const sandbox = dmaSandbox();
    const model = new Pl330Model({ dma: sandbox.port, instructionsPerMicrosecond: 64 });
    const program = assemblePl330([
      { op: 'MOV', reg: 'CCR', value: pl330Ccr({ burstBytes: 4, burstLength: 4, increment: true }) },
      { op: 'MOV', reg: 'SAR', value: SANDBOX_IOVA + 0x1000 },
      { op: 'MOV', reg: 'DAR', value: SANDBOX_IOVA + 0x10000 },
      { op: 'LP', counter: 1, iterations: 4 },
      { op: 'LP', counter: 0, iterations: 256 },
      { op: 'LD' },
      { op: 'ST' },
      { op: 'LPEND', counter: 0, backwardJump: 2 },
      { op: 'LPEND', counter: 1, backwardJump: 6 },
      { op: 'END' },
    ]);
    sandbox.writeIova(SANDBOX_IOVA, program);
    pl330DebugGo(model, 0, SANDBOX_IOVA);
    model.tick(100_000);
    if (model.dmaActive()) throw new RangeError('copy did not finish');
  });
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
        'PL330 copy through IOMMU domain (16 KiB, 16-byte bursts)',
        `${(bytes / copy / 1000).toFixed(1)} MB/s`,
      ],
      ['quiescence runs, Calxeda xgmac soft reset', `${((RUNS / xgmac) * 1000).toFixed(0)} runs/s`],
      ['quiescence runs, AMD xgbe kernel reset', `${((RUNS / xgbe) * 1000).toFixed(0)} runs/s`],
      ['quiescence runs, PL330 reset', `${((RUNS / pl330) * 1000).toFixed(0)} runs/s`],
    ],
  );
}
