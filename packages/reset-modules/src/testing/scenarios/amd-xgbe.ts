import type { ResetHandler } from '@vfiokit/core';
import fc from 'fast-check';
import { AmdXgbeModel, type AmdXgbeOptions } from '../../models/amd-xgbe.js';
import {
  DMA_CH_BASE,
  DMA_CH_IER,
  DMA_CH_RCR,
  DMA_CH_RDLR_LO,
  DMA_CH_RDTR_LO,
  DMA_CH_SR,
  DMA_CH_TCR,
  DMA_CH_TDLR_LO,
  DMA_CH_TDTR_LO,
  DMA_MR,
  MAC_IER,
  MAC_RCR,
  MAC_TCR,
  MDIO_AN_INT,
  MDIO_AN_INTMASK,
  MDIO_CTRL1,
  MDIO_CTRL2,
  MDIO_MMD_AN,
  MDIO_MMD_PCS,
  PCS_MMD_SELECT,
  XGBE_DESC_SIZE,
  XGBE_DESC3_OWN,
  XGBE_XGMAC_REGION_SIZE,
  XGBE_XPCS_REGION_SIZE,
} from '../../models/amd-xgbe-regs.js';
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

/** One run's world for the AMD xgbe: the model and its memory. */
export interface XgbeWorld extends QuiescenceWorld {
  readonly model: AmdXgbeModel;
  readonly sandbox: DmaSandbox;
}

const CH = (reg: number): number => DMA_CH_BASE + reg;
const TX_RING = SANDBOX_IOVA;
const RX_RING = SANDBOX_IOVA + 0x1000;
const BUFFERS = SANDBOX_IOVA + 0x4000;

