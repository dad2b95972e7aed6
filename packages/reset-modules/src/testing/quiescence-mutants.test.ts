import type { MmioDevice, ResetHandler } from '@vfiokit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DMA_MR } from '../models/amd-xgbe-regs.js';
import { XGMAC_DMA_BUS_MODE, XGMAC_DMA_CONTROL, XGMAC_DMA_INTR_ENA } from '../models/calxeda-xgmac-regs.js';
import { createAmdXgbeReset } from '../modules/amd-xgbe-reset.js';
import { createBcmFlexrmReset } from '../modules/bcm-flexrm-reset.js';
import { calxedaXgmacReset, calxedaXgmacSoftReset } from '../modules/calxeda-xgmac-reset.js';
import { type Pl330ResetStep, pl330ResetWithout } from '../modules/pl330-reset.js';
import {
  checkQuiescence,
  type QuiescenceSpec,
  type QuiescenceWorld,
  quiescenceProperty,
} from './quiescence.js';
import { amdXgbeScenario } from './scenarios/amd-xgbe.js';
import { FLEXRM_KERNEL_RESET_EXEMPTIONS, flexRmScenario } from './scenarios/bcm-flexrm.js';
import { calxedaXgmacScenario } from './scenarios/calxeda-xgmac.js';
import { PL330_SOFTWARE_RESET_EXEMPTIONS, pl330Scenario } from './scenarios/pl330.js';

// Mutation testing of the property: each shipped module with one step taken out must fail it,
// and fail for the reason the step exists. A property that passed any of these mutants would
// not be proving what the README says it proves.
const RUNS = 300;

function failure<W extends QuiescenceWorld>(spec: QuiescenceSpec<W>): string {
  const result = fc.check(quiescenceProperty(spec), { numRuns: RUNS });
  expect(result.failed).toBe(true);
  return result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
}

/** The reset with its writes to `region`/`offset` dropped on the floor (a step left out of the source). */
function withoutWrites(reset: ResetHandler, region: number, offset: number): ResetHandler {
  return (target) => {
    const regions = target.regions.map(
      (r, i): MmioDevice =>
        i !== region
          ? r
          : {
              name: r.name,
              size: r.size,
              read: (o, size) => r.read(o, size),
              write: (o, size, value) => {
                if (o !== offset) r.write(o, size, value);
              },
            },
    );
    reset({ ...target, regions });
  };
}

describe('PL330 reset mutants: each step is needed, and the property says why', () => {
  const mutants: [readonly Pl330ResetStep[], RegExp][] = [
    // Without the channel kills (and so nothing to wait for), programs keep running and
    // channels waiting in DMAWFP resume on the next peripheral request.
    [['kill-channels', 'wait-idle', 'verify'], /DMA access\(es\) after reset|CS\d = 0x/],
    // Killed but not waited for: the thread is still KILLING (draining bus transactions).
    [['wait-idle', 'verify'], /CS\d = 0x[0-9a-f]*8, power-on/],
    // INTCLR clears only events routed to the IRQ: plain events stay pending in ES.
    [['route-events', 'verify'], /ES = /],
    [['clear-events', 'verify'], /ES = |interrupt line irq\d+ is asserted/],
    [['disable-interrupts', 'verify'], /INTEN = |interrupt line irq\d+/],
    // The last owner's debug instruction (a DMAGO address) stays readable.
    [['clear-debug-registers', 'verify'], /DBGINST[01] =/],
  ];
  for (const [omit, reason] of mutants) {
    it(`without ${omit.filter((s) => s !== 'verify').join(' + ')}: fails (${reason.source})`, () => {
      const message = failure(
        pl330Scenario({ reset: pl330ResetWithout(...omit), exemptions: PL330_SOFTWARE_RESET_EXEMPTIONS }),
      );
      expect(message).toMatch(reason);
    });
  }

  it('the complete module passes where every mutant fails (the same runs)', () => {
    const result = fc.check(
      quiescenceProperty(
        pl330Scenario({ reset: pl330ResetWithout(), exemptions: PL330_SOFTWARE_RESET_EXEMPTIONS }),
      ),
      { numRuns: RUNS },
    );
    expect(result.failed).toBe(false);
  });

  it('without the manager kill: its fault (a Secure DMAGO) stays latched in FSM and raises the abort IRQ', () => {
    // Kills complete at once here, so leaving out the wait (which would time out on the faulting
    // manager, the module's own check) isolates the missing manager kill.
    const message = failure(
      pl330Scenario({
        reset: pl330ResetWithout('kill-manager', 'wait-idle', 'verify'),
        modelOptions: { killMicroseconds: 0 },
        exemptions: PL330_SOFTWARE_RESET_EXEMPTIONS,
      }),
    );
    expect(message).toMatch(/interrupt line irq_abort is asserted/);
    expect(message).toMatch(/DS = 0x20f|FTM = 0x/);
  });

  it('DBGINST0/1 written before DBGSTATUS is idle (the pre-2019 _execute_DBGINSN order) fails on a slow debug unit', () => {
    // The busy unit drops the DMAKILL; DBGCMD re-runs the last owner's DMAGO or kill.
    const message = failure(
      pl330Scenario({
        reset: pl330ResetWithout('debug-idle-first'),
        modelOptions: { debugBusyMicroseconds: 3 },
        exemptions: PL330_SOFTWARE_RESET_EXEMPTIONS,
      }),
    );
    expect(message).toMatch(/reset failed: .*not stopped after DMAKILL|DMA/);
    // Each failing run polls 5,000 µs before ETIMEDOUT, and shrinking replays many of them.
  }, 60_000);

  it('a slow kill (KILLING for 7 µs) is caught when the module does not wait', () => {
    const message = failure(
      pl330Scenario({
        reset: pl330ResetWithout('wait-idle', 'verify'),
        modelOptions: { killMicroseconds: 7 },
        exemptions: PL330_SOFTWARE_RESET_EXEMPTIONS,
      }),
    );
    expect(message).toMatch(/CS\d = 0x[0-9a-f]*8, power-on/);
  });
});

