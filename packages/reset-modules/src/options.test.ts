// Every options object of the package refuses a key it does not know (a typo is an error, not a
// silent default), with a typed KernelError EINVAL.
import { isKernelError, KernelError } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { AmdXgbeModel } from './models/amd-xgbe.js';
import { FlexRmModel } from './models/bcm-flexrm.js';
import { CalxedaXgmacModel } from './models/calxeda-xgmac.js';
import { Pl330Model } from './models/pl330.js';
import { assemblePl330, encodePl330, pl330Ccr } from './models/pl330-microcode.js';
import { createAmdXgbeReset } from './modules/amd-xgbe-reset.js';
import { createBcmFlexrmReset } from './modules/bcm-flexrm-reset.js';
import { calxedaXgmacSoftReset } from './modules/calxeda-xgmac-reset.js';
import { pl330Reset } from './modules/pl330-reset.js';
import { ResetRegistry } from './registry/reset-registry.js';
import { dmaSandbox } from './testing/dma-sandbox.js';
import { modelTarget } from './testing/model-target.js';
import { assertQuiescence, checkQuiescence, quiescenceProperty } from './testing/quiescence.js';
import { amdXgbeScenario } from './testing/scenarios/amd-xgbe.js';
import { flexRmScenario } from './testing/scenarios/bcm-flexrm.js';
import { calxedaXgmacScenario } from './testing/scenarios/calxeda-xgmac.js';
import { pl330Scenario } from './testing/scenarios/pl330.js';

function einval(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    expect(isKernelError(error, 'EINVAL')).toBe(true);
    return (error as KernelError).message;
  }
  throw new KernelError('EINVAL', 'expected EINVAL, nothing was thrown');
}

describe('options objects refuse unknown keys (EINVAL)', () => {
  const dma = dmaSandbox().dma;
  const typos: [string, () => unknown][] = [
    ['Pl330Model', () => new Pl330Model({ dma, killMicrosecond: 3 } as never)],
    ['CalxedaXgmacModel', () => new CalxedaXgmacModel({ dma, softResetMicrosecond: 3 } as never)],
    ['AmdXgbeModel', () => new AmdXgbeModel({ dma, swResetMicrosecond: 3 } as never)],
    ['FlexRmModel', () => new FlexRmModel({ dma, rings: 3 } as never)],
    ['createAmdXgbeReset', () => createAmdXgbeReset({ ontimeout: 'fail' } as never)],
    ['createAmdXgbeReset', () => createAmdXgbeReset({ onTimeout: 'panic' } as never)],
    ['createBcmFlexrmReset', () => createBcmFlexrmReset({ warning: () => {} } as never)],
    ['ResetRegistry', () => new ResetRegistry({ loadr: () => {} } as never)],
    [
      'getReset device',
      () =>
        new ResetRegistry().getReset({ name: 'd', compatible: ['c'], reset: [] } as never, {
          resetRequired: false,
        }),
    ],
    ['pl330Scenario', () => pl330Scenario({ reset: pl330Reset, exemption: [] } as never)],
    [
      'calxedaXgmacScenario',
      () => calxedaXgmacScenario({ reset: calxedaXgmacSoftReset, clause: [] } as never),
    ],
    ['amdXgbeScenario', () => amdXgbeScenario({ reset: pl330Reset, modelOption: {} } as never)],
    // fast-check ignores unknown parameters: a misspelt numRuns would silently run 1,000 cases.
    [
      'assertQuiescence',
      () => assertQuiescence(pl330Scenario({ reset: pl330Reset }), { numRun: 1 } as never),
    ],
    ['pl330Ccr', () => pl330Ccr({ burstBytes: 4, burstLenght: 2, increment: true } as never)],
    // A misspelt `forever` would silently assemble a counted DMALPEND instead of DMALPFE.
    ['encodePl330', () => encodePl330({ op: 'LPEND', counter: 0, backwardJump: 2, forver: true } as never)],
    ['encodePl330', () => encodePl330({ op: 'NOP', event: 3 } as never)],
    ['encodePl330', () => encodePl330({ op: 'DMANOP' } as never)],
    [
      'encodePl330 through assemblePl330',
      () => assemblePl330([{ op: 'LD' }, { op: 'ST', burst: true } as never]),
    ],
    [
      'modelTarget',
      () => modelTarget(new Pl330Model({ dma }), { name: 'd', compatibles: ['arm,pl330'] } as never),
    ],
    [
      'FlexRmModel through flexRmScenario',
      () => flexRmScenario({ reset: pl330Reset, modelOptions: { flush: 1 } } as never).setup(),
    ],
  ];
  for (const [where, f] of typos) it(`${where}`, () => expect(einval(f)).toContain(where.split(' ')[0]));

  it("scenarios: 'model' (the world's model instance) is now 'modelOptions', and the error says so", () => {
    expect(einval(() => pl330Scenario({ reset: pl330Reset, model: {} } as never))).toContain(
      "'modelOptions'",
    );
    const spec = pl330Scenario({ reset: pl330Reset, modelOptions: { killMicroseconds: 7 } });
    expect(spec.setup().model.channels).toHaveLength(8);
  });

  it('QuiescenceSpec: an unknown key, an unknown clause, an exemption with an unknown key', () => {
    const spec = pl330Scenario({ reset: pl330Reset });
    expect(einval(() => quiescenceProperty({ ...spec, exemption: [] } as never))).toContain(
      "unknown option 'exemption'",
    );
    expect(einval(() => checkQuiescence({ ...spec, clauses: ['dmaa'] } as never, []))).toContain(
      "unknown clause 'dmaa'",
    );
    expect(
      einval(() => checkQuiescence({ ...spec, exemptions: [{ register: 'DS', reasons: 'x' }] } as never, [])),
    ).toContain('QuiescenceExemption');
  });
});
