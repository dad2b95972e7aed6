import { isKernelError, KernelError, type ResetHandler, rejectUnknownOptions } from '@vfiokit/core';
import fc from 'fast-check';
import type { DeviceModel } from '../models/device-model.js';
import type { CountingDmaPort } from './counting-dma-port.js';
import { IrqRecorder } from './irq-recorder.js';
import { modelTarget } from './model-target.js';

/** One step that drives a world: a register write, a DMA program start, an external event. */
export interface QuiescenceAction<W> {
  run(world: W): void;
  /** Readable form for fast-check's counterexample report. */
  toString(): string;
}

/**
 * What the property checks after the reset, each observed from outside the device — the bus
 * traffic on its counting `DmaPort`, the interrupt lines it drives into an {@link IrqRecorder},
 * and its guest-visible registers — never through the model's own `dmaActive()`/`irqAsserted()`
 * flags, so a model whose flags lie cannot hide a bad reset.
 * - `dma`: no bus access during the settle window (time passing, external stimuli such as
 *   frames or peripheral requests, but no register writes).
 * - `irq`: no interrupt line is asserted right after the reset, and none rises (an MSI
 *   counts) under the same stimuli. An enabled source or a latched status the stimuli cannot
 *   fire shows in the registers (`state`).
 * - `state`: every guest-visible register reads its power-on value, except exemptions, right
 *   after the reset and still after the settle window.
 */
export type QuiescenceClause = 'dma' | 'irq' | 'state';

/** A guest-visible register (or some of its bits) the reset cannot restore, and why. */
export interface QuiescenceExemption {
  /** The register name as the model's `guestState` spells it, or a pattern. */
  readonly register: string | RegExp;
  /** The bits exempted (default all). */
  readonly mask?: number;
  readonly reason: string;
}

/**
 * What one run works on: a fresh power-on device model and the counting DMA port it masters;
 * extend it with whatever the actions need (the memory programs live in, the IOMMU domain).
 */
export interface QuiescenceWorld {
  readonly model: DeviceModel;
  readonly dma: CountingDmaPort;
}

/** Everything the quiescence property needs to prove a reset module on a device model. */
export interface QuiescenceSpec<W extends QuiescenceWorld> {
  /** The device's name and compatible list, passed to the reset as its target. */
  readonly device: { readonly name: string; readonly compatible: readonly string[] };
  /** Builds the world of one run: a power-on model wired to a counting DMA port. */
  setup(): W;
  /** Drives the model to reachable states: random register writes, DMA programs, events, time. */
  readonly actions: fc.Arbitrary<QuiescenceAction<W>>;
  /** Events from outside the device after the reset that might wake it (default none). */
  readonly stimuli?: fc.Arbitrary<QuiescenceAction<W>>;
  readonly reset: ResetHandler;
  /** Clauses to check (default all three). */
  readonly clauses?: readonly QuiescenceClause[];
  readonly exemptions?: readonly QuiescenceExemption[];
  /** Model time watched after the reset (default 200 µs). */
  readonly settleMicroseconds?: number;
  /** Longest action sequence (default 24). */
  readonly maxActions?: number;
}

/** The error a failing quiescence run throws: the violations, one line each. */
export class QuiescenceError extends Error {
  readonly code = 'EQUIESCENCE' as const;
  readonly violations: readonly string[];

  constructor(violations: readonly string[]) {
    super(`reset left the device active:\n  ${violations.join('\n  ')}`);
    this.name = 'QuiescenceError';
    this.violations = violations;
  }
}

const SPEC_KEYS = [
  'device',
  'setup',
  'actions',
  'stimuli',
  'reset',
  'clauses',
  'exemptions',
  'settleMicroseconds',
  'maxActions',
] as const;
const CLAUSES: readonly QuiescenceClause[] = ['dma', 'irq', 'state'];

/**
 * Refuses a spec with a key the property does not know (`exemption` for `exemptions` would
 * otherwise prove nothing was exempt while meaning to), an unknown clause, or an exemption
 * with unknown keys: `EINVAL`.
 */
function checkSpec<W extends QuiescenceWorld>(spec: QuiescenceSpec<W>): void {
  rejectUnknownOptions(spec, [...SPEC_KEYS], 'QuiescenceSpec');
  for (const clause of spec.clauses ?? []) {
    if (!CLAUSES.includes(clause))
      throw new KernelError(
        'EINVAL',
        `QuiescenceSpec: unknown clause '${String(clause)}' (valid: ${CLAUSES.join(', ')})`,
      );
  }
  for (const exemption of spec.exemptions ?? [])
    rejectUnknownOptions(exemption, ['register', 'mask', 'reason'], 'QuiescenceExemption');
}

function exemptMask(exemptions: readonly QuiescenceExemption[], register: string): number {
  let mask = 0;
  if (exemptions.length === 0) return mask;
  for (const e of exemptions) {
    const hit = typeof e.register === 'string' ? e.register === register : e.register.test(register);
    if (hit) mask = (mask | (e.mask ?? 0xffff_ffff)) >>> 0;
  }
  return mask;
}

function hex(value: number): string {
  return `0x${value.toString(16)}`;
}

/**
 * One deterministic run: power on, apply `actions`, reset, check, apply `stimuli` while time
 * passes, check again. Returns the violations (empty when the reset proved quiescent).
 */
export function checkQuiescence<W extends QuiescenceWorld>(
  spec: QuiescenceSpec<W>,
  actions: readonly QuiescenceAction<W>[],
  stimuli: readonly QuiescenceAction<W>[] = [],
): string[] {
  checkSpec(spec);
  return runQuiescence(spec, actions, stimuli, new Map());
}

