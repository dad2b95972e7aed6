import { describe, expect, it } from 'vitest';
import { dmaSandbox, SANDBOX_IOVA } from '../testing/dma-sandbox.js';
import { pl330DebugGo } from '../testing/scenarios/pl330.js';
import { Pl330Model } from './pl330.js';
import { assemblePl330 } from './pl330-microcode.js';
import {
  CMD_DMAGO,
  CMD_DMAKILL,
  CMD_DMANOP,
  CMD_DMASEV,
  CS,
  DBGCMD,
  DBGINST0,
  DBGINST1,
  DS,
  DS_ST_FAULT,
  DS_ST_KILL,
  DS_ST_STOP,
  DS_ST_WFP,
  ES,
  FSM,
  FTM,
  FTM_DBG_INSTR,
  FTM_DMAGO_ERR,
  FTM_OPERAND_INVALID,
  INTCLR,
  INTEN,
} from './pl330-regs.js';

// The PL330 debug interface (TRM DDI 0424 "Debug instruction registers"; pl330.c
// _execute_DBGINSN builds DBGINST0 = insn[1] << 24 | insn[0] << 16 | chan << 8 | thread) on the
// paths the reset module and the scenarios do not take. Found by mutation testing
// (`npm run mutate -- reset-modules`): each test here kills mutants that survived.

/** A model with channel 0 waiting in DMAWFP for peripheral 1 (active, not Stopped). */
function waitingChannel(options: { killMicroseconds?: number } = {}) {
  const sandbox = dmaSandbox();
  const model = new Pl330Model({ dma: sandbox.dma, ...options });
  sandbox.writeIova(SANDBOX_IOVA, assemblePl330([{ op: 'WFP', peripheral: 1 }, { op: 'END' }]));
  pl330DebugGo(model, 0, SANDBOX_IOVA);
  model.tick(1);
  expect(model.read(CS(0), 4) & 0xf).toBe(DS_ST_WFP);
  return model;
}

function debug(model: Pl330Model, inst0: number, inst1 = 0, command = 0): void {
  model.write(DBGINST0, 4, inst0 >>> 0);
  model.write(DBGINST1, 4, inst1 >>> 0);
  model.write(DBGCMD, 4, command);
}

const onChannel = (opcode: number, channel: number, arg = 0): number =>
  ((arg << 24) | (opcode << 16) | (channel << 8) | 1) >>> 0;
const onManager = (opcode: number, arg = 0): number => ((arg << 24) | (opcode << 16)) >>> 0;

