import { type DmaPort, type IommuFault, type MmioDevice, rejectUnknownOptions } from '@vfiokit/core';
import type { DeviceModel } from './device-model.js';
import { IrqLines, type IrqSink } from './irq-lines.js';
import { Pl330Channel } from './pl330-channel.js';
import * as R from './pl330-regs.js';
import { WordRegisterDevice } from './register-access.js';

/** The names of the event interrupt outputs irq[0..31], made once. */
const EVENT_LINES: readonly string[] = Array.from({ length: R.PL330_EVENTS }, (_, n) => `irq${n}`);

/** The registers guestState() reports, by name, in its order; the table is built once. */
const GUEST_REGISTERS: readonly (readonly [string, number])[] = [
  ['DS', R.DS],
  ['DPC', R.DPC],
  ['INTEN', R.INTEN],
  ['ES', R.ES],
  ['INTSTATUS', R.INTSTATUS],
  ['FSM', R.FSM],
  ['FSC', R.FSC],
  ['FTM', R.FTM],
  ['DBGSTATUS', R.DBGSTATUS],
  ['DBGINST0', R.DBGINST0],
  ['DBGINST1', R.DBGINST1],
  ...Array.from({ length: R.PL330_CHANNELS }, (_, n) => [
    [`FTC${n}`, R.FTC(n)] as const,
    [`CS${n}`, R.CS(n)] as const,
    [`CPC${n}`, R.CPC(n)] as const,
    [`SA${n}`, R.SA(n)] as const,
    [`DA${n}`, R.DA(n)] as const,
    [`CC${n}`, R.CC(n)] as const,
    [`LC0_${n}`, R.LC0(n)] as const,
    [`LC1_${n}`, R.LC1(n)] as const,
  ]).flat(),
];

/** Options of a {@link Pl330Model}; unknown keys are refused with `EINVAL`. */
export interface Pl330Options {
  /** The controller's bus master port (instruction fetch and data). */
  readonly dma: DmaPort;
  /** Instructions each executing channel runs per microsecond (default 4). */
  readonly instructionsPerMicrosecond?: number;
  /** Microseconds a DMAKILL takes to drain (default 1; `Infinity` never completes). */
  readonly killMicroseconds?: number;
  /** Microseconds R.DBGSTATUS stays busy after a R.DBGCMD (default 0). */
  readonly debugBusyMicroseconds?: number;
}

/**
 * A register-level model of the ARM PL330 DMA controller (`arm,pl330`, AMBA id 0x00041330):
 * a manager thread and eight channel threads, the debug interface (R.DBGSTATUS, R.DBGCMD,
 * R.DBGINST0/1) through which software issues DMAGO, DMASEV and DMAKILL, events and interrupts
 * (R.INTEN, R.ES, R.INTSTATUS, R.INTCLR), fault status and type (R.FSM, R.FSC, R.FTM, R.FTC), configuration
 * (R.CR0–R.CR4, R.CRD) and the PrimeCell ID registers. Channel programs are fetched and executed
 * through `dma`, so every access is translated by the IOMMU domain behind it.
 */
export class Pl330Model extends WordRegisterDevice implements DeviceModel {
  override readonly name = 'pl330';
  override readonly size: number = R.PL330_REGION_SIZE;
  readonly regions: readonly MmioDevice[];
  readonly channels: readonly Pl330Channel[];
  private readonly budget: number;
  private readonly debugBusyMicroseconds: number;
  private managerState = R.DS_ST_STOP;
  private managerFaultType = 0;
  private inten = 0;
  private es = 0;
  private dbgInst0 = 0;
  private dbgInst1 = 0;
  private debugBusyLeft = 0;
  // irq_abort (any fault) and irq[n] (event n routed to the interrupt by INTEN), as DDI 0424 names the outputs.
  private readonly irq = new IrqLines(
    () => this.irqLevels(),
    () => this.irqFingerprint(),
  );

  constructor(options: Pl330Options) {
    super();
    rejectUnknownOptions(
      options,
      ['dma', 'instructionsPerMicrosecond', 'killMicroseconds', 'debugBusyMicroseconds'],
      'Pl330Model',
    );
    this.budget = options.instructionsPerMicrosecond ?? 4;
    this.debugBusyMicroseconds = options.debugBusyMicroseconds ?? 0;
    const host = { dma: options.dma, signalEvent: (event: number) => this.signalEvent(event) };
    this.channels = Array.from(
      { length: R.PL330_CHANNELS },
      (_, id) => new Pl330Channel(id, host, options.killMicroseconds ?? 1),
    );
    this.regions = [this];
  }

  connectIrq(sink: IrqSink): void {
    this.irq.connect(sink);
  }

