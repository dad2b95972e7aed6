import { type DmaPort, type Iova, iova, type MmioDevice, rejectUnknownOptions } from '@vfiokit/core';
import * as R from './calxeda-xgmac-regs.js';
import type { DeviceModel } from './device-model.js';
import { IrqLines, type IrqSink } from './irq-lines.js';
import { WordRegisterDevice } from './register-access.js';

/** Options of a {@link CalxedaXgmacModel}; unknown keys are refused with `EINVAL`. */
export interface CalxedaXgmacOptions {
  /** Where the DMA engines master the bus (through an IOMMU domain, typically). */
  readonly dma: DmaPort;
  /** Microseconds a `DMA_BUS_MODE` soft reset takes (default 2; `Infinity` never completes). */
  readonly softResetMicroseconds?: number;
}

/** A value the model reports for `XGMAC_VERSION`; a model constant, not taken from silicon. */
export const XGMAC_MODEL_VERSION = 0x0000_1012;

// TS/RS process states as the native driver reads them (xgmac.c: 0x600000 = TX suspended).
const TS_STOPPED = 0;
const TS_RUNNING = 1;
const TS_SUSPENDED = 6;
const RS_STOPPED = 0;
const RS_WAITING = 3;

/**
 * A register-level model of the Calxeda Highbank 10G MAC (`calxeda,hb-xgmac`): the MAC
 * configuration and address registers, the DMA bus mode (soft reset), the TX and RX descriptor
 * engines (`struct xgmac_dma_desc`, OWN bit hand-off) and the DMA interrupt status/enable pair.
 *
 * The TX engine, once `DMA_CONTROL_ST` is set, fetches one descriptor per microsecond of model
 * time and suspends on a descriptor the CPU owns until a `DMA_TX_POLL` write. The RX engine,
 * with `DMA_CONTROL_SR` and `XGMAC_CONTROL_RE` set, writes each frame handed to
 * {@link receiveFrame} into the next DMA-owned descriptor's buffer. A bus fault sets FBI and
 * stops both engines. The interrupt line is `DMA_STATUS & DMA_INTR_ENA`.
 */
export class CalxedaXgmacModel extends WordRegisterDevice implements DeviceModel {
  override readonly name = 'calxeda-xgmac';
  override readonly size: number = R.XGMAC_REGION_SIZE;
  readonly regions: readonly MmioDevice[];
  /** Frames the MAC put on the wire, in order. */
  readonly transmitted: Uint8Array[] = [];
  private readonly dma: DmaPort;
  private readonly softResetMicroseconds: number;
  private regs = new Map<number, number>();
  private txCurrent = 0;
  private rxCurrent = 0;
  private txSuspended = false;
  private halted = false;
  private softResetLeft = 0;
  // The main interrupt output: DMA_STATUS & DMA_INTR_ENA.
  // The fingerprint (the level as a bit) lets IrqLines skip sampling after an access that did not change it.
  private readonly irq = new IrqLines(
    () => [['irq', this.irqAsserted()] as const],
    () => (this.irqAsserted() ? 1 : 0),
  );

  constructor(options: CalxedaXgmacOptions) {
    super();
    rejectUnknownOptions(options, ['dma', 'softResetMicroseconds'], 'CalxedaXgmacModel');
    this.dma = options.dma;
    this.softResetMicroseconds = options.softResetMicroseconds ?? 2;
    this.regions = [this];
    this.hardwareReset();
  }

  hardwareReset(): void {
    this.regs = new Map();
    this.txCurrent = 0;
    this.rxCurrent = 0;
    this.txSuspended = false;
    this.halted = false;
    this.softResetLeft = 0;
    this.irq.update();
  }

  connectIrq(sink: IrqSink): void {
    this.irq.connect(sink);
  }

  protected override afterAccess(): void {
    this.irq.update();
  }

  tick(microseconds: number): void {
    this.run(microseconds);
    this.irq.update();
  }

  private run(microseconds: number): void {
    for (let t = 0; t < microseconds; t++) {
      // Nothing can change until a register write: skip the rest of the interval.
      if (this.softResetLeft === Number.POSITIVE_INFINITY || (this.softResetLeft === 0 && !this.txRunning()))
        return;
      if (this.softResetLeft > 0) {
        this.softResetLeft--;
        // The soft reset returns every register and both engines to power-on (xgmac_hw_init
        // polls R.DMA_BUS_MODE_SFT_RESET until the core clears it).
        if (this.softResetLeft === 0) this.hardwareReset();
        continue;
      }
      this.stepTx();
    }
  }

  /** A frame arriving from the wire: DMA'd into the RX ring when the receiver and RX DMA run. */
  receiveFrame(frame: Uint8Array): void {
    this.receive(frame);
    this.irq.update();
  }

