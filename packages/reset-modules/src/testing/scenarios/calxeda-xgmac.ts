import type { ResetHandler } from '@vfiokit/core';
import fc from 'fast-check';
import { CalxedaXgmacModel, type CalxedaXgmacOptions } from '../../models/calxeda-xgmac.js';
import {
  DESC_OWN,
  DMA_CONTROL_SR,
  DMA_CONTROL_ST,
  RXDESC1_END_RING,
  TXDESC_END_RING,
  XGMAC_ADDR_HIGH0,
  XGMAC_ADDR_LOW0,
  XGMAC_CONTROL,
  XGMAC_CONTROL_RE,
  XGMAC_CONTROL_TE,
  XGMAC_DESC_SIZE,
  XGMAC_DMA_BUS_MODE,
  XGMAC_DMA_CONTROL,
  XGMAC_DMA_INTR_ENA,
  XGMAC_DMA_RX_BASE_ADDR,
  XGMAC_DMA_RX_POLL,
  XGMAC_DMA_STATUS,
  XGMAC_DMA_TX_BASE_ADDR,
  XGMAC_DMA_TX_POLL,
  XGMAC_FRAME_FILTER,
  XGMAC_REGION_SIZE,
} from '../../models/calxeda-xgmac-regs.js';
import { type DmaSandbox, dmaSandbox, SANDBOX_IOVA, UNMAPPED_IOVA } from '../dma-sandbox.js';
import type {
  QuiescenceAction,
  QuiescenceClause,
  QuiescenceExemption,
  QuiescenceSpec,
  QuiescenceWorld,
} from '../quiescence.js';
import { registerWrites, tickAction } from '../register-writes.js';
import { checkScenarioOptions } from '../scenario-options.js';

/** One run's world for the Calxeda xgmac: the model and its memory. */
export interface XgmacWorld extends QuiescenceWorld {
  readonly model: CalxedaXgmacModel;
  readonly sandbox: DmaSandbox;
}

const TX_RING = SANDBOX_IOVA + 0x0000;
const RX_RING = SANDBOX_IOVA + 0x1000;
const BUFFERS = SANDBOX_IOVA + 0x4000;

/** Writes `count` descriptors handed to the DMA (OWN set), the last one closing the ring. */
function writeRing(world: XgmacWorld, base: number, count: number, rx: boolean, badBuffer: boolean): void {
  for (let i = 0; i < count; i++) {
    const desc = new Uint8Array(XGMAC_DESC_SIZE);
    const view = new DataView(desc.buffer);
    const last = i === count - 1;
    view.setUint32(0, (DESC_OWN | (!rx && last ? TXDESC_END_RING : 0)) >>> 0, true);
    view.setUint32(4, (64 | (rx && last ? RXDESC1_END_RING : 0)) >>> 0, true);
    view.setUint32(8, badBuffer && i === 0 ? UNMAPPED_IOVA : BUFFERS + (rx ? 0x4000 : 0) + i * 0x100, true);
    world.sandbox.writeIova(base + i * XGMAC_DESC_SIZE, desc);
  }
}

const startRings = fc
  .record({
    tx: fc.integer({ min: 1, max: 8 }),
    rx: fc.integer({ min: 1, max: 8 }),
    bad: fc.boolean(),
    irq: fc.boolean(),
  })
  .map(
    ({ tx, rx, bad, irq }): QuiescenceAction<XgmacWorld> => ({
      run: (world) => {
        writeRing(world, TX_RING, tx, false, bad);
        writeRing(world, RX_RING, rx, true, false);
        const regs = world.model;
        regs.write(XGMAC_DMA_TX_BASE_ADDR, 4, TX_RING);
        regs.write(XGMAC_DMA_RX_BASE_ADDR, 4, RX_RING);
        if (irq) regs.write(XGMAC_DMA_INTR_ENA, 4, 0x1ffff);
        regs.write(XGMAC_CONTROL, 4, XGMAC_CONTROL_TE | XGMAC_CONTROL_RE);
        regs.write(XGMAC_DMA_CONTROL, 4, DMA_CONTROL_ST | DMA_CONTROL_SR);
      },
      toString: () => `start rings tx=${tx} rx=${rx}${bad ? ' (bad buffer)' : ''}${irq ? ' +irq' : ''}`,
    }),
  );

const frame = fc.integer({ min: 1, max: 128 }).map(
  (length): QuiescenceAction<XgmacWorld> => ({
    run: (world) => world.model.receiveFrame(new Uint8Array(length).fill(0xa5)),
    toString: () => `frame of ${length} bytes arrives`,
  }),
);

/** Options of {@link calxedaXgmacScenario}; unknown keys are refused with `EINVAL`. */
export interface XgmacScenarioOptions {
  readonly reset: ResetHandler;
  /** Options for the model (everything but `dma`, which the scenario's sandbox provides). */
  readonly modelOptions?: Omit<CalxedaXgmacOptions, 'dma'>;
  readonly clauses?: readonly QuiescenceClause[];
  readonly exemptions?: readonly QuiescenceExemption[];
}

/** The quiescence spec of a `calxeda,hb-xgmac` model: random writes, running rings, frames. */
export function calxedaXgmacScenario(options: XgmacScenarioOptions): QuiescenceSpec<XgmacWorld> {
  checkScenarioOptions(options, ['reset', 'modelOptions', 'clauses', 'exemptions'], 'calxedaXgmacScenario');
  const registers = [
    ['XGMAC_CONTROL', XGMAC_CONTROL],
    ['XGMAC_FRAME_FILTER', XGMAC_FRAME_FILTER],
    ['XGMAC_ADDR_HIGH0', XGMAC_ADDR_HIGH0],
    ['XGMAC_ADDR_LOW0', XGMAC_ADDR_LOW0],
    ['XGMAC_DMA_BUS_MODE', XGMAC_DMA_BUS_MODE],
    ['XGMAC_DMA_TX_POLL', XGMAC_DMA_TX_POLL],
    ['XGMAC_DMA_RX_POLL', XGMAC_DMA_RX_POLL],
    ['XGMAC_DMA_STATUS', XGMAC_DMA_STATUS],
    ['XGMAC_DMA_CONTROL', XGMAC_DMA_CONTROL],
    ['XGMAC_DMA_INTR_ENA', XGMAC_DMA_INTR_ENA],
  ] as const;
  return {
    device: { name: 'fff50000.ethernet', compatible: ['calxeda,hb-xgmac'] },
    setup: () => {
      const sandbox = dmaSandbox();
      return {
        model: new CalxedaXgmacModel({ ...options.modelOptions, dma: sandbox.dma }),
        dma: sandbox.dma,
        sandbox,
      };
    },
    actions: fc.oneof(
      {
        weight: 3,
        arbitrary: registerWrites<XgmacWorld>(
          registers.map(([name, offset]) => ({ region: 0, offset, name })),
          [XGMAC_REGION_SIZE],
        ),
      },
      { weight: 2, arbitrary: startRings },
      { weight: 2, arbitrary: frame },
      { weight: 2, arbitrary: tickAction<XgmacWorld>() },
    ),
    stimuli: frame,
    reset: options.reset,
    ...(options.clauses === undefined ? {} : { clauses: options.clauses }),
    ...(options.exemptions === undefined ? {} : { exemptions: options.exemptions }),
  };
}
