import type { ResetHandler } from '@vfiokit/core';
import fc from 'fast-check';
import { FlexRmModel, type FlexRmOptions } from '../../models/bcm-flexrm.js';
import {
  CONTROL_ACTIVE,
  DST_TYPE,
  HEADER_TYPE,
  MSI_ENABLE_SHIFT,
  RING_BD_ALIGN_ORDER,
  RING_BD_START_ADDR,
  RING_CMPL_ALIGN_ORDER,
  RING_CMPL_START_ADDR,
  RING_CONTROL,
  RING_MSI_ADDR_LS,
  RING_MSI_ADDR_MS,
  RING_MSI_CONTROL,
  RING_MSI_DATA_VALUE,
  RING_REGS_SIZE,
  SRC_TYPE,
} from '../../models/bcm-flexrm-regs.js';
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

/** One run's world for FlexRM: the model and its memory. */
export interface FlexRmWorld extends QuiescenceWorld {
  readonly model: FlexRmModel;
  readonly sandbox: DmaSandbox;
}

const RINGS = 4;
/** Per ring: a 4 KiB-aligned BD ring, an 8 KiB-aligned completion ring, data, an MSI target. */
export const FLEXRM_BD_RING = (n: number): number => SANDBOX_IOVA + n * 0x2000;
export const FLEXRM_CMPL_RING = (n: number): number => SANDBOX_IOVA + 0x8000 + n * 0x2000;
export const FLEXRM_DATA = (n: number): number => SANDBOX_IOVA + 0x10000 + n * 0x2000;
export const FLEXRM_MSI_TARGET: number = SANDBOX_IOVA + 0x1ff00;

function descriptor(type: number, hiBits: number, lo: number): Uint8Array {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, lo >>> 0, true);
  view.setUint32(4, ((type << 28) | hiBits) >>> 0, true);
  return bytes;
}

/** A HEADER descriptor (bcm-flexrm-mailbox.c flexrm_header_desc: STARTPKT and ENDPKT set). */
export function flexRmHeader(toggle: number, bdCount: number, opaque: number): Uint8Array {
  return descriptor(
    HEADER_TYPE,
    ((toggle & 1) << 26) | (1 << 25) | (1 << 24) | ((bdCount & 0x1f) << 4),
    opaque & 0xffff,
  );
}

/** A SRC or DST descriptor for a 32-bit bus address. */
export function flexRmBuffer(kind: 'src' | 'dst', address: number, length: number): Uint8Array {
  return descriptor(kind === 'src' ? SRC_TYPE : DST_TYPE, (length & 0xffff) << 12, address);
}

/** Options of {@link flexRmRequest}. */
export interface FlexRmRequest {
  readonly ring: number;
  readonly length: number;
  readonly opaque: number;
  readonly msi: boolean;
  /** Source at an IOVA nothing maps (the copy faults: DME read-response error). */
  readonly badSource?: boolean;
}

/**
 * What bcm-flexrm-mailbox.c's flexrm_startup + flexrm_new_request do, in short: a one-request
 * BD ring (HEADER, SRC, DST, then a NULL with the other toggle), the ring bases, the MSI, and
 * RING_CONTROL ← ACTIVE.
 */
export function flexRmRequest(world: FlexRmWorld, request: FlexRmRequest): void {
  const { model, sandbox } = world;
  const bd = FLEXRM_BD_RING(request.ring);
  const data = FLEXRM_DATA(request.ring);
  const source = request.badSource === true ? (UNMAPPED_IOVA as number) : data;
  sandbox.writeIova(bd, flexRmHeader(1, 2, request.opaque));
  sandbox.writeIova(bd + 8, flexRmBuffer('src', source, request.length));
  sandbox.writeIova(bd + 16, flexRmBuffer('dst', data + 0x1000, request.length));
  sandbox.writeIova(bd + 24, new Uint8Array(8)); // NULL, toggle 0: the ring waits here
  const ring = request.ring * RING_REGS_SIZE;
  model.write(ring + RING_CONTROL, 4, 0);
  model.write(ring + RING_BD_START_ADDR, 4, bd / 2 ** RING_BD_ALIGN_ORDER);
  model.write(ring + RING_CMPL_START_ADDR, 4, FLEXRM_CMPL_RING(request.ring) / 2 ** RING_CMPL_ALIGN_ORDER);
  model.write(ring + RING_MSI_ADDR_LS, 4, FLEXRM_MSI_TARGET);
  model.write(ring + RING_MSI_ADDR_MS, 4, 0);
  model.write(ring + RING_MSI_DATA_VALUE, 4, 0x100 + request.ring);
  model.write(ring + RING_MSI_CONTROL, 4, request.msi ? (1 << MSI_ENABLE_SHIFT) | 1 : 0);
  model.write(ring + RING_CONTROL, 4, CONTROL_ACTIVE);
}

