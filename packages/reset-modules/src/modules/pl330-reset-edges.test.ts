import { isKernelError, type KernelError, type MmioDevice, type ResetTarget } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import {
  CMD_DMAKILL,
  CR0,
  CS,
  DBGCMD,
  DBGINST0,
  DBGSTATUS,
  DS,
  DS_ST_EXEC,
  DS_ST_KILL,
  DS_ST_STOP,
  ES,
  FSC,
  FSM,
  INTSTATUS,
  PCELL_ID,
  PERIPH_ID,
} from '../models/pl330-regs.js';
import { PL330_RESET_POLLS, pl330Reset, pl330ResetWithout } from './pl330-reset.js';

// The paths of pl330Reset that a working Pl330Model never takes (a debug unit that stays busy,
// a thread DMAKILL cannot stop, a status register the reset cannot clear, a part that is not a
// PL330, CR0's channel count): driven through a scripted register file. Found by mutation
// testing (`npm run mutate -- reset-modules`): each test here kills mutants that survived.

interface StubOptions {
  /** CR0.num_chnls (channels − 1), bits 6:4. */
  readonly channels?: number;
  readonly pcell?: number;
  readonly periph?: number;
  /** DS state, read after each DBGCMD count. */
  readonly ds?: (commands: number) => number;
  /** CSn state. */
  readonly cs?: (n: number, commands: number) => number;
  /** DBGSTATUS busy, given how many DBGCMD writes happened. */
  readonly debugBusy?: (commands: number) => boolean;
  readonly status?: Partial<Record<'FSM' | 'FSC' | 'ES' | 'INTSTATUS', number>>;
}

function bytes(value: number): number[] {
  return [0, 1, 2, 3].map((i) => (value >>> (8 * i)) & 0xff);
}

