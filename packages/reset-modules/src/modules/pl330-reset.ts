import { KernelError, type MmioDevice, type ResetHandler, type ResetTarget } from '@vfiokit/core';
import {
  CMD_DMAKILL,
  CR0,
  CS,
  DBG_BUSY,
  DBGCMD,
  DBGINST0,
  DBGINST1,
  DBGSTATUS,
  DS,
  DS_ST_KILL,
  DS_ST_STOP,
  ES,
  FSC,
  FSM,
  INTCLR,
  INTEN,
  INTSTATUS,
  PCELL_ID,
  PERIPH_ID,
} from '../models/pl330-regs.js';
import type { ResetModuleDefinition } from '../registry/reset-module.js';

/** The compatible string the PL330 module registers for (arm-pl330.yaml: "arm,pl330", "arm,primecell"). */
export const PL330_COMPATIBLE = 'arm,pl330';

/** Polls (one microsecond apart) before a wait is declared failed. */
export const PL330_RESET_POLLS = 5000;

function byteRegister(regs: MmioDevice, base: number): number {
  let value = 0;
  for (let i = 3; i >= 0; i--) value = value * 256 + (regs.read(base + i * 4, 4) & 0xff);
  return value >>> 0;
}

function waitDebugIdle(regs: MmioDevice, target: ResetTarget): void {
  // pl330.c _until_dmac_idle: DBGSTATUS bit 0 must read 0 before the debug registers are
  // written; the kernel gives it 5 ms (msecs_to_loops(5)), as PL330_RESET_POLLS × 1 µs does
  // here. The kernel logs "DMAC halted!" and skips; a reset cannot skip, so it fails.
  for (let polls = 0; (regs.read(DBGSTATUS, 4) & DBG_BUSY) !== 0; polls++) {
    if (polls >= PL330_RESET_POLLS)
      throw new KernelError('ETIMEDOUT', `${target.name}: PL330 debug interface stays busy`);
    target.delay(1);
  }
}

// drivers/dma/pl330.c _execute_DBGINSN with insn = DMAKILL, in its order since "dmaengine:
// pl330: Make sure the debug is idle before doing DMAGO" (TRM DDI 0424 example 2-1): wait until
// DBGSTATUS is idle; DBGINST0 = DMAKILL << 16 | channel << 8 | 1 for a channel thread
// (DMAKILL << 16 for the manager); DBGINST1 = insn[2..5] (0); DBGCMD = 0 executes. Writing
// DBGINST0/1 while the unit is busy loses them (the previous instruction would run again).
function kill(regs: MmioDevice, target: ResetTarget, channel: number | null, idleFirst: boolean): void {
  if (idleFirst) waitDebugIdle(regs, target);
  regs.write(DBGINST0, 4, channel === null ? CMD_DMAKILL << 16 : (CMD_DMAKILL << 16) | (channel << 8) | 1);
  regs.write(DBGINST1, 4, 0);
  // The pre-2019 kernel order (a mutant here): the instruction written first, the wait after.
  if (!idleFirst) waitDebugIdle(regs, target);
  regs.write(DBGCMD, 4, 0);
}

/**
 * vfiokit's PL330 reset module (Linux has none). Each step and why:
 *
 * 0. Check the PrimeCell IDs (PCELL_ID 0xB105F00D, part 0x330): the steps below drive the
 *    debug interface, which on any other device would be arbitrary register writes (`ENODEV`).
 * 1. DMAKILL the manager if it is not Stopped, FIRST: a running manager can DMAGO channels
 *    again after they are killed; killing it also clears a manager fault (FSM/FTM).
 * 2. DMAKILL every channel (count from CR0) that is neither Stopped nor already Killing, through
 *    the debug interface: the only way software can end a channel program, a DMAWFP/DMAWFE wait
 *    (which a peripheral request would otherwise resume) or a fault (FSC/FTCn), as pl330.c
 *    `_stop` does. Each command waits for DBGSTATUS idle before it writes DBGINST0/1 and DBGCMD,
 *    as `_execute_DBGINSN` does.
 * 3. Wait for idle: poll DS and every CS(n) until Stopped, and DBGSTATUS until not busy.
 *    KILLING drains outstanding bus transactions; until Stopped the thread can still move data.
 *    A busy debug unit would drop the next owner's first DBGCMD (`ETIMEDOUT` after
 *    {@link PL330_RESET_POLLS} µs).
 * 4. Route every event to the interrupt (INTEN = ~0), clear all (INTCLR = ~0), then INTEN = 0:
 *    INTCLR only clears events routed to interrupts, so plain events the last owner left
 *    pending (which would wake a DMAWFE of the next owner) need the routing first. The routing
 *    lasts two register writes; the host's vfio IRQ line is disabled or torn down around reset.
 * 5. Zero DBGINST0/1: they are readable and held the last debug instruction (a DMAGO address).
 * 6. Verify FSM, FSC, ES and INTSTATUS read 0, else `EIO`: a reset that did not clear them did not work.
 *
 * What it cannot reset: channel registers CPC, SA, DA, CC, LC0 and LC1 keep the last
 * program's values, because the debug interface only accepts DMAGO, DMASEV and DMAKILL.
 * Only a hardware reset line (the device tree's `resets`, "dma") clears them.
 */