  private receive(frame: Uint8Array): void {
    if (!this.rxRunning() || (this.reg(R.XGMAC_CONTROL) & R.XGMAC_CONTROL_RE) === 0) return;
    const desc = this.rxCurrent;
    const head = new Uint8Array(16);
    if (this.dmaFault(this.dma.read(iova(desc), head))) return;
    const view = new DataView(head.buffer);
    const flags = view.getUint32(0, true);
    const bufSize = view.getUint32(4, true);
    if ((flags & R.DESC_OWN) === 0) {
      this.raise(R.DMA_STATUS_RU | R.DMA_STATUS_AIS);
      return;
    }
    const length = Math.min(frame.length, bufSize & R.DESC_BUFFER1_SZ_MASK);
    if (this.dmaFault(this.dma.write(iova(view.getUint32(8, true)), frame.subarray(0, length)))) return;
    const done = new Uint8Array(4);
    new DataView(done.buffer).setUint32(
      0,
      ((length << 16) | R.RXDESC_FIRST_SEG | R.RXDESC_LAST_SEG) >>> 0,
      true,
    );
    if (this.dmaFault(this.dma.write(iova(desc), done))) return;
    this.rxCurrent =
      (bufSize & R.RXDESC1_END_RING) !== 0 ? this.reg(R.XGMAC_DMA_RX_BASE_ADDR) : desc + R.XGMAC_DESC_SIZE;
    this.raise(R.DMA_STATUS_RI | R.DMA_STATUS_NIS);
  }

  dmaActive(): boolean {
    return this.txRunning() || this.rxRunning();
  }

  irqAsserted(): boolean {
    return (this.reg(R.XGMAC_DMA_STATUS) & this.reg(R.XGMAC_DMA_INTR_ENA) & R.DMA_STATUS_INTR_MASK) !== 0;
  }

  interruptsEnabled(): boolean {
    return (this.reg(R.XGMAC_DMA_INTR_ENA) & R.DMA_STATUS_INTR_MASK) !== 0;
  }

  interruptsPending(): boolean {
    return (this.reg(R.XGMAC_DMA_STATUS) & R.DMA_STATUS_INTR_MASK) !== 0;
  }

  guestState(): ReadonlyMap<string, number> {
    const names: readonly [string, number][] = [
      ['XGMAC_CONTROL', R.XGMAC_CONTROL],
      ['XGMAC_FRAME_FILTER', R.XGMAC_FRAME_FILTER],
      ['XGMAC_VERSION', R.XGMAC_VERSION],
      ['XGMAC_ADDR_HIGH0', R.XGMAC_ADDR_HIGH0],
      ['XGMAC_ADDR_LOW0', R.XGMAC_ADDR_LOW0],
      ['XGMAC_DMA_BUS_MODE', R.XGMAC_DMA_BUS_MODE],
      ['XGMAC_DMA_RX_BASE_ADDR', R.XGMAC_DMA_RX_BASE_ADDR],
      ['XGMAC_DMA_TX_BASE_ADDR', R.XGMAC_DMA_TX_BASE_ADDR],
      ['XGMAC_DMA_STATUS', R.XGMAC_DMA_STATUS],
      ['XGMAC_DMA_CONTROL', R.XGMAC_DMA_CONTROL],
      ['XGMAC_DMA_INTR_ENA', R.XGMAC_DMA_INTR_ENA],
    ];
    return new Map(names.map(([name, offset]) => [name, this.readWord(offset)]));
  }

  private txRunning(): boolean {
    return (
      !this.halted &&
      this.softResetLeft === 0 &&
      (this.reg(R.XGMAC_DMA_CONTROL) & R.DMA_CONTROL_ST) !== 0 &&
      !this.txSuspended
    );
  }

  private rxRunning(): boolean {
    return (
      !this.halted && this.softResetLeft === 0 && (this.reg(R.XGMAC_DMA_CONTROL) & R.DMA_CONTROL_SR) !== 0
    );
  }

  private reg(offset: number): number {
    return this.regs.get(offset) ?? 0;
  }

  protected readWord(offset: number): number {
    switch (offset) {
      case R.XGMAC_VERSION:
        return XGMAC_MODEL_VERSION;
      case R.XGMAC_DMA_TX_POLL:
      case R.XGMAC_DMA_RX_POLL:
        return 0;
      case R.XGMAC_DMA_BUS_MODE:
        return (this.reg(offset) | (this.softResetLeft > 0 ? R.DMA_BUS_MODE_SFT_RESET : 0)) >>> 0;
      case R.XGMAC_DMA_STATUS: {
        const control = this.reg(R.XGMAC_DMA_CONTROL);
        const ts =
          (control & R.DMA_CONTROL_ST) === 0 || this.halted
            ? TS_STOPPED
            : this.txSuspended
              ? TS_SUSPENDED
              : TS_RUNNING;
        const rs = (control & R.DMA_CONTROL_SR) === 0 || this.halted ? RS_STOPPED : RS_WAITING;
        return (this.reg(offset) | (ts << R.DMA_STATUS_TS_SHIFT) | (rs << R.DMA_STATUS_RS_SHIFT)) >>> 0;
      }
      case R.XGMAC_CONTROL:
      case R.XGMAC_FRAME_FILTER:
      case R.XGMAC_ADDR_HIGH0:
      case R.XGMAC_ADDR_LOW0:
      case R.XGMAC_DMA_RX_BASE_ADDR:
      case R.XGMAC_DMA_TX_BASE_ADDR:
      case R.XGMAC_DMA_CONTROL:
      case R.XGMAC_DMA_INTR_ENA:
        return this.reg(offset);
      default:
        // Offsets this model does not decode read as zero.
        return 0;
    }
  }