function writeRing(world: XgbeWorld, base: number, count: number, bad: boolean): void {
  for (let i = 0; i < count; i++) {
    const desc = new Uint8Array(XGBE_DESC_SIZE);
    const view = new DataView(desc.buffer);
    view.setUint32(0, bad && i === 0 ? UNMAPPED_IOVA : BUFFERS + (base - SANDBOX_IOVA) * 4 + i * 0x100, true);
    view.setUint32(8, 64, true);
    view.setUint32(12, XGBE_DESC3_OWN, true);
    world.sandbox.writeIova(base + i * XGBE_DESC_SIZE, desc);
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
    ({ tx, rx, bad, irq }): QuiescenceAction<XgbeWorld> => ({
      run: (world) => {
        writeRing(world, TX_RING, tx, bad);
        writeRing(world, RX_RING, rx, false);
        const xgmac = world.model.regions[0];
        xgmac?.write(CH(DMA_CH_TDLR_LO), 4, TX_RING);
        xgmac?.write(CH(DMA_CH_RDLR_LO), 4, RX_RING);
        xgmac?.write(CH(DMA_CH_TDTR_LO), 4, TX_RING + tx * XGBE_DESC_SIZE);
        xgmac?.write(CH(DMA_CH_RDTR_LO), 4, RX_RING + rx * XGBE_DESC_SIZE);
        if (irq) xgmac?.write(CH(DMA_CH_IER), 4, 0xffff);
        xgmac?.write(MAC_TCR, 4, 1);
        xgmac?.write(MAC_RCR, 4, 1);
        xgmac?.write(CH(DMA_CH_TCR), 4, 1);
        xgmac?.write(CH(DMA_CH_RCR), 4, 1);
      },
      toString: () => `start channel 0 tx=${tx} rx=${rx}${bad ? ' (bad buffer)' : ''}${irq ? ' +irq' : ''}`,
    }),
  );

const mmdWrite = fc
  .tuple(
    fc.constantFrom(
      [MDIO_MMD_PCS, MDIO_CTRL1],
      [MDIO_MMD_PCS, MDIO_CTRL2],
      [MDIO_MMD_AN, MDIO_CTRL1],
      [MDIO_MMD_AN, MDIO_AN_INTMASK],
      [MDIO_MMD_AN, MDIO_AN_INT],
    ),
    fc.nat({ max: 0xffff }),
  )
  .map(
    ([[mmd, reg], value]): QuiescenceAction<XgbeWorld> => ({
      run: (world) => {
        const address = (mmd ?? 0) * 0x10000 + (reg ?? 0);
        world.model.regions[1]?.write(PCS_MMD_SELECT << 2, 4, Math.floor(address / 0x100));
        world.model.regions[1]?.write((address & 0xff) << 2, 4, value);
      },
      toString: () => `MMD${mmd}.0x${(reg ?? 0).toString(16)} = 0x${value.toString(16)}`,
    }),
  );

const frame = fc.integer({ min: 1, max: 128 }).map(
  (length): QuiescenceAction<XgbeWorld> => ({
    run: (world) => world.model.receiveFrame(new Uint8Array(length).fill(0x5a)),
    toString: () => `frame of ${length} bytes arrives`,
  }),
);

const anEvent = fc.integer({ min: 1, max: 7 }).map(
  (bits): QuiescenceAction<XgbeWorld> => ({
    run: (world) => world.model.autonegotiationEvent(bits),
    toString: () => `AN event 0x${bits.toString(16)}`,
  }),
);

/** Options of {@link amdXgbeScenario}; unknown keys are refused with `EINVAL`. */
export interface XgbeScenarioOptions {
  readonly reset: ResetHandler;
  /** Options for the model (everything but `dma`, which the scenario's sandbox provides). */
  readonly modelOptions?: Omit<AmdXgbeOptions, 'dma'>;
  readonly clauses?: readonly QuiescenceClause[];
  readonly exemptions?: readonly QuiescenceExemption[];
}

/** The quiescence spec of an `amd,xgbe-seattle-v1a` model: random writes, MMD writes, a running channel, frames, AN events. */
export function amdXgbeScenario(options: XgbeScenarioOptions): QuiescenceSpec<XgbeWorld> {
  checkScenarioOptions(options, ['reset', 'modelOptions', 'clauses', 'exemptions'], 'amdXgbeScenario');
  const registers = [
    ['MAC_TCR', MAC_TCR],
    ['MAC_RCR', MAC_RCR],
    ['MAC_IER', MAC_IER],
    ['DMA_MR', DMA_MR],
    ['DMA_CH0_TCR', CH(DMA_CH_TCR)],
    ['DMA_CH0_RCR', CH(DMA_CH_RCR)],
    ['DMA_CH0_IER', CH(DMA_CH_IER)],
    ['DMA_CH0_SR', CH(DMA_CH_SR)],
    ['DMA_CH0_TDTR_LO', CH(DMA_CH_TDTR_LO)],
  ] as const;
  return {
    device: { name: 'e0700000.xgmac', compatible: ['amd,xgbe-seattle-v1a'] },
    setup: () => {
      const sandbox = dmaSandbox();
      return {
        model: new AmdXgbeModel({ ...options.modelOptions, dma: sandbox.dma }),
        dma: sandbox.dma,
        sandbox,
      };
    },
    actions: fc.oneof(
      {
        weight: 3,
        arbitrary: registerWrites<XgbeWorld>(
          registers.map(([name, offset]) => ({ region: 0, offset, name })),
          [XGBE_XGMAC_REGION_SIZE, XGBE_XPCS_REGION_SIZE],
        ),
      },
      { weight: 2, arbitrary: mmdWrite },
      { weight: 2, arbitrary: startRings },
      { weight: 1, arbitrary: frame },
      { weight: 1, arbitrary: anEvent },
      { weight: 2, arbitrary: tickAction<XgbeWorld>() },
    ),
    stimuli: fc.oneof(frame, anEvent),
    reset: options.reset,
    ...(options.clauses === undefined ? {} : { clauses: options.clauses }),
    ...(options.exemptions === undefined ? {} : { exemptions: options.exemptions }),
  };
}