  protected override afterAccess(): void {
    this.irq.update();
  }

  private *irqLevels(): Iterable<readonly [string, boolean]> {
    yield ['irq_abort', this.faultStatusManager() !== 0 || this.faultStatusChannels() !== 0];
    const routed = this.es & this.inten;
    for (let n = 0; n < R.PL330_EVENTS; n++) yield [EVENT_LINES[n] ?? `irq${n}`, ((routed >>> n) & 1) !== 0];
  }

  // Every level irqLevels() yields in one number: the routed events (bits 0–31) and the
  // abort line (2^32). Equal fingerprints mean equal levels, so IrqLines skips the sample.
  private irqFingerprint(): number {
    const abort = this.faultStatusManager() !== 0 || this.faultStatusChannels() !== 0;
    return ((this.es & this.inten) >>> 0) + (abort ? 0x1_0000_0000 : 0);
  }

  hardwareReset(): void {
    for (const channel of this.channels) channel.powerOn();
    this.managerState = R.DS_ST_STOP;
    this.managerFaultType = 0;
    this.inten = 0;
    this.es = 0;
    this.dbgInst0 = 0;
    this.dbgInst1 = 0;
    this.debugBusyLeft = 0;
    this.irq.update();
  }

  tick(microseconds: number): void {
    this.run(microseconds);
    this.irq.update();
  }

  private run(microseconds: number): void {
    for (let t = 0; t < microseconds; t++) {
      if (this.debugBusyLeft > 0) this.debugBusyLeft--;
      let busy = this.debugBusyLeft > 0;
      for (const channel of this.channels) {
        channel.step(this.budget);
        busy ||= channel.active;
      }
      if (!busy) return;
    }
  }

  /** A peripheral's DMA request line: wakes channels waiting in DMAWFP for it. */
  peripheralRequest(peripheral: number): void {
    for (const channel of this.channels) channel.peripheralRequest(peripheral);
    this.irq.update();
  }

  /** The IOMMU fault behind channel `n`'s last bus error. */
  channelFault(n: number): IommuFault | null {
    return this.channels[n]?.lastFault ?? null;
  }

  dmaActive(): boolean {
    return this.channels.some((c) => c.active);
  }

  /** irq[n] for events routed to interrupts, plus the abort interrupt for any fault. */
  irqAsserted(): boolean {
    return (
      (this.es & this.inten) !== 0 || this.faultStatusManager() !== 0 || this.faultStatusChannels() !== 0
    );
  }

  interruptsEnabled(): boolean {
    return this.inten !== 0;
  }

  interruptsPending(): boolean {
    return this.es !== 0 || this.faultStatusManager() !== 0 || this.faultStatusChannels() !== 0;
  }

  guestState(): ReadonlyMap<string, number> {
    const state = new Map<string, number>();
    for (const [name, offset] of GUEST_REGISTERS) state.set(name, this.readWord(offset));
    return state;
  }

  private faultStatusManager(): number {
    return this.managerState === R.DS_ST_FAULT ? 1 : 0;
  }

  private faultStatusChannels(): number {
    let fsc = 0;
    for (const channel of this.channels) if (channel.state === R.DS_ST_FAULT) fsc |= 1 << channel.id;
    return fsc >>> 0;
  }

  protected readWord(offset: number): number {
    switch (offset) {
      case R.DS:
        // The manager runs in the Non-secure state (DNS), as under a hypervisor.
        return (this.managerState | R.DS_DNS) >>> 0;
      case R.DPC:
        return 0;
      case R.INTEN:
        return this.inten;
      case R.ES:
        return this.es;
      case R.INTSTATUS:
        return (this.es & this.inten) >>> 0;
      case R.FSM:
        return this.faultStatusManager();
      case R.FSC:
        return this.faultStatusChannels();
      case R.FTM:
        return this.managerFaultType;
      case R.DBGSTATUS:
        return this.debugBusyLeft > 0 ? R.DBG_BUSY : 0;
      case R.DBGINST0:
        return this.dbgInst0;
      case R.DBGINST1:
        return this.dbgInst1;
      case R.CR0:
        return R.PL330_CR0;
      case R.CR1:
      case R.CR2:
      case R.CR3:
      case R.CR4:
        return 0;
      case R.CRD:
        return R.PL330_CRD;
    }
    if (offset >= R.PERIPH_ID && offset < R.PERIPH_ID + 16)
      return R.PL330_PERIPH_ID[(offset - R.PERIPH_ID) / 4] ?? 0;
    if (offset >= R.PCELL_ID && offset < R.PCELL_ID + 16)
      return R.PL330_PCELL_ID[(offset - R.PCELL_ID) / 4] ?? 0;
    if (offset >= R.FTC(0) && offset < R.FTC(R.PL330_CHANNELS))
      return this.channels[(offset - R.FTC(0)) / 4]?.faultType ?? 0;
    if (offset >= R.CS(0) && offset < R.CS(R.PL330_CHANNELS)) {
      const channel = this.channels[Math.floor((offset - R.CS(0)) / 8)];
      if (channel === undefined) return 0;
      return offset % 8 === 0 ? (channel.state | (channel.nonSecure ? R.CS_CNS : 0)) >>> 0 : channel.pc;
    }
    if (offset >= R.SA(0) && offset < R.SA(R.PL330_CHANNELS)) {
      const channel = this.channels[Math.floor((offset - R.SA(0)) / 0x20)];
      if (channel === undefined) return 0;
      switch ((offset % 0x20) / 4) {
        case 0:
          return channel.sa;
        case 1:
          return channel.da;
        case 2:
          return channel.cc;
        case 3:
          return channel.lc0;
        case 4:
          return channel.lc1;
        default:
          return 0;
      }
    }
    return 0;
  }