  protected writeWord(offset: number, value: number): void {
    switch (offset) {
      case R.XGMAC_DMA_BUS_MODE:
        if ((value & R.DMA_BUS_MODE_SFT_RESET) !== 0) {
          // The engines stop at once; registers return to power-on when the reset completes.
          this.softResetLeft = this.softResetMicroseconds;
          this.regs.set(offset, (value & ~R.DMA_BUS_MODE_SFT_RESET) >>> 0);
          if (this.softResetLeft === 0) this.hardwareReset();
          return;
        }
        this.regs.set(offset, value);
        return;
      case R.XGMAC_DMA_STATUS:
        // Write one to clear (xgmac_interrupt writes back the bits it handled).
        this.regs.set(offset, (this.reg(offset) & ~(value & R.DMA_STATUS_INTR_MASK)) >>> 0);
        return;
      case R.XGMAC_DMA_TX_POLL:
        this.txSuspended = false;
        return;
      case R.XGMAC_DMA_RX_POLL:
        return;
      case R.XGMAC_DMA_TX_BASE_ADDR:
        this.regs.set(offset, value);
        this.txCurrent = value;
        this.txSuspended = false;
        return;
      case R.XGMAC_DMA_RX_BASE_ADDR:
        this.regs.set(offset, value);
        this.rxCurrent = value;
        return;
      case R.XGMAC_DMA_CONTROL:
        // Starting an engine clears a halt left by a bus error.
        if ((value & (R.DMA_CONTROL_ST | R.DMA_CONTROL_SR)) !== 0) this.halted = false;
        if ((value & R.DMA_CONTROL_ST) !== 0 && (this.reg(offset) & R.DMA_CONTROL_ST) === 0)
          this.txSuspended = false;
        this.regs.set(offset, value);
        return;
      case R.XGMAC_CONTROL:
      case R.XGMAC_FRAME_FILTER:
      case R.XGMAC_ADDR_HIGH0:
      case R.XGMAC_ADDR_LOW0:
      case R.XGMAC_DMA_INTR_ENA:
        this.regs.set(offset, value);
        return;
      default:
        // Read-only or undecoded: writes are ignored, as the bus does for this block.
        return;
    }
  }

  private stepTx(): void {
    if (!this.txRunning()) return;
    const desc = this.txCurrent;
    const head = new Uint8Array(16);
    if (this.dmaFault(this.dma.read(iova(desc), head))) return;
    const view = new DataView(head.buffer);
    const flags = view.getUint32(0, true);
    if ((flags & R.DESC_OWN) === 0) {
      this.txSuspended = true;
      this.raise(R.DMA_STATUS_TU | R.DMA_STATUS_NIS);
      return;
    }
    const frame = new Uint8Array(view.getUint32(4, true) & R.DESC_BUFFER1_SZ_MASK);
    if (this.dmaFault(this.dma.read(iova(view.getUint32(8, true)), frame))) return;
    if ((this.reg(R.XGMAC_CONTROL) & R.XGMAC_CONTROL_TE) !== 0) this.transmitted.push(frame);
    const done = new Uint8Array(4);
    new DataView(done.buffer).setUint32(0, (flags & ~R.DESC_OWN) >>> 0, true);
    if (this.dmaFault(this.dma.write(iova(desc) as Iova, done))) return;
    this.txCurrent =
      (flags & R.TXDESC_END_RING) !== 0 ? this.reg(R.XGMAC_DMA_TX_BASE_ADDR) : desc + R.XGMAC_DESC_SIZE;
    this.raise(R.DMA_STATUS_TI | R.DMA_STATUS_NIS);
  }

  private dmaFault(fault: unknown): boolean {
    if (fault === null) return false;
    // A fatal bus error stops both engines until software restarts them.
    this.halted = true;
    this.raise(R.DMA_STATUS_FBI | R.DMA_STATUS_AIS);
    return true;
  }

  private raise(bits: number): void {
    this.regs.set(R.XGMAC_DMA_STATUS, (this.reg(R.XGMAC_DMA_STATUS) | bits) >>> 0);
  }
}