/**
 * {@link checkQuiescence} for a spec already checked: the property checks its spec once, not
 * once per run. `masks` caches each register's exempt bits (the exemptions are matched once
 * per register name, not per register per check).
 */
function runQuiescence<W extends QuiescenceWorld>(
  spec: QuiescenceSpec<W>,
  actions: readonly QuiescenceAction<W>[],
  stimuli: readonly QuiescenceAction<W>[],
  masks: Map<string, number>,
): string[] {
  const exemptions = spec.exemptions ?? [];
  const maskOf = (name: string): number => {
    let mask = masks.get(name);
    if (mask === undefined) {
      mask = exemptMask(exemptions, name);
      masks.set(name, mask);
    }
    return mask;
  };
  const clauses = new Set(spec.clauses ?? CLAUSES);
  const world = spec.setup();
  const { model, dma } = world;
  const irq = new IrqRecorder();
  model.connectIrq(irq);
  const powerOn = model.guestState();
  for (const action of actions) action.run(world);

  try {
    spec.reset(modelTarget(model, spec.device));
  } catch (error) {
    if (!isKernelError(error)) throw error;
    return [`reset failed: ${error.message}`];
  }

  const violations: string[] = [];
  const checkLines = (when: string): void => {
    if (!clauses.has('irq')) return;
    for (const line of irq.asserted()) violations.push(`${when}: interrupt line ${line} is asserted`);
  };
  const checkState = (when: string): void => {
    if (!clauses.has('state')) return;
    const now = model.guestState();
    for (const [name, initial] of powerOn) {
      const value = now.get(name);
      if (value === undefined) {
        violations.push(`${when}: ${name} is missing from guestState()`);
        continue;
      }
      const differs = ((value ^ initial) & ~maskOf(name)) >>> 0;
      if (differs !== 0) violations.push(`${when}: ${name} = ${hex(value)}, power-on ${hex(initial)}`);
    }
    for (const name of now.keys())
      if (!powerOn.has(name)) violations.push(`${when}: ${name} is not in the power-on guestState()`);
  };
  checkLines('after reset');
  checkState('after reset');

  dma.resetCount();
  irq.resetCount();
  const settle = spec.settleMicroseconds ?? 200;
  const slice = Math.max(1, Math.floor(settle / (stimuli.length + 1)));
  for (const stimulus of stimuli) {
    stimulus.run(world);
    model.tick(slice);
  }
  model.tick(settle);
  if (clauses.has('dma') && dma.accesses > 0)
    violations.push(`later: ${dma.accesses} DMA access(es) after reset`);
  if (clauses.has('irq')) {
    for (const [line, times] of irq.assertions())
      violations.push(`later: interrupt line ${line} asserted ${times} time(s) after reset`);
  }
  checkLines('at the end');
  // A register the reset restored must stay restored: a pending soft reset, a late completion or
  // a stimulus must not bring back the last owner's state (or make new state) on its own.
  if (violations.length === 0) checkState('later');
  return violations;
}

/** The quiescence property as a fast-check property, for `fc.assert` with your own parameters. */
export function quiescenceProperty<W extends QuiescenceWorld>(
  spec: QuiescenceSpec<W>,
): fc.IPropertyWithHooks<[QuiescenceAction<W>[], QuiescenceAction<W>[]]> {
  checkSpec(spec);
  const masks = new Map<string, number>();
  const stimuli: fc.Arbitrary<QuiescenceAction<W>[]> =
    spec.stimuli === undefined ? fc.constant([]) : fc.array(spec.stimuli, { maxLength: 6 });
  return fc.property(
    fc.array(spec.actions, { maxLength: spec.maxActions ?? 24 }),
    stimuli,
    (actions, later) => {
      const violations = runQuiescence(spec, actions, later, masks);
      if (violations.length > 0) throw new QuiescenceError(violations);
    },
  );
}

/**
 * Asserts the quiescence property: from any reachable state, after `spec.reset` the device
 * issues no bus access and raises no interrupt line, even under later stimuli, and its
 * guest-visible state equals power-on. Runs 1,000 cases unless `parameters` says otherwise; the seed is printed on failure
 * and replays with FC_SEED.
 */
export function assertQuiescence<W extends QuiescenceWorld>(
  spec: QuiescenceSpec<W>,
  parameters: fc.Parameters<[QuiescenceAction<W>[], QuiescenceAction<W>[]]> = {},
): void {
  // fast-check ignores a key it does not know: `{ numRun: 5 }` would silently run 1,000 cases.
  rejectUnknownOptions(parameters, FAST_CHECK_PARAMETERS, 'assertQuiescence');
  fc.assert(quiescenceProperty(spec), { numRuns: 1000, ...parameters });
}

/** Every key of `fc.Parameters`, listed as a record so the compiler keeps the list complete. */
const FAST_CHECK_PARAMETERS = Object.keys({
  seed: true,
  randomType: true,
  numRuns: true,
  maxSkipsPerRun: true,
  timeout: true,
  skipAllAfterTimeLimit: true,
  interruptAfterTimeLimit: true,
  markInterruptAsFailure: true,
  skipEqualValues: true,
  ignoreEqualValues: true,
  path: true,
  unbiased: true,
  verbose: true,
  examples: true,
  endOnFailure: true,
  reporter: true,
  asyncReporter: true,
  includeErrorInReport: true,
  logger: true,
  plugins: true,
} satisfies Record<keyof fc.Parameters<unknown>, true>) as (keyof fc.Parameters<unknown>)[];
