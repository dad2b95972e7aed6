import { KernelError, rejectUnknownOptions } from '@vfiokit/core';
import {
  CMD_DMAEND,
  CMD_DMAGO,
  CMD_DMAKILL,
  CMD_DMALD,
  CMD_DMALP,
  CMD_DMALPEND,
  CMD_DMAMOV,
  CMD_DMANOP,
  CMD_DMASEV,
  CMD_DMAST,
  CMD_DMAWFP,
} from './pl330-regs.js';

/** One PL330 instruction of the subset the model executes. */
export type Pl330Instruction =
  | { readonly op: 'MOV'; readonly reg: 'SAR' | 'CCR' | 'DAR'; readonly value: number }
  | { readonly op: 'LD' }
  | { readonly op: 'ST' }
  | { readonly op: 'LP'; readonly counter: 0 | 1; readonly iterations: number }
  | {
      readonly op: 'LPEND';
      readonly counter: 0 | 1;
      readonly backwardJump: number;
      readonly forever?: boolean;
    }
  | { readonly op: 'SEV'; readonly event: number }
  | { readonly op: 'WFP'; readonly peripheral: number }
  | { readonly op: 'GO'; readonly channel: number; readonly address: number; readonly nonSecure: boolean }
  | { readonly op: 'KILL' }
  | { readonly op: 'END' }
  | { readonly op: 'NOP' };

function byte(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xff)
    throw new KernelError('EINVAL', `${what} ${value} does not fit a byte`);
  return value;
}

// pl330.c masks event and peripheral numbers to 5 bits (`ev &= 0x1f`) and the DMAGO channel
// to 3 (`chan & 0x7`); a value that does not fit would silently become another one, so refuse it.
function field(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw new KernelError('EINVAL', `${what} ${value} is outside 0..${max}`);
  return value;
}

// Pushes `value` as four little-endian bytes (no intermediate array per instruction).
function pushU32le(out: number[], value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff)
    throw new KernelError('EINVAL', `${value} is not a u32`);
  out.push(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff);
}

/** DMAMOV's rd operand by register name. */
const MOV_REGISTER: Readonly<Record<'SAR' | 'CCR' | 'DAR', number>> = { SAR: 0, CCR: 1, DAR: 2 };

/** The fields each instruction has (`op` included). */
const INSTRUCTION_FIELDS: Readonly<Record<Pl330Instruction['op'], readonly string[]>> = {
  MOV: ['op', 'reg', 'value'],
  LD: ['op'],
  ST: ['op'],
  LP: ['op', 'counter', 'iterations'],
  LPEND: ['op', 'counter', 'backwardJump', 'forever'],
  SEV: ['op', 'event'],
  WFP: ['op', 'peripheral'],
  GO: ['op', 'channel', 'address', 'nonSecure'],
  KILL: ['op'],
  END: ['op'],
  NOP: ['op'],
};

/**
 * Encodes one instruction as drivers/dma/pl330.c's `_emit_*` helpers do: DMAMOV 0xbc rd imm32;
 * DMALP 0x20 | lc << 1, iterations − 1; DMALPEND 0x28 | nf << 4 | lc << 2 (nf = 0: forever), jump;
 * DMASEV/DMAWFP number << 3; DMAGO 0xa0 | ns << 1, channel, imm32; DMALD 0x04; DMAST 0x08.
 */
export function encodePl330(instruction: Pl330Instruction): number[] {
  const out: number[] = [];
  emit(instruction, out);
  return out;
}

// encodePl330 appending to `out`: assemblePl330 encodes a whole program into one array. Each
// instruction is still checked (it is the caller's object), but nothing is allocated for it.
function emit(instruction: Pl330Instruction, out: number[]): void {
  // A misspelt field (`forver`) would silently assemble another instruction: refuse it.
  // Own keys only: `op: 'toString'` must be EINVAL, not Object.prototype's method.
  const fields = Object.hasOwn(INSTRUCTION_FIELDS, instruction.op)
    ? INSTRUCTION_FIELDS[instruction.op]
    : undefined;
  if (fields === undefined)
    throw new KernelError('EINVAL', `encodePl330: unknown instruction ${JSON.stringify(instruction.op)}`);
  rejectUnknownOptions(instruction, fields as readonly (keyof Pl330Instruction & string)[], 'encodePl330');
  switch (instruction.op) {
    case 'MOV':
      out.push(CMD_DMAMOV, MOV_REGISTER[instruction.reg]);
      pushU32le(out, instruction.value);
      return;
    case 'LD':
      out.push(CMD_DMALD);
      return;
    case 'ST':
      out.push(CMD_DMAST);
      return;
    case 'LP':
      out.push(
        CMD_DMALP | (instruction.counter << 1),
        byte(instruction.iterations - 1, 'DMALP iterations − 1'),
      );
      return;
    case 'LPEND':
      // `if (!forever) buf[0] |= (1 << 4)`: nf = 0 makes DMALPFE, a loop without a counter.
      out.push(
        CMD_DMALPEND | (instruction.forever === true ? 0 : 1 << 4) | (instruction.counter << 2),
        byte(instruction.backwardJump, 'DMALPEND jump'),
      );
      return;
    case 'SEV':
      out.push(CMD_DMASEV, field(instruction.event, 31, 'event') << 3);
      return;
    case 'WFP':
      out.push(CMD_DMAWFP, field(instruction.peripheral, 31, 'peripheral') << 3);
      return;
    case 'GO':
      out.push(CMD_DMAGO | (instruction.nonSecure ? 2 : 0), field(instruction.channel, 7, 'channel'));
      pushU32le(out, instruction.address);
      return;
    case 'KILL':
      out.push(CMD_DMAKILL);
      return;
    case 'END':
      out.push(CMD_DMAEND);
      return;
    case 'NOP':
      out.push(CMD_DMANOP);
      return;
  }
}

/** Encodes a program; `LPEND` jumps are given in bytes from the DMALPEND back to the loop start. */
export function assemblePl330(program: readonly Pl330Instruction[]): Uint8Array {
  const out: number[] = [];
  for (const instruction of program) emit(instruction, out);
  return Uint8Array.from(out);
}

/**
 * A CCR value: burst size in bytes (1–16, a power of two), burst length in beats (1–16), and
 * address increment, the same for source and destination (pl330.c `_prepare_ccr`).
 */
export function pl330Ccr(options: {
  readonly burstBytes: number;
  readonly burstLength: number;
  readonly increment: boolean;
}): number {
  rejectUnknownOptions(options, ['burstBytes', 'burstLength', 'increment'], 'pl330Ccr');
  const size = Math.log2(options.burstBytes);
  if (!Number.isInteger(size) || size < 0 || size > 4)
    throw new KernelError('EINVAL', `burst size ${options.burstBytes}`);
  if (!Number.isInteger(options.burstLength) || options.burstLength < 1 || options.burstLength > 16) {
    throw new KernelError('EINVAL', `burst length ${options.burstLength}`);
  }
  const len = options.burstLength - 1;
  const inc = options.increment ? 1 : 0;
  return (inc | (size << 1) | (len << 4) | (inc << 14) | (size << 15) | (len << 18)) >>> 0;
}