describe('Pl330Model debug interface', () => {
  it('DBGCMD executes only with bits 1:0 = 0b00 (the other encodings are reserved)', () => {
    const model = waitingChannel({ killMicroseconds: 0 });
    for (const command of [1, 2, 3]) {
      debug(model, onChannel(CMD_DMAKILL, 0), 0, command);
      expect(model.read(CS(0), 4) & 0xf).toBe(DS_ST_WFP);
    }
    debug(model, onChannel(CMD_DMAKILL, 0));
    expect(model.read(CS(0), 4) & 0xf).toBe(DS_ST_STOP);
  });

  it('a DBGCMD while DBGSTATUS is busy is lost', () => {
    const model = new Pl330Model({ dma: dmaSandbox().dma, debugBusyMicroseconds: 3 });
    model.write(INTEN, 4, 1 << 2); // so that INTCLR can clear event 2
    debug(model, onManager(CMD_DMASEV, 2 << 3)); // taken: event 2, the unit goes busy
    expect(model.read(ES, 4)).toBe(1 << 2);
    model.write(INTCLR, 4, 1 << 2);
    model.write(DBGCMD, 4, 0); // busy: the DMASEV does not run again
    expect(model.read(ES, 4)).toBe(0);
    model.tick(3);
    model.write(DBGCMD, 4, 0); // idle: it does
    expect(model.read(ES, 4)).toBe(1 << 2);
  });

  it('a manager DMAKILL (thread bit 0) touches no channel, even with channel bits 0', () => {
    const model = waitingChannel();
    debug(model, onManager(CMD_DMAKILL));
    expect(model.read(CS(0), 4) & 0xf).toBe(DS_ST_WFP);
    expect(model.read(DS, 4) & 0xf).toBe(DS_ST_STOP);
  });

  it('DMASEV through the debug interface signals event insn[1] >> 3, on a channel thread or the manager', () => {
    const model = new Pl330Model({ dma: dmaSandbox().dma });
    debug(model, onChannel(CMD_DMASEV, 3, 5 << 3));
    expect(model.read(ES, 4)).toBe(1 << 5);
    debug(model, onManager(CMD_DMASEV, 31 << 3));
    expect(model.read(ES, 4)).toBe(((1 << 31) | (1 << 5)) >>> 0);
    expect(model.read(FSM, 4)).toBe(0);
  });

  it('a faulting manager executes only DMAKILL: DMASEV and DMAGO are refused with dbg_instr and start nothing', () => {
    const sandbox = dmaSandbox();
    const model = new Pl330Model({ dma: sandbox.dma });
    sandbox.writeIova(SANDBOX_IOVA, assemblePl330([{ op: 'WFP', peripheral: 1 }, { op: 'END' }]));
    debug(model, onManager(CMD_DMANOP)); // not a debug instruction: the manager faults
    expect(model.read(DS, 4) & 0xf).toBe(DS_ST_FAULT);
    expect(model.read(FTM, 4)).toBe(FTM_DBG_INSTR);
    debug(model, onManager(CMD_DMASEV, 4 << 3));
    expect(model.read(ES, 4)).toBe(0);
    pl330DebugGo(model, 0, SANDBOX_IOVA);
    model.tick(1);
    expect(model.read(CS(0), 4) & 0xf).toBe(DS_ST_STOP);
    expect(model.read(FTM, 4)).toBe(FTM_DBG_INSTR);
    debug(model, onManager(CMD_DMAKILL));
    expect(model.read(DS, 4) & 0xf).toBe(DS_ST_STOP);
    expect(model.read(FTM, 4)).toBe(0);
  });

  it('a channel in Faulting refuses a debug DMASEV (dbg_instr) and signals nothing', () => {
    const model = new Pl330Model({ dma: dmaSandbox().dma });
    debug(model, onChannel(CMD_DMANOP, 4));
    expect(model.read(CS(4), 4) & 0xf).toBe(DS_ST_FAULT);
    debug(model, onChannel(CMD_DMASEV, 4, 6 << 3));
    expect(model.read(ES, 4)).toBe(0);
  });

  it('DMAGO: channel 7 starts; a channel number past 7 is operand_invalid and starts nothing; a Secure DMAGO is dmago_err', () => {
    const sandbox = dmaSandbox();
    sandbox.writeIova(SANDBOX_IOVA, assemblePl330([{ op: 'WFP', peripheral: 1 }, { op: 'END' }]));
    const model = new Pl330Model({ dma: sandbox.dma });
    pl330DebugGo(model, 7, SANDBOX_IOVA);
    model.tick(1);
    expect(model.read(CS(7), 4) & 0xf).toBe(DS_ST_WFP);
    debug(model, onManager(CMD_DMAGO | 2, 8), SANDBOX_IOVA); // channel 8 & 7 would be channel 0
    model.tick(1);
    expect(model.read(CS(0), 4) & 0xf).toBe(DS_ST_STOP);
    expect(model.read(FTM, 4)).toBe(FTM_OPERAND_INVALID);
    const secure = new Pl330Model({ dma: sandbox.dma });
    debug(secure, onManager(CMD_DMAGO, 1), SANDBOX_IOVA);
    expect(secure.read(FTM, 4)).toBe(FTM_DMAGO_ERR);
    expect(secure.read(CS(1), 4) & 0xf).toBe(DS_ST_STOP);
  });

  it('DMAKILL of a Stopped channel does nothing (no Killing period); of a live one it drains through Killing', () => {
    const model = waitingChannel({ killMicroseconds: 4 });
    debug(model, onChannel(CMD_DMAKILL, 2));
    expect(model.read(CS(2), 4) & 0xf).toBe(DS_ST_STOP);
    debug(model, onChannel(CMD_DMAKILL, 0));
    expect(model.read(CS(0), 4) & 0xf).toBe(DS_ST_KILL);
    model.tick(4);
    expect(model.read(CS(0), 4) & 0xf).toBe(DS_ST_STOP);
  });

  it('hardwareReset returns CSn to 0: a Non-secure thread loses CS.CNS', () => {
    const model = waitingChannel();
    expect(model.read(CS(0), 4) >>> 21).toBe(1);
    model.hardwareReset();
    expect(model.read(CS(0), 4)).toBe(0);
  });

  it('runs at most instructionsPerMicrosecond instructions per microsecond', () => {
    const sandbox = dmaSandbox();
    const model = new Pl330Model({ dma: sandbox.dma, instructionsPerMicrosecond: 1 });
    sandbox.writeIova(
      SANDBOX_IOVA,
      assemblePl330([{ op: 'NOP' }, { op: 'NOP' }, { op: 'NOP' }, { op: 'END' }]),
    );
    pl330DebugGo(model, 0, SANDBOX_IOVA);
    model.tick(1);
    expect(model.read(CS(0) + 4, 4)).toBe(SANDBOX_IOVA + 1);
    model.tick(1);
    expect(model.read(CS(0) + 4, 4)).toBe(SANDBOX_IOVA + 2);
  });
});
