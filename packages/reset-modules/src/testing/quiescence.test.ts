import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { DeviceModel } from '../models/device-model.js';
import { createAmdXgbeReset } from '../modules/amd-xgbe-reset.js';
import { createBcmFlexrmReset } from '../modules/bcm-flexrm-reset.js';
import { calxedaXgmacReset, calxedaXgmacSoftReset } from '../modules/calxeda-xgmac-reset.js';
import { pl330Reset } from '../modules/pl330-reset.js';
import { ResetControllerModel } from '../registry/reset-controller.js';
import { ResetRegistry } from '../registry/reset-registry.js';
import { IrqRecorder } from './irq-recorder.js';
import {
  assertQuiescence,
  checkQuiescence,
  type QuiescenceSpec,
  type QuiescenceWorld,
  quiescenceProperty,
} from './quiescence.js';
import { amdXgbeScenario } from './scenarios/amd-xgbe.js';
import { FLEXRM_KERNEL_RESET_EXEMPTIONS, flexRmScenario } from './scenarios/bcm-flexrm.js';
import { calxedaXgmacScenario } from './scenarios/calxeda-xgmac.js';
import { PL330_SOFTWARE_RESET_EXEMPTIONS, pl330Scenario } from './scenarios/pl330.js';

// The issue asks for at least 1,000 runs per module in CI.
const RUNS = 1000;
// A PL330 property takes 2–3 s alone; on the shared 2-core machine under load it passed 5 s
// (vitest's default) and failed by timeout, not by a counterexample.
vi.setConfig({ testTimeout: 60_000 });

describe('quiescence property: Calxeda xgmac', () => {
  it('kernel module (vfio_platform_calxedaxgmac.c): DMA stops for good and the line is masked (1,000 runs)', () => {
    const spec = calxedaXgmacScenario({ reset: calxedaXgmacReset, clauses: ['dma'] });
    assertQuiescence(spec, { numRuns: RUNS });
    // The interrupt line cannot assert again either: INTR_ENA is 0 whatever DMA_STATUS holds.
    fc.assert(
      fc.property(fc.array(spec.actions, { maxLength: 24 }), (actions) => {
        const world = spec.setup();
        for (const a of actions) a.run(world);
        calxedaXgmacReset({
          name: 'x',
          compatible: [],
          regions: world.model.regions,
          delay: (us) => world.model.tick(us),
        });
        world.model.tick(200);
        return !world.model.irqAsserted() && !world.model.interruptsEnabled();
      }),
      { numRuns: RUNS },
    );
  });

  it('kernel module: leaves the last owner its latched DMA_STATUS and register contents (a counterexample exists)', () => {
    const result = fc.check(quiescenceProperty(calxedaXgmacScenario({ reset: calxedaXgmacReset })), {
      numRuns: RUNS,
    });
    expect(result.failed).toBe(true);
  });

  it('soft-reset module (kernel sequence + DMA_BUS_MODE soft reset): the full property (1,000 runs)', () => {
    assertQuiescence(calxedaXgmacScenario({ reset: calxedaXgmacSoftReset }), { numRuns: RUNS });
  });
});

describe('quiescence property: AMD xgbe', () => {
  const exemptions = [
    {
      register: 'XPCS MMD7.0x0',
      reason:
        'AN CTRL1: the kernel only clears AN_ENABLE, and the PCS soft reset does not reach the AN MMD, so the other bits the last owner set survive',
    },
    {
      register: 'XPCS PCS_MMD_SELECT',
      reason: 'the window select is left at AN 0x80xx; it holds an address, no data',
    },
  ];

  it('kernel module (vfio_platform_amdxgbe.c): the full property but AN CTRL1 and the MMD window select (1,000 runs)', () => {
    assertQuiescence(amdXgbeScenario({ reset: createAmdXgbeReset({ warn: () => {} }), exemptions }), {
      numRuns: RUNS,
    });
  });

  it('kernel module on a MAC whose software reset never completes: it "succeeds", and the property shows what is left', () => {
    const warnings: string[] = [];
    const spec = amdXgbeScenario({
      reset: createAmdXgbeReset({ warn: (m) => warnings.push(m) }),
      modelOptions: { swResetMicroseconds: Number.POSITIVE_INFINITY },
      exemptions,
    });
    const violations = checkQuiescence(spec, []);
    expect(warnings).toHaveLength(1);
    expect(violations).toContain('after reset: DMA_MR = 0x1, power-on 0x0');
    expect(fc.check(quiescenceProperty(spec), { numRuns: 200 }).failed).toBe(true);
  });
});

