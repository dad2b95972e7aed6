import type { DmaPort, IommuFault } from '@vfiokit/core';
import { asIova, Pl330Mfifo } from './pl330-mfifo.js';
import {
  CC_DSTBRSTLEN_SHFT,
  CC_DSTBRSTSIZE_SHFT,
  CC_DSTINC,
  CC_SRCBRSTLEN_SHFT,
  CC_SRCBRSTSIZE_SHFT,
  CC_SRCINC,
  CMD_DMAEND,
  CMD_DMAFLUSHP,
  CMD_DMAKILL,
  CMD_DMALD,
  CMD_DMALP,
  CMD_DMALPEND,
  CMD_DMAMOV,
  CMD_DMANOP,
  CMD_DMARMB,
  CMD_DMASEV,
  CMD_DMAST,
  CMD_DMASTP,
  CMD_DMAWFP,
  CMD_DMAWMB,
  DS_ST_EXEC,
  DS_ST_FAULT,
  DS_ST_KILL,
  DS_ST_STOP,
  DS_ST_WFP,
  FT_CH_EVNT_ERR,
  FT_CH_PERIPH_ERR,
  FT_DATA_READ_ERR,
  FT_DATA_WRITE_ERR,
  FT_INSTR_FETCH_ERR,
  FT_MFIFO_ERR,
  FT_OPERAND_INVALID,
  FT_ST_DATA_UNAVAILABLE,
  FT_UNDEF_INSTR,
  PL330_EVENTS,
  PL330_PERIPHERALS,
} from './pl330-regs.js';

/** What a channel thread needs from its controller. */
export interface Pl330ChannelHost {
  readonly dma: DmaPort;
  /** DMASEV: signal event `n`. */
  signalEvent(event: number): void;
}

/** One instruction's length by opcode (pl330.c `SZ_*`); `0` marks an opcode the model does not execute. */
function instructionLength(opcode: number): number {
  if (opcode === CMD_DMAMOV) return 6;
  // DMASTP (0x29/0x2b) matches DMALPEND's mask (0b001x_1xxx) too: it is DMASTP, not a DMALPFE
  // with x = 1, and not in the subset.
  if ((opcode & 0xfd) === CMD_DMASTP) return 0;
  if ((opcode & 0xfd) === CMD_DMALP || (opcode & 0xe8) === CMD_DMALPEND) return 2;
  if (opcode === CMD_DMASEV || opcode === CMD_DMAFLUSHP || (opcode & 0xfc) === CMD_DMAWFP) return 2;
  if ((opcode & 0xfc) === CMD_DMALD || (opcode & 0xfc) === CMD_DMAST) return 1;
  if (opcode === CMD_DMAEND || opcode === CMD_DMAKILL || opcode === CMD_DMANOP) return 1;
  if (opcode === CMD_DMARMB || opcode === CMD_DMAWMB) return 1;
  return 0;
}

/**
 * A PL330 channel thread: its registers (CS, CPC, SA, DA, CC, LC0, LC1, FTC), its share of the
 * MFIFO, and an interpreter for the instruction subset DMAMOV, DMALD, DMAST, DMALP, DMALPEND,
 * DMASEV, DMAWFP, DMAKILL, DMAEND, DMANOP (plus DMARMB/DMAWMB/DMAFLUSHP, which have nothing to
 * wait for in this model). Instructions are fetched at CPC through the DMA port, so a program
 * in unmapped memory faults with `instr_fetch_err`; data accesses fault with
 * `data_read_err`/`data_write_err`. A fault stops the thread in FAULTING until a DMAKILL.
 */
