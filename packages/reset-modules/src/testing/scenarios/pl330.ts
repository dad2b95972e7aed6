import type { ResetHandler } from '@vfiokit/core';
import fc from 'fast-check';
import { Pl330Model, type Pl330Options } from '../../models/pl330.js';
import { assemblePl330, type Pl330Instruction, pl330Ccr } from '../../models/pl330-microcode.js';
import {
  CMD_DMAGO,
  DBGCMD,
  DBGINST0,
  DBGINST1,
  INTCLR,
  INTEN,
  PL330_REGION_SIZE,
} from '../../models/pl330-regs.js';
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

/** One run's world for the PL330: the model and its memory. */
export interface Pl330World extends QuiescenceWorld {
  readonly model: Pl330Model;
  readonly sandbox: DmaSandbox;
}

/** Program slots (0x200 bytes each) and the data area inside the sandbox window. */
const PROGRAMS = SANDBOX_IOVA;
const DATA = SANDBOX_IOVA + 0x4000;

/** Starts `program` at `address` on `channel` through the debug interface, as pl330.c `_trigger` does. */
export function pl330DebugGo(model: Pl330Model, channel: number, address: number): void {
  model.write(DBGINST0, 4, ((channel << 24) | ((CMD_DMAGO | 2) << 16)) >>> 0);
  model.write(DBGINST1, 4, address >>> 0);
  model.write(DBGCMD, 4, 0);
}

const address = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 0x1000 }).map((o) => DATA + o * 4) },
  { weight: 1, arbitrary: fc.constant(UNMAPPED_IOVA as number) },
);

const simple: fc.Arbitrary<Pl330Instruction[]> = fc.oneof<fc.Arbitrary<Pl330Instruction[]>[]>(
  address.map((value) => [{ op: 'MOV', reg: 'SAR', value } as const]),
  address.map((value) => [{ op: 'MOV', reg: 'DAR', value } as const]),
  fc
    .record({
      burstBytes: fc.constantFrom(1, 2, 4, 8),
      burstLength: fc.integer({ min: 1, max: 4 }),
      increment: fc.boolean(),
    })
    .map((ccr) => [{ op: 'MOV', reg: 'CCR', value: pl330Ccr(ccr) } as const]),
  fc.constant([{ op: 'LD' } as const]),
  fc.constant([{ op: 'ST' } as const]),
  fc.constant<Pl330Instruction[]>([{ op: 'LD' }, { op: 'ST' }]),
  fc.integer({ min: 0, max: 31 }).map((event) => [{ op: 'SEV', event } as const]),
  fc.integer({ min: 0, max: 3 }).map((peripheral) => [{ op: 'WFP', peripheral } as const]),
  fc.constant([{ op: 'NOP' } as const]),
);

const block: fc.Arbitrary<Pl330Instruction[]> = fc.oneof(
  { weight: 4, arbitrary: simple },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom<0 | 1>(0, 1),
        fc.integer({ min: 1, max: 8 }),
        fc.array(simple, { minLength: 1, maxLength: 3 }),
        // Now and then a DMALPFE: a loop without end, which only a DMAKILL stops.
        fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      )
      .map(([counter, iterations, body, forever]) => {
        const flat = body.flat();
        return [
          { op: 'LP', counter, iterations } as const,
          ...flat,
          { op: 'LPEND', counter, backwardJump: assemblePl330(flat).length, forever } as const,
        ];
      }),
  },
);

const program = fc
  .tuple(fc.array(block, { maxLength: 8 }), fc.constantFrom<Pl330Instruction['op']>('END', 'KILL', 'NOP'))
  .map(([blocks, last]): Pl330Instruction[] => [...blocks.flat(), { op: last } as Pl330Instruction]);

const startProgram = fc.tuple(fc.integer({ min: 0, max: 7 }), program, fc.boolean()).map(
  ([channel, instructions, unmapped]): QuiescenceAction<Pl330World> => ({
    run: (world) => {
      const at = PROGRAMS + channel * 0x200;
      const code = assemblePl330(instructions).subarray(0, 0x200);
      world.sandbox.writeIova(at, code);
      pl330DebugGo(world.model, channel, unmapped ? UNMAPPED_IOVA : at);
    },
    toString: () =>
      `DMAGO channel ${channel} ${unmapped ? 'at an unmapped IOVA' : `[${instructions.map((i) => i.op).join(' ')}]`}`,
  }),
);

const peripheral = fc.integer({ min: 0, max: 3 }).map(
  (p): QuiescenceAction<Pl330World> => ({
    run: (world) => world.model.peripheralRequest(p),
    toString: () => `peripheral ${p} requests`,
  }),
);

/** Options of {@link pl330Scenario}; unknown keys are refused with `EINVAL`. */
export interface Pl330ScenarioOptions {
  readonly reset: ResetHandler;
  /** Options for the model (everything but `dma`, which the scenario's sandbox provides). */
  readonly modelOptions?: Omit<Pl330Options, 'dma'>;
  readonly clauses?: readonly QuiescenceClause[];
  readonly exemptions?: readonly QuiescenceExemption[];
}

/**
 * The PL330 registers no software reset can restore (the debug interface takes only DMAGO,
 * DMASEV and DMAKILL), for modules that do not pulse a hardware reset line.
 */
export const PL330_SOFTWARE_RESET_EXEMPTIONS: readonly QuiescenceExemption[] = [
  {
    register: /^(CPC|SA|DA|CC|LC0_|LC1_)\d$/,
    reason: 'channel registers keep the last program’s values; DMAKILL does not clear them',
  },
  { register: /^CS\d$/, mask: 1 << 21, reason: 'CS.CNS keeps the security state of the last DMAGO' },
];

/** The quiescence spec of an `arm,pl330` model: random writes, random microcode programs, peripheral requests. */
export function pl330Scenario(options: Pl330ScenarioOptions): QuiescenceSpec<Pl330World> {
  checkScenarioOptions(options, ['reset', 'modelOptions', 'clauses', 'exemptions'], 'pl330Scenario');
  const registers = [
    ['INTEN', INTEN],
    ['INTCLR', INTCLR],
    ['DBGINST0', DBGINST0],
    ['DBGINST1', DBGINST1],
    ['DBGCMD', DBGCMD],
  ] as const;
  return {
    device: { name: '7ff00000.dma-controller', compatible: ['arm,pl330', 'arm,primecell'] },
    setup: () => {
      const sandbox = dmaSandbox();
      return {
        model: new Pl330Model({ ...options.modelOptions, dma: sandbox.dma }),
        dma: sandbox.dma,
        sandbox,
      };
    },
    actions: fc.oneof(
      {
        weight: 2,
        arbitrary: registerWrites<Pl330World>(
          registers.map(([name, offset]) => ({ region: 0, offset, name })),
          [PL330_REGION_SIZE],
        ),
      },
      { weight: 3, arbitrary: startProgram },
      { weight: 1, arbitrary: peripheral },
      { weight: 2, arbitrary: tickAction<Pl330World>() },
    ),
    stimuli: peripheral,
    reset: options.reset,
    ...(options.clauses === undefined ? {} : { clauses: options.clauses }),
    ...(options.exemptions === undefined ? {} : { exemptions: options.exemptions }),
  };
}