  protected writeWord(offset: number, value: number): void {
    switch (offset) {
      case R.INTEN:
        this.inten = value >>> 0;
        return;
      case R.INTCLR:
        // R.INTCLR clears only events routed to interrupts (R.INTEN set).
        this.es = (this.es & ~(value & this.inten)) >>> 0;
        return;
      // DDI 0424 example 2-1 polls DBGSTATUS until idle BEFORE writing DBGINST0/1: while the
      // debug unit is busy the writes are not taken (pl330.c _execute_DBGINSN waits first since
      // "dmaengine: pl330: Make sure the debug is idle before doing DMAGO"). The model drops them,
      // so a driver that writes first and waits after executes the previous instruction again.
      case R.DBGINST0:
        if (this.debugBusyLeft === 0) this.dbgInst0 = value >>> 0;
        return;
      case R.DBGINST1:
        if (this.debugBusyLeft === 0) this.dbgInst1 = value >>> 0;
        return;
      case R.DBGCMD:
        // Writes while the debug unit is busy are lost; only 0b00 (execute) is defined.
        if (this.debugBusyLeft === 0 && (value & 3) === 0) this.executeDebug();
        return;
      default:
        // Everything else is read-only (the channel registers change only by executing microcode).
        return;
    }
  }

  // pl330.c _execute_DBGINSN: R.DBGINST0 = insn[1] << 24 | insn[0] << 16 | chan << 8 | (thread is a channel).
  private executeDebug(): void {
    this.debugBusyLeft = this.debugBusyMicroseconds;
    const opcode = (this.dbgInst0 >>> 16) & 0xff;
    const arg = (this.dbgInst0 >>> 24) & 0xff;
    const onChannel = (this.dbgInst0 & 1) !== 0;
    const channel = this.channels[(this.dbgInst0 >>> 8) & 7];
    if (onChannel && channel !== undefined) {
      if (opcode === R.CMD_DMAKILL) channel.kill();
      else if (opcode === R.CMD_DMASEV && channel.state !== R.DS_ST_FAULT) this.signalEvent(arg >>> 3);
      else channel.fault(R.FT_DBG_INSTR);
      return;
    }
    if (opcode === R.CMD_DMAKILL) {
      this.managerState = R.DS_ST_STOP;
      this.managerFaultType = 0;
    } else if (opcode === R.CMD_DMASEV && this.managerState !== R.DS_ST_FAULT) {
      this.signalEvent(arg >>> 3);
    } else if ((opcode & 0xfd) === R.CMD_DMAGO && this.managerState !== R.DS_ST_FAULT) {
      this.dmago(opcode, arg);
    } else {
      this.managerFault(R.FTM_DBG_INSTR);
    }
  }

  private dmago(opcode: number, arg: number): void {
    const nonSecure = (opcode & 2) !== 0;
    // A Non-secure manager may only start Non-secure threads (DDI 0424: dmago_err).
    if (!nonSecure) {
      this.managerFault(R.FTM_DMAGO_ERR);
      return;
    }
    const target = this.channels[arg & 7];
    if (target === undefined || arg > 7) {
      this.managerFault(R.FTM_OPERAND_INVALID);
      return;
    }
    // DMAGO to a thread that is not Stopped has no effect in this model.
    if (target.state === R.DS_ST_STOP) target.start(this.dbgInst1, nonSecure);
  }

  private managerFault(type: number): void {
    this.managerState = R.DS_ST_FAULT;
    this.managerFaultType = (this.managerFaultType | type) >>> 0;
  }

  private signalEvent(event: number): void {
    if (event < R.PL330_EVENTS) this.es = (this.es | (1 << event)) >>> 0;
  }
}