const startRequest = fc
  .record({
    ring: fc.integer({ min: 0, max: RINGS - 1 }),
    length: fc.integer({ min: 1, max: 256 }),
    opaque: fc.nat({ max: 0xffff }),
    msi: fc.boolean(),
    badSource: fc.oneof(
      { weight: 5, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
  })
  .map(
    (request): QuiescenceAction<FlexRmWorld> => ({
      run: (world) => flexRmRequest(world, request),
      toString: () =>
        `ring ${request.ring}: request ${request.opaque} of ${request.length} bytes${request.msi ? ' +msi' : ''}${
          request.badSource ? ' (bad source)' : ''
        }`,
    }),
  );

/** After the reset: the last owner's CPU thread queues one more request at a ring's read pointer. */
const lateRequest = fc.integer({ min: 0, max: RINGS - 1 }).map(
  (n): QuiescenceAction<FlexRmWorld> => ({
    run: (world) => {
      const ring = world.model.rings[n];
      if (ring === null || ring === undefined) return;
      const at = ring.bdStart * 2 ** RING_BD_ALIGN_ORDER + ring.bdRead * 8;
      if (at < SANDBOX_IOVA || at + 24 > SANDBOX_IOVA + 0x8000) return;
      world.sandbox.writeIova(at, flexRmHeader(1, 2, 0xbeef));
      world.sandbox.writeIova(at + 8, flexRmBuffer('src', FLEXRM_DATA(n), 16));
      world.sandbox.writeIova(at + 16, flexRmBuffer('dst', FLEXRM_DATA(n) + 0x1000, 16));
    },
    toString: () => `a late request is queued on ring ${n}`,
  }),
);

/**
 * The FlexRM registers the kernel module does not touch: it only inactivates and flushes
 * (which empties the pointers), so the ring bases, MSI setup and read-to-clear request
 * counters keep the last owner's values.
 */
export const FLEXRM_KERNEL_RESET_EXEMPTIONS: readonly QuiescenceExemption[] = [
  {
    register:
      /^RING\d_(BD_START_ADDR|CMPL_START_ADDR|MSI_ADDR_LS|MSI_ADDR_MS|MSI_CONTROL|MSI_DATA_VALUE|BD_READ_PTR_DDR_CONTROL)$/,
    reason: 'vfio_platform_bcmflexrm.c writes only RING_CONTROL: ring bases and MSI setup survive',
  },
  {
    register: /^RING\d_NUM_REQ_(RECV|TRANS)_LS$/,
    reason: 'request counters clear when read, not on flush',
  },
];

/** Options of {@link flexRmScenario}; unknown keys are refused with `EINVAL`. */
export interface FlexRmScenarioOptions {
  readonly reset: ResetHandler;
  /** Options for the model (everything but `dma`). */
  readonly modelOptions?: Omit<FlexRmOptions, 'dma'>;
  readonly clauses?: readonly QuiescenceClause[];
  readonly exemptions?: readonly QuiescenceExemption[];
}

/** The quiescence spec of a `brcm,iproc-flexrm-mbox` model: register writes, requests, time; late requests after. */
export function flexRmScenario(options: FlexRmScenarioOptions): QuiescenceSpec<FlexRmWorld> {
  checkScenarioOptions(options, ['reset', 'modelOptions', 'clauses', 'exemptions'], 'flexRmScenario');
  const perRing = [
    ['CONTROL', RING_CONTROL],
    ['BD_START_ADDR', RING_BD_START_ADDR],
    ['MSI_CONTROL', RING_MSI_CONTROL],
  ] as const;
  const registers = Array.from({ length: RINGS }, (_, n) =>
    perRing.map(([name, offset]) => ({
      region: 0,
      offset: n * RING_REGS_SIZE + offset,
      name: `RING${n}_${name}`,
    })),
  ).flat();
  return {
    device: { name: '67000000.mailbox', compatible: ['brcm,iproc-flexrm-mbox'] },
    setup: () => {
      const sandbox = dmaSandbox();
      const model = new FlexRmModel({ ringWindows: RINGS, ...options.modelOptions, dma: sandbox.dma });
      return { model, dma: sandbox.dma, sandbox };
    },
    actions: fc.oneof(
      { weight: 2, arbitrary: registerWrites<FlexRmWorld>(registers, [RINGS * RING_REGS_SIZE]) },
      { weight: 3, arbitrary: startRequest },
      { weight: 2, arbitrary: tickAction<FlexRmWorld>() },
    ),
    stimuli: lateRequest,
    reset: options.reset,
    ...(options.clauses === undefined ? {} : { clauses: options.clauses }),
    ...(options.exemptions === undefined ? {} : { exemptions: options.exemptions }),
  };
}