describe('quiescence property: Broadcom FlexRM', () => {
  const reset = createBcmFlexrmReset({ warn: () => {} });

  it('kernel module (vfio_platform_bcmflexrm.c): no DMA or MSI now or later, pointers emptied; ring bases and MSI setup survive (1,000 runs)', () => {
    assertQuiescence(flexRmScenario({ reset, exemptions: FLEXRM_KERNEL_RESET_EXEMPTIONS }), {
      numRuns: RUNS,
    });
  });

  it('kernel module: leaves the last owner its ring bases and MSI address (a counterexample exists)', () => {
    const result = fc.check(quiescenceProperty(flexRmScenario({ reset })), { numRuns: RUNS });
    expect(result.failed).toBe(true);
  });

  it('with a slow flush (40 µs) the module still waits for FLUSH_DONE, set then clear (1,000 runs)', () => {
    assertQuiescence(
      flexRmScenario({
        reset,
        modelOptions: { flushMicroseconds: 40 },
        exemptions: FLEXRM_KERNEL_RESET_EXEMPTIONS,
      }),
      { numRuns: RUNS },
    );
  });
});

describe('quiescence property: ARM PL330', () => {
  it('vfiokit module: no DMA now or later, interrupts off and clear, power-on state but the channel registers (1,000 runs)', () => {
    assertQuiescence(pl330Scenario({ reset: pl330Reset, exemptions: PL330_SOFTWARE_RESET_EXEMPTIONS }), {
      numRuns: RUNS,
    });
  });

  it('with slow kills and a slow debug unit the module still waits for idle (1,000 runs)', () => {
    assertQuiescence(
      pl330Scenario({
        reset: pl330Reset,
        modelOptions: { killMicroseconds: 7, debugBusyMicroseconds: 3 },
        exemptions: PL330_SOFTWARE_RESET_EXEMPTIONS,
      }),
      { numRuns: RUNS },
    );
  });

  it('the DT `resets` line (reset-controller provider) restores everything, channel registers included (1,000 runs)', () => {
    const controller = new ResetControllerModel('rstc');
    const spec = pl330Scenario({ reset: pl330Reset });
    const world = spec.setup();
    controller.connect(0, () => world.model.hardwareReset());
    const reset = new ResetRegistry({ mode: 'vfiokit' }).getReset(
      { name: 'dma', compatible: ['arm,pl330'], resets: [controller.control(0)] },
      { resetRequired: true },
    );
    fc.assert(
      fc.property(fc.array(spec.actions, { maxLength: 24 }), (actions) => {
        const fresh = {
          ...spec,
          setup: () => world,
          reset: () => reset.call({ name: 'dma', compatible: [], regions: [], delay: () => {} }),
        };
        world.model.hardwareReset();
        expect(checkQuiescence(fresh, actions)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('a reset that only stops channels is caught: the manager fault and pending events remain', () => {
    const killChannelsOnly = pl330Scenario({
      reset: (target) => {
        const regs = target.regions[0];
        for (let n = 0; n < 8; n++) {
          regs?.write(0xd08, 4, (0x01 << 16) | (n << 8) | 1);
          regs?.write(0xd04, 4, 0);
        }
        target.delay(10);
      },
      exemptions: PL330_SOFTWARE_RESET_EXEMPTIONS,
    });
    expect(fc.check(quiescenceProperty(killChannelsOnly), { numRuns: RUNS }).failed).toBe(true);
  });
});

describe('the scenarios reach the states the property is about (no vacuous runs)', () => {
  const scenarios = [
    ['calxeda', calxedaXgmacScenario({ reset: calxedaXgmacSoftReset })],
    ['xgbe', amdXgbeScenario({ reset: createAmdXgbeReset({ warn: () => {} }) })],
    ['pl330', pl330Scenario({ reset: pl330Reset })],
  ] as const;
  it('flexrm: random action sequences leave rings running and MSIs sent', () => {
    const spec = flexRmScenario({ reset: createBcmFlexrmReset({ warn: () => {} }) });
    let running = 0;
    let msi = 0;
    for (const actions of fc.sample(fc.array(spec.actions, { maxLength: 24 }), 300)) {
      const world = spec.setup();
      for (const a of actions) a.run(world);
      if (world.model.dmaActive()) running++;
      if (world.model.msis.some((n) => n > 0)) msi++;
    }
    expect(running).toBeGreaterThan(15);
    expect(msi).toBeGreaterThan(15);
  });
  for (const [name, spec] of scenarios) {
    it(`${name}: random action sequences leave the bus busy and interrupt lines up, as an outside observer sees them`, () => {
      let dma = 0;
      let irq = 0;
      for (const actions of fc.sample(
        fc.array(spec.actions as fc.Arbitrary<{ run(w: unknown): void }>, { maxLength: 24 }),
        300,
      )) {
        const world = spec.setup();
        const recorder = new IrqRecorder();
        world.model.connectIrq(recorder);
        for (const a of actions) a.run(world);
        if (recorder.asserted().length > 0) irq++;
        world.dma.resetCount();
        world.model.tick(20);
        if (world.dma.accesses > 0) dma++;
      }
      expect(dma).toBeGreaterThan(15);
      expect(irq).toBeGreaterThan(15);
    });
  }
});

/** `model` with its self-reported flags stuck at "quiet": what a buggy or lying model would say. */
function lyingModel<M extends DeviceModel>(model: M): M {
  const lies = new Set<PropertyKey>(['dmaActive', 'irqAsserted', 'interruptsEnabled', 'interruptsPending']);
  return new Proxy(model, {
    get(target, key) {
      if (lies.has(key)) return () => false;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function withLyingModel<W extends QuiescenceWorld>(spec: QuiescenceSpec<W>): QuiescenceSpec<W> {
  return {
    ...spec,
    setup: () => {
      const world = spec.setup();
      return { ...world, model: lyingModel(world.model) };
    },
  };
}

describe('the oracle observes the device from outside (bus traffic, interrupt lines, registers), not its flags', () => {
  const doNothing = () => {};
  const cases = [
    ['calxeda', calxedaXgmacScenario({ reset: doNothing, clauses: ['dma'] }), /DMA access\(es\) after reset/],
    ['calxeda', calxedaXgmacScenario({ reset: doNothing, clauses: ['irq'] }), /interrupt line irq/],
    ['xgbe', amdXgbeScenario({ reset: doNothing, clauses: ['irq'] }), /interrupt line (xgmac|xpcs-an)/],
    ['pl330', pl330Scenario({ reset: doNothing, clauses: ['dma'] }), /DMA access\(es\) after reset/],
    ['pl330', pl330Scenario({ reset: doNothing, clauses: ['irq'] }), /interrupt line irq(_abort|\d+)/],
    ['flexrm', flexRmScenario({ reset: doNothing, clauses: ['irq'] }), /interrupt line ring\d-msi asserted/],
  ] as const;
  for (const [name, spec, reason] of cases) {
    it(`${name}: a reset that does nothing fails the ${spec.clauses?.[0]} clause even when the model's flags say all is quiet`, () => {
      const result = fc.check(quiescenceProperty(withLyingModel(spec as QuiescenceSpec<QuiescenceWorld>)), {
        numRuns: 300,
      });
      expect(result.failed).toBe(true);
      expect(String(result.errorInstance)).toMatch(reason);
    });
  }

  it('IrqRecorder counts rising edges and reports the lines that are up', () => {
    const recorder = new IrqRecorder();
    recorder.setLevel('a', true);
    recorder.setLevel('a', true);
    recorder.setLevel('b', false);
    expect(recorder.asserted()).toEqual(['a']);
    expect(recorder.assertions()).toEqual(new Map([['a', 1]]));
    recorder.resetCount();
    expect(recorder.anyAsserted).toBe(false);
    recorder.setLevel('a', false);
    recorder.setLevel('a', true);
    expect(recorder.assertions()).toEqual(new Map([['a', 1]]));
  });
});