function stubPl330(options: StubOptions = {}) {
  const log: string[] = [];
  let commands = 0;
  let delays = 0;
  const pcell = bytes(options.pcell ?? 0xb105f00d);
  const periph = bytes(options.periph ?? 0x00241330);
  const channels = options.channels ?? 8;
  const regs: MmioDevice = {
    name: 'pl330-stub',
    size: 0x1000,
    read(offset) {
      log.push(`r ${offset.toString(16)}`);
      if (offset >= PCELL_ID && offset < PCELL_ID + 16) return pcell[(offset - PCELL_ID) / 4] ?? 0;
      if (offset >= PERIPH_ID && offset < PERIPH_ID + 16) return periph[(offset - PERIPH_ID) / 4] ?? 0;
      if (offset === CR0) return ((channels - 1) & 7) << 4;
      if (offset === DS) return options.ds?.(commands) ?? DS_ST_STOP;
      if (offset === DBGSTATUS) return options.debugBusy?.(commands) ? 1 : 0;
      if (offset >= CS(0) && offset < CS(8) && offset % 8 === 0)
        return options.cs?.((offset - CS(0)) / 8, commands) ?? DS_ST_STOP;
      if (offset === FSM) return options.status?.FSM ?? 0;
      if (offset === FSC) return options.status?.FSC ?? 0;
      if (offset === ES) return options.status?.ES ?? 0;
      if (offset === INTSTATUS) return options.status?.INTSTATUS ?? 0;
      return 0;
    },
    write(offset, _size, value) {
      log.push(`w ${offset.toString(16)} ${value.toString(16)}`);
      if (offset === DBGCMD) commands++;
    },
  };
  const target: ResetTarget = {
    name: 'stub.dma',
    compatible: ['arm,pl330'],
    regions: [regs],
    delay: (us) => {
      delays += us;
    },
  };
  return { target, log, delays: () => delays, commands: () => commands };
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** The KernelError `f` throws, checked to carry `code`; `message` without the "CODE: " prefix. */
function kernelError(f: () => unknown, code: string): { readonly message: string } {
  const error = thrown(f);
  expect(isKernelError(error, code as never)).toBe(true);
  const message = (error as KernelError).message;
  expect(message.startsWith(`${code}: `)).toBe(true);
  return { message: message.slice(code.length + 2) };
}

describe('pl330Reset on a scripted register file (paths a working model never takes)', () => {
  it('needs region 0: ENOMEM naming the device', () => {
    const error = kernelError(
      () => pl330Reset({ name: 'stub.dma', compatible: ['arm,pl330'], regions: [], delay: () => {} }),
      'ENOMEM',
    );
    expect(error.message).toBe('stub.dma: region 0 cannot be mapped');
  });

  it('ENODEV when only one of the PrimeCell IDs matches: the cell ID, or the part number 0x330', () => {
    const wrongPart = stubPl330({ periph: 0x00241331 });
    const error = kernelError(() => pl330Reset(wrongPart.target), 'ENODEV');
    expect(error.message).toBe('stub.dma: not a PL330 (periph 0x241331, cell 0xb105f00d)');
    expect(wrongPart.log.every((e) => e.startsWith('r '))).toBe(true);
    const wrongCell = stubPl330({ pcell: 0xb105f00e });
    expect(kernelError(() => pl330Reset(wrongCell.target), 'ENODEV').message).toContain('cell 0xb105f00e');
    expect(wrongCell.log.every((e) => e.startsWith('r '))).toBe(true);
  });

  it('an idle PL330 gets no DMAKILL at all: the manager and the threads are killed only when not Stopped', () => {
    const idle = stubPl330();
    pl330Reset(idle.target);
    expect(idle.commands()).toBe(0);
    expect(idle.log.filter((e) => e.startsWith(`w ${DBGINST0.toString(16)} `) && e !== 'w d08 0')).toEqual(
      [],
    );
  });

  it('reads CS(n) only for the channels CR0 reports (num_chnls + 1), and kills only the live ones', () => {
    const stub = stubPl330({
      channels: 2,
      cs: (n, commands) => (n === 1 && commands === 0 ? DS_ST_EXEC : DS_ST_STOP),
    });
    pl330Reset(stub.target);
    const csReads = stub.log.filter((e) => /^r 1[0-3][08]$/.test(e));
    expect(new Set(csReads)).toEqual(new Set(['r 100', 'r 108']));
    // One DMAKILL, on channel 1: DBGINST0 = DMAKILL << 16 | 1 << 8 | 1.
    expect(stub.commands()).toBe(1);
    expect(stub.log).toContain(`w d08 ${((CMD_DMAKILL << 16) | (1 << 8) | 1).toString(16)}`);
  });

  it('a channel already Killing gets no second DMAKILL; the reset only waits for it to stop', () => {
    let reads = 0; // channel 2 reads Killing once (the kill loop), then Stopped
    const stub = stubPl330({ cs: (n) => (n === 2 && reads++ === 0 ? DS_ST_KILL : DS_ST_STOP) });
    pl330Reset(stub.target);
    expect(stub.commands()).toBe(0);
  });

  it('a debug unit that never goes idle: ETIMEDOUT after PL330_RESET_POLLS µs, before any DBGINST write', () => {
    const stub = stubPl330({ ds: () => DS_ST_EXEC, debugBusy: () => true });
    const error = kernelError(() => pl330Reset(stub.target), 'ETIMEDOUT');
    expect(error.message).toBe('stub.dma: PL330 debug interface stays busy');
    expect(stub.delays()).toBe(PL330_RESET_POLLS);
    expect(stub.log.filter((e) => e.startsWith('w '))).toEqual([]);
  });

  it('threads that DMAKILL does not stop: ETIMEDOUT after PL330_RESET_POLLS µs naming each, the busy debug unit and the manager included', () => {
    const stub = stubPl330({
      ds: () => DS_ST_EXEC,
      cs: (n) => (n === 3 ? DS_ST_EXEC : DS_ST_STOP),
      // Busy only after the last of the two DMAKILLs (manager, channel 3), and for good.
      debugBusy: (commands) => commands >= 2,
    });
    const error = kernelError(() => pl330Reset(stub.target), 'ETIMEDOUT');
    expect(error.message).toBe('stub.dma: debug unit, manager, channel 3 not stopped after DMAKILL');
    expect(stub.delays()).toBe(PL330_RESET_POLLS);
    expect(stub.commands()).toBe(2);
  });

  it('verifies FSM, FSC, ES and INTSTATUS read 0 afterwards, else EIO listing what is left', () => {
    const stub = stubPl330({ status: { FSC: 0x4, INTSTATUS: 0x10 } });
    const error = kernelError(() => pl330Reset(stub.target), 'EIO');
    expect(error.message).toBe('stub.dma: FSC=0x4 INTSTATUS=0x10 after reset');
    for (const [name, value] of [
      ['FSM', 1],
      ['ES', 0x200],
    ] as const) {
      const one = stubPl330({ status: { [name]: value } });
      expect(kernelError(() => pl330Reset(one.target), 'EIO').message).toBe(
        `stub.dma: ${name}=0x${value.toString(16)} after reset`,
      );
    }
    // The 'verify' step left out (a test mutant) does not check.
    expect(() => pl330ResetWithout('verify')(stubPl330({ status: { FSM: 1 } }).target)).not.toThrow();
  });

  it("pl330ResetWithout('debug-idle-first') is the old order: DBGINST0/1 written, then DBGSTATUS polled, then DBGCMD", () => {
    const stub = stubPl330({ ds: (commands) => (commands === 0 ? DS_ST_EXEC : DS_ST_STOP) });
    pl330ResetWithout('debug-idle-first')(stub.target);
    const start = stub.log.findIndex((e) => e.startsWith('w d08 '));
    expect(stub.log.slice(start, start + 4)).toEqual(['w d08 10000', 'w d0c 0', 'r d00', 'w d04 0']);
  });

  it("pl330ResetWithout('kill-channels') leaves a live channel alone, and the wait for idle then times out on it", () => {
    const stub = stubPl330({ cs: (n) => (n === 5 ? DS_ST_EXEC : DS_ST_STOP) });
    const error = kernelError(() => pl330ResetWithout('kill-channels')(stub.target), 'ETIMEDOUT');
    expect(error.message).toBe('stub.dma: channel 5 not stopped after DMAKILL');
    expect(stub.commands()).toBe(0);
  });
});