export const pl330Reset: ResetHandler = (target) => runPl330Reset(target, NO_STEPS_OMITTED);

/** The steps of {@link pl330Reset}, named so a test can build a mutant without one. */
export type Pl330ResetStep =
  /** Waiting for DBGSTATUS idle BEFORE DBGINST0/1 are written; without it, after (the old order). */
  | 'debug-idle-first'
  | 'kill-manager'
  | 'kill-channels'
  | 'wait-idle'
  | 'route-events'
  | 'clear-events'
  | 'disable-interrupts'
  | 'clear-debug-registers'
  | 'verify';

const NO_STEPS_OMITTED: ReadonlySet<Pl330ResetStep> = new Set();

/**
 * {@link pl330Reset} with some steps left out — a deliberately broken module, for proving that
 * the quiescence property notices each step missing (mutation testing). Not for real use.
 */
export function pl330ResetWithout(...omit: readonly Pl330ResetStep[]): ResetHandler {
  const omitted = new Set(omit);
  return (target) => runPl330Reset(target, omitted);
}

function runPl330Reset(target: ResetTarget, omitted: ReadonlySet<Pl330ResetStep>): void {
  const step = (name: Pl330ResetStep): boolean => !omitted.has(name);
  const regs = target.regions[0];
  if (regs === undefined) throw new KernelError('ENOMEM', `${target.name}: region 0 cannot be mapped`);
  const pcell = byteRegister(regs, PCELL_ID);
  const periph = byteRegister(regs, PERIPH_ID);
  if (pcell !== 0xb105f00d || (periph & 0xfff) !== 0x330) {
    throw new KernelError(
      'ENODEV',
      `${target.name}: not a PL330 (periph 0x${periph.toString(16)}, cell 0x${pcell.toString(16)})`,
    );
  }
  const channels = ((regs.read(CR0, 4) >>> 4) & 7) + 1;

  const idleFirst = step('debug-idle-first');
  if (step('kill-manager') && (regs.read(DS, 4) & 0xf) !== DS_ST_STOP) kill(regs, target, null, idleFirst);
  if (step('kill-channels')) {
    for (let n = 0; n < channels; n++) {
      const state = regs.read(CS(n), 4) & 0xf;
      if (state !== DS_ST_STOP && state !== DS_ST_KILL) kill(regs, target, n, idleFirst);
    }
  }

  // One poll reads DBGSTATUS, DS and every CS(n), in that order, and returns a bit per unit
  // still busy (debug unit, manager, channel n): no allocation per poll; names only on timeout.
  const busy = (): number => {
    let left = 0;
    if ((regs.read(DBGSTATUS, 4) & DBG_BUSY) !== 0) left |= 1;
    if ((regs.read(DS, 4) & 0xf) !== DS_ST_STOP) left |= 2;
    for (let n = 0; n < channels; n++) if ((regs.read(CS(n), 4) & 0xf) !== DS_ST_STOP) left |= 4 << n;
    return left;
  };
  const busyNames = (left: number): string => {
    const names: string[] = [];
    if ((left & 1) !== 0) names.push('debug unit');
    if ((left & 2) !== 0) names.push('manager');
    for (let n = 0; n < channels; n++) if ((left & (4 << n)) !== 0) names.push(`channel ${n}`);
    return names.join(', ');
  };
  for (let polls = 0; step('wait-idle'); polls++) {
    const left = busy();
    if (left === 0) break;
    if (polls >= PL330_RESET_POLLS)
      throw new KernelError('ETIMEDOUT', `${target.name}: ${busyNames(left)} not stopped after DMAKILL`);
    target.delay(1);
  }

  if (step('route-events')) regs.write(INTEN, 4, 0xffff_ffff);
  if (step('clear-events')) regs.write(INTCLR, 4, 0xffff_ffff);
  if (step('disable-interrupts')) regs.write(INTEN, 4, 0);
  if (step('clear-debug-registers')) {
    regs.write(DBGINST0, 4, 0);
    regs.write(DBGINST1, 4, 0);
  }
  if (!step('verify')) return;

  const left: [string, number][] = [
    ['FSM', regs.read(FSM, 4)],
    ['FSC', regs.read(FSC, 4)],
    ['ES', regs.read(ES, 4)],
    ['INTSTATUS', regs.read(INTSTATUS, 4)],
  ];
  const dirty = left.filter(([, value]) => value !== 0);
  if (dirty.length > 0) {
    throw new KernelError(
      'EIO',
      `${target.name}: ${dirty.map(([name, value]) => `${name}=0x${value.toString(16)}`).join(' ')} after reset`,
    );
  }
}

/** vfiokit's PL330 module; not upstream. */
export const pl330ResetModule: ResetModuleDefinition = {
  compatible: PL330_COMPATIBLE,
  reset: pl330Reset,
  owner: 'vfiokit-pl330-reset',
  description:
    'ARM PL330: DMAKILL manager and channels via the debug interface, wait for Stopped, clear events and faults',
  upstream: false,
};