describe('Calxeda xgmac reset mutants', () => {
  it('kernel module without the DMA_CONTROL write: the rings keep running (dma clause)', () => {
    const message = failure(
      calxedaXgmacScenario({
        reset: withoutWrites(calxedaXgmacReset, 0, XGMAC_DMA_CONTROL),
        clauses: ['dma'],
      }),
    );
    expect(message).toMatch(/DMA access\(es\) after reset/);
  });

  it('kernel module without the DMA_INTR_ENA write: the interrupt line stays up (irq clause)', () => {
    // The kernel module leaves DMA_STATUS latched but masked; without the mask the latched
    // status drives the line: the mutant has an interrupt-line violation, the real module never.
    const enabledAfter = (reset: ResetHandler) => {
      const spec = calxedaXgmacScenario({ reset, clauses: ['irq'] });
      return fc.check(
        fc.property(fc.array(spec.actions, { maxLength: 24 }), (actions) =>
          checkQuiescence(spec, actions).every((v) => !v.includes('interrupt line')),
        ),
        { numRuns: RUNS },
      ).failed;
    };
    expect(enabledAfter(withoutWrites(calxedaXgmacReset, 0, XGMAC_DMA_INTR_ENA))).toBe(true);
    expect(enabledAfter(calxedaXgmacReset)).toBe(false);
  });

  it('soft-reset module without the soft reset: the last owner’s registers survive (state clause)', () => {
    const message = failure(
      calxedaXgmacScenario({
        reset: withoutWrites(calxedaXgmacSoftReset, 0, XGMAC_DMA_BUS_MODE),
        clauses: ['state'],
      }),
    );
    expect(message).toMatch(/ = 0x[0-9a-f]+, power-on/);
  });
});

describe('AMD xgbe reset mutants', () => {
  it('kernel module without the MAC software reset (DMA_MR.SWR): DMA and MAC state survive', () => {
    const message = failure(
      amdXgbeScenario({
        reset: withoutWrites(createAmdXgbeReset({ warn: () => {} }), 0, DMA_MR),
        exemptions: [{ register: /^XPCS/, reason: 'only the MAC side is under test here' }],
      }),
    );
    expect(message).toMatch(/DMA|interrupt|power-on/);
  });
  // The AN window (XPCS region 1) after PCS_MMD_SELECT = 0x780: AN_INTMASK at +0x4, AN_INT at +0x8.
  const anExemptions = [
    { register: 'XPCS MMD7.0x0', reason: 'AN CTRL1: the kernel only clears AN_ENABLE' },
    { register: 'XPCS PCS_MMD_SELECT', reason: 'the window select holds an address, no data' },
  ];
  it('kernel module without AN_INTMASK ← 0: the AN interrupt stays enabled', () => {
    const message = failure(
      amdXgbeScenario({
        reset: withoutWrites(createAmdXgbeReset({ warn: () => {} }), 1, 0x004),
        exemptions: anExemptions,
      }),
    );
    expect(message).toMatch(/interrupt line xpcs-an|MMD7\.0x8001/);
  });

  it('kernel module without AN_INT ← 0: a latched AN interrupt survives', () => {
    const message = failure(
      amdXgbeScenario({
        reset: withoutWrites(createAmdXgbeReset({ warn: () => {} }), 1, 0x008),
        exemptions: anExemptions,
      }),
    );
    expect(message).toMatch(/interrupt line xpcs-an|MMD7\.0x8002/);
  });
});

describe('Broadcom FlexRM reset mutants', () => {
  it('a module that only inactivates (CONTROL ← 0, no flush): the ring pointers, outstanding requests or an old flush status survive', () => {
    const inactivateOnly: ResetHandler = (target) => {
      const regs = target.regions[0];
      for (let ring = 0; regs !== undefined && ring < regs.size; ring += 0x10000)
        regs.write(ring + 0x34, 4, 0);
    };
    const message = failure(
      flexRmScenario({ reset: inactivateOnly, exemptions: FLEXRM_KERNEL_RESET_EXEMPTIONS }),
    );
    // Which survivor the property reports first depends on the random actions before the
    // reset; each is state of the previous owner that a flush would have cleared.
    expect(message).toMatch(
      /RING\d_(BD_READ_PTR|BD_WRITE_PTR|CMPL_WRITE_PTR|NUM_REQ_OUTSTAND|FLUSH_DONE) = /,
    );
  });

  it('a module that shuts down ring 0 only: the other rings keep fetching (dma clause)', () => {
    const reset = createBcmFlexrmReset({ warn: () => {} });
    const firstRingOnly: ResetHandler = (target) => {
      const region = target.regions[0];
      if (region === undefined) return;
      const window: MmioDevice = {
        name: region.name,
        size: 0x10000,
        read: (o, s) => region.read(o, s),
        write: (o, s, v) => region.write(o, s, v),
      };
      reset({ ...target, regions: [window] });
    };
    const message = failure(flexRmScenario({ reset: firstRingOnly, clauses: ['dma'] }));
    expect(message).toMatch(/DMA access\(es\) after reset/);
  });
});