export class Pl330Channel {
  state: number = DS_ST_STOP;
  pc = 0;
  sa = 0;
  da = 0;
  cc = 0;
  lc0 = 0;
  lc1 = 0;
  faultType = 0;
  nonSecure = false;
  /** The IOMMU fault behind the last bus error, for tests and reports. */
  lastFault: IommuFault | null = null;
  // Fetch and decode allocate nothing: one instruction buffer and its views, made once.
  private readonly insn: Uint8Array = new Uint8Array(6);
  private readonly opcodeView: Uint8Array = this.insn.subarray(0, 1);
  private readonly operandViews: readonly Uint8Array[] = [1, 2, 3, 4, 5, 6].map((n) =>
    this.insn.subarray(1, n),
  );
  private readonly mfifo: Pl330Mfifo;
  private waitingFor = -1;
  private killLeft = 0;
  // `Conditional` loads/stores (x = 1) run only after a DMAWFP set the request type.
  private requestType: 'single' | 'burst' | null = null;

  constructor(
    readonly id: number,
    private readonly host: Pl330ChannelHost,
    private readonly killMicroseconds: number,
  ) {
    this.mfifo = new Pl330Mfifo(host.dma);
  }

  powerOn(): void {
    this.state = DS_ST_STOP;
    this.pc = 0;
    this.sa = 0;
    this.da = 0;
    this.cc = 0;
    this.lc0 = 0;
    this.lc1 = 0;
    this.faultType = 0;
    this.nonSecure = false;
    this.lastFault = null;
    this.mfifo.clear();
    this.waitingFor = -1;
    this.killLeft = 0;
    this.requestType = null;
  }

  /** DMAGO from the manager: start at `address`. */
  start(address: number, nonSecure: boolean): void {
    this.pc = address;
    this.nonSecure = nonSecure;
    this.state = DS_ST_EXEC;
    this.mfifo.clear();
    this.requestType = null;
  }

  /** DMAKILL: the thread goes through KILLING to STOPPED; a fault is cleared (DDI 0424 2.7). */
  kill(): void {
    if (this.state === DS_ST_STOP) return;
    this.state = DS_ST_KILL;
    this.faultType = 0;
    this.mfifo.clear();
    this.waitingFor = -1;
    this.killLeft = this.killMicroseconds;
    if (this.killLeft === 0) this.state = DS_ST_STOP;
  }

  /** A peripheral request: a thread in DMAWFP for `peripheral` resumes. */
  peripheralRequest(peripheral: number): void {
    if (this.state === DS_ST_WFP && this.waitingFor === peripheral) {
      this.waitingFor = -1;
      this.state = DS_ST_EXEC;
    }
  }

  /** Whether the thread can still touch the bus (executing, waiting for a peripheral, or draining a kill). */
  get active(): boolean {
    return this.state === DS_ST_EXEC || this.state === DS_ST_WFP || this.state === DS_ST_KILL;
  }

  /** One microsecond: finish a kill, or execute up to `budget` instructions. */
  step(budget: number): void {
    if (this.state === DS_ST_KILL) {
      if (--this.killLeft <= 0) this.state = DS_ST_STOP;
      return;
    }
    for (let i = 0; i < budget && this.state === DS_ST_EXEC; i++) this.execute();
  }

  fault(type: number, fault: IommuFault | null = null): void {
    this.state = DS_ST_FAULT;
    this.faultType = (this.faultType | type) >>> 0;
    if (fault !== null) this.lastFault = fault;
  }

