/**
 * Scenario: writing your own reset module. A made-up DMA engine (`acme,pattern-fill`), its
 * reset module, registration with the registry the vfio drivers use, and the quiescence
 * property that proves the module — the steps of "Writing your own module" in
 * packages/reset-modules/README.md.
 */

import type { ResetHandler } from '@vfiokit/core';
import { modprobe, ResetRegistry, type ResetReport } from '@vfiokit/reset-modules';
import {
  assertQuiescence,
  dmaSandbox,
  modelTarget,
  type QuiescenceAction,
  type QuiescenceSpec,
  type QuiescenceWorld,
  registerWrites,
  SANDBOX_IOVA,
  tickAction,
  UNMAPPED_IOVA,
} from '@vfiokit/reset-modules/testing';
import fc from 'fast-check';
import {
  FILL_ADDR,
  FILL_CTRL,
  FILL_CTRL_IRQ_EN,
  FILL_CTRL_START,
  FILL_LEN,
  FILL_PATTERN,
  FILL_REGION_SIZE,
  FILL_SOFT_RESET,
  FILL_STATUS,
  PatternFillDevice,
} from './custom-reset-module/pattern-fill-device.js';
import { patternFillReset, patternFillResetModule } from './custom-reset-module/pattern-fill-reset.js';
import { runIfMain } from './run-if-main.js';

export { PatternFillDevice } from './custom-reset-module/pattern-fill-device.js';
export {
  FILL_RESET_POLLS,
  patternFillReset,
  patternFillResetModule,
} from './custom-reset-module/pattern-fill-reset.js';

/** One run's world: the device and the counting DMA port it masters. */
export interface PatternFillWorld extends QuiescenceWorld {
  readonly model: PatternFillDevice;
}

/** A fill job in flight: a length, a destination (sometimes unmapped), maybe with the interrupt on. */
const startFill = fc
  .record({
    len: fc.integer({ min: 1, max: 4096 }),
    unmapped: fc.boolean(),
    irq: fc.boolean(),
    pattern: fc.nat({ max: 255 }),
  })
  .map(
    ({ len, unmapped, irq, pattern }): QuiescenceAction<PatternFillWorld> => ({
      run: ({ model }) => {
        model.write(FILL_ADDR, 4, unmapped ? UNMAPPED_IOVA : SANDBOX_IOVA);
        model.write(FILL_LEN, 4, len);
        model.write(FILL_PATTERN, 4, pattern);
        model.write(FILL_CTRL, 4, FILL_CTRL_START | (irq ? FILL_CTRL_IRQ_EN : 0));
      },
      toString: () =>
        `fill ${len} bytes of 0x${pattern.toString(16)}${unmapped ? ' to an unmapped IOVA' : ''}${irq ? ' +irq' : ''}`,
    }),
  );

/** The quiescence spec for the example device: random register writes, fill jobs, time. */
export function patternFillScenario(reset: ResetHandler): QuiescenceSpec<PatternFillWorld> {
  const registers = [
    { region: 0, offset: FILL_CTRL, name: 'CTRL' },
    { region: 0, offset: FILL_STATUS, name: 'STATUS' },
    { region: 0, offset: FILL_ADDR, name: 'ADDR' },
    { region: 0, offset: FILL_LEN, name: 'LEN' },
    { region: 0, offset: FILL_PATTERN, name: 'PATTERN' },
    { region: 0, offset: FILL_SOFT_RESET, name: 'SOFT_RESET' },
  ];
  return {
    device: { name: '10000000.fill', compatible: ['acme,pattern-fill'] },
    setup: () => {
      const sandbox = dmaSandbox();
      return { model: new PatternFillDevice(sandbox.dma), dma: sandbox.dma };
    },
    actions: fc.oneof(
      registerWrites<PatternFillWorld>(registers, [FILL_REGION_SIZE]),
      startFill,
      tickAction<PatternFillWorld>(),
    ),
    reset,
  };
}

/** What {@link customResetModuleExample} saw. */
export interface CustomResetModuleOutcome {
  readonly report: ResetReport;
  /** Modules the loader had loaded when the device was open. */
  readonly loaded: readonly string[];
  readonly dmaActiveBeforeOpen: boolean;
  readonly dmaActiveAfterOpen: boolean;
}

/**
 * The driver's view: the module is found through the loader by its alias, probed with
 * reset_required, and run at open on a device the previous owner left mid-transfer.
 */
export function customResetModuleExample(): CustomResetModuleOutcome {
  // A module Linux does not ship exists only in registry mode 'vfiokit' (the default,
  // 'upstream', has only Linux's reset modules).
  const registry = new ResetRegistry({ mode: 'vfiokit' });
  const probe = modprobe(registry, [patternFillResetModule]);
  registry.setLoader(probe.loader);

  const sandbox = dmaSandbox();
  const device = new PatternFillDevice(sandbox.dma);
  device.write(FILL_ADDR, 4, SANDBOX_IOVA);
  device.write(FILL_LEN, 4, 4096);
  device.write(FILL_CTRL, 4, FILL_CTRL_START | FILL_CTRL_IRQ_EN);
  device.tick(10);

  const info = { name: '10000000.fill', compatible: ['acme,pattern-fill'] };
  const reset = registry.getReset(info, { resetRequired: true });
  const before = device.dmaActive();
  reset.callOnOpen(modelTarget(device, info));
  const after = device.dmaActive();
  const loaded = probe.loaded();
  reset.release();
  probe.remove(patternFillResetModule.owner);
  return {
    report: reset.report,
    loaded,
    dmaActiveBeforeOpen: before,
    dmaActiveAfterOpen: after,
  };
}

/** The outcome as the README shows it (`assertQuiescence` throws before this if the module is wrong). */
export function formatCustomResetModule(outcome: CustomResetModuleOutcome): string {
  return [
    outcome.report.summary,
    `loaded by the loader: ${outcome.loaded.join(', ')}`,
    `DMA active before open: ${outcome.dmaActiveBeforeOpen}, after open: ${outcome.dmaActiveAfterOpen}`,
  ].join('\n');
}

/** What the file prints: the driver's view, then the quiescence property (1,000 runs). */
export function customResetModuleReport(): string {
  const text = formatCustomResetModule(customResetModuleExample());
  assertQuiescence(patternFillScenario(patternFillReset), { numRuns: 1000 });
  return `${text}\nquiescence property: holds in 1000 runs`;
}

runIfMain(import.meta.url, customResetModuleReport);