  private execute(): void {
    // Fetch the opcode, then only the operand bytes its length says follow: one bus access for
    // a one-byte instruction, two otherwise, each through the DMA port (and so the IOMMU).
    const insn = this.insn;
    const fetchFault = this.host.dma.read(asIova(this.pc), this.opcodeView);
    if (fetchFault !== null) {
      this.fault(FT_INSTR_FETCH_ERR, fetchFault);
      return;
    }
    const opcode = insn[0] ?? 0;
    const length = instructionLength(opcode);
    if (length === 0) {
      this.fault(FT_UNDEF_INSTR);
      return;
    }
    if (length > 1) {
      const operands = this.operandViews[length - 1] ?? this.opcodeView;
      const rest = this.host.dma.read(asIova(this.pc + 1), operands);
      if (rest !== null) {
        this.fault(FT_INSTR_FETCH_ERR, rest);
        return;
      }
    }
    const at = this.pc;
    this.pc = (this.pc + length) >>> 0;
    const arg = insn[1] ?? 0;
    if (opcode === CMD_DMAMOV) {
      const value =
        ((insn[2] ?? 0) | ((insn[3] ?? 0) << 8) | ((insn[4] ?? 0) << 16) | ((insn[5] ?? 0) << 24)) >>> 0;
      if (arg === 0) this.sa = value;
      else if (arg === 1) this.cc = value;
      else if (arg === 2) this.da = value;
      else this.fault(FT_OPERAND_INVALID);
    } else if ((opcode & 0xfd) === CMD_DMALP) {
      if ((opcode & 2) === 0) this.lc0 = arg;
      else this.lc1 = arg;
    } else if ((opcode & 0xe8) === CMD_DMALPEND) {
      this.loopEnd(opcode, arg, at);
    } else if ((opcode & 0xfc) === CMD_DMALD) {
      if (this.conditionHolds(opcode)) this.load();
    } else if ((opcode & 0xfc) === CMD_DMAST) {
      if (this.conditionHolds(opcode)) this.store();
    } else if (opcode === CMD_DMASEV) {
      const event = arg >>> 3;
      if (event >= PL330_EVENTS) this.fault(FT_CH_EVNT_ERR);
      else this.host.signalEvent(event);
    } else if ((opcode & 0xfc) === CMD_DMAWFP) {
      const peripheral = arg >>> 3;
      if (peripheral >= PL330_PERIPHERALS) {
        this.fault(FT_CH_PERIPH_ERR);
        return;
      }
      this.requestType = (opcode & 2) !== 0 ? 'burst' : 'single';
      this.waitingFor = peripheral;
      this.state = DS_ST_WFP;
    } else if (opcode === CMD_DMAEND) {
      this.state = DS_ST_STOP;
    } else if (opcode === CMD_DMAKILL) {
      this.kill();
    }
    // DMANOP, DMARMB, DMAWMB, DMAFLUSHP: nothing outstanding to wait for or flush in this model.
  }

  private conditionHolds(opcode: number): boolean {
    if ((opcode & 1) === 0) return true;
    return this.requestType === ((opcode & 2) !== 0 ? 'burst' : 'single');
  }

  private loopEnd(opcode: number, jump: number, at: number): void {
    const forever = (opcode & (1 << 4)) === 0;
    if (forever) {
      this.pc = (at - jump) >>> 0;
      return;
    }
    const counter = (opcode & (1 << 2)) === 0 ? 'lc0' : 'lc1';
    if (this[counter] !== 0) {
      this[counter]--;
      this.pc = (at - jump) >>> 0;
    }
  }

  private load(): void {
    const size = 1 << ((this.cc >>> CC_SRCBRSTSIZE_SHFT) & 7);
    const beats = ((this.cc >>> CC_SRCBRSTLEN_SHFT) & 0xf) + 1;
    if (size > 16) {
      this.fault(FT_OPERAND_INVALID);
      return;
    }
    if (!this.mfifo.fits(size * beats)) {
      this.fault(FT_MFIFO_ERR);
      return;
    }
    const increment = (this.cc & CC_SRCINC) !== 0;
    const done = this.mfifo.load(this.sa, size, beats, increment);
    if (increment) this.sa = (this.sa + done * size) >>> 0;
    if (this.mfifo.fault !== null) this.fault(FT_DATA_READ_ERR, this.mfifo.fault);
  }

  private store(): void {
    const size = 1 << ((this.cc >>> CC_DSTBRSTSIZE_SHFT) & 7);
    const beats = ((this.cc >>> CC_DSTBRSTLEN_SHFT) & 0xf) + 1;
    if (size > 16) {
      this.fault(FT_OPERAND_INVALID);
      return;
    }
    if (this.mfifo.length < size * beats) {
      this.fault(FT_ST_DATA_UNAVAILABLE);
      return;
    }
    const increment = (this.cc & CC_DSTINC) !== 0;
    const done = this.mfifo.store(this.da, size, beats, increment);
    if (increment) this.da = (this.da + done * size) >>> 0;
    if (this.mfifo.fault !== null) this.fault(FT_DATA_WRITE_ERR, this.mfifo.fault);
  }
}
