import { type DmaPort, type IommuFault, iova } from '@vfiokit/core';
import {
  DMA_CH_BASE,
  DMA_CH_CR,
  DMA_CH_IER,
  DMA_CH_RCR,
  DMA_CH_RCR_SR,
  DMA_CH_RDLR_HI,
  DMA_CH_RDLR_LO,
  DMA_CH_RDTR_LO,
  DMA_CH_SR,
  DMA_CH_SR_FBE,
  DMA_CH_SR_MASK,
  DMA_CH_SR_RBU,
  DMA_CH_SR_RI,
  DMA_CH_SR_TBU,
  DMA_CH_SR_TI,
  DMA_CH_TCR,
  DMA_CH_TCR_ST,
  DMA_CH_TDLR_HI,
  DMA_CH_TDLR_LO,
  DMA_CH_TDTR_LO,
  DMA_ISR,
  DMA_MR,
  DMA_MR_SWR,
  DMA_SBMR,
  MAC_IER,
  MAC_ISR,
  MAC_RCR,
  MAC_RCR_RE,
  MAC_TCR,
  MAC_TCR_TE,
  MAC_VR,
  XGBE_DESC_SIZE,
  XGBE_DESC3_OWN,
  XGBE_XGMAC_REGION_SIZE,
} from './amd-xgbe-regs.js';
import { WordRegisterDevice } from './register-access.js';

/** The value the model reports for `MAC_VR`; a model constant, not taken from silicon. */
export const XGBE_MODEL_MAC_VR: number = 0x0000_1051;

export const CH = (reg: number): number => DMA_CH_BASE + reg;

// Registers that hold what software wrote (and read it back).
export const PLAIN: readonly [string, number][] = [
  ['MAC_TCR', MAC_TCR],
  ['MAC_RCR', MAC_RCR],
  ['MAC_IER', MAC_IER],
  ['DMA_SBMR', DMA_SBMR],
  ['DMA_CH0_CR', CH(DMA_CH_CR)],
  ['DMA_CH0_TCR', CH(DMA_CH_TCR)],
  ['DMA_CH0_RCR', CH(DMA_CH_RCR)],
  ['DMA_CH0_TDLR_HI', CH(DMA_CH_TDLR_HI)],
  ['DMA_CH0_TDLR_LO', CH(DMA_CH_TDLR_LO)],
  ['DMA_CH0_RDLR_HI', CH(DMA_CH_RDLR_HI)],
  ['DMA_CH0_RDLR_LO', CH(DMA_CH_RDLR_LO)],
  ['DMA_CH0_TDTR_LO', CH(DMA_CH_TDTR_LO)],
  ['DMA_CH0_RDTR_LO', CH(DMA_CH_RDTR_LO)],
  ['DMA_CH0_IER', CH(DMA_CH_IER)],
];
const PLAIN_OFFSETS: ReadonlySet<number> = new Set(PLAIN.map(([, offset]) => offset));

/**
 * The XGMAC block of the AMD xgbe: MAC enables, the DMA mode register with its software reset
 * (`DMA_MR.SWR`, self-clearing, returns the block to power-on) and DMA channel 0 with a TX and
 * an RX descriptor engine (16-byte descriptors, OWN in DESC3 bit 31, tail pointers), its
 * interrupt enable and write-one-to-clear status.
 */
export class AmdXgbeXgmac extends WordRegisterDevice {
  override readonly name = 'amd-xgbe-xgmac';
  override readonly size: number = XGBE_XGMAC_REGION_SIZE;
  regs: Map<number, number> = new Map();
  txCurrent = 0;
  rxCurrent = 0;
  swResetLeft = 0;
  halted = false;
  readonly transmitted: Uint8Array[] = [];

  constructor(
    private readonly dma: DmaPort,
    private readonly swResetMicroseconds: number,
  ) {
    super();
  }

  /** Called after every register access: the owning model updates its interrupt lines. */
  onAccess: () => void = () => {};

  protected override afterAccess(): void {
    this.onAccess();
  }

  powerOn(): void {
    this.regs = new Map();
    this.txCurrent = 0;
    this.rxCurrent = 0;
    this.swResetLeft = 0;
    this.halted = false;
  }

  reg(offset: number): number {
    return this.regs.get(offset) ?? 0;
  }

  readWord(offset: number): number {
    if (PLAIN_OFFSETS.has(offset)) return this.reg(offset);
    switch (offset) {
      case MAC_VR:
        return XGBE_MODEL_MAC_VR;
      case MAC_ISR:
        // No MAC-level interrupt source is modelled.
        return 0;
      case DMA_MR:
        return (this.reg(offset) | (this.swResetLeft > 0 ? DMA_MR_SWR : 0)) >>> 0;
      case DMA_ISR:
        // DC0IS: channel 0 has an enabled status bit set.
        return (this.reg(CH(DMA_CH_SR)) & this.reg(CH(DMA_CH_IER))) !== 0 ? 1 : 0;
      case CH(DMA_CH_SR):
        return this.reg(offset);
      default:
        return 0;
    }
  }

  writeWord(offset: number, value: number): void {
    if (PLAIN_OFFSETS.has(offset)) {
      if (offset === CH(DMA_CH_TDLR_LO)) this.txCurrent = value;
      if (offset === CH(DMA_CH_RDLR_LO)) this.rxCurrent = value;
      if ((offset === CH(DMA_CH_TCR) || offset === CH(DMA_CH_RCR)) && (value & 1) !== 0) this.halted = false;
      this.regs.set(offset, value);
      return;
    }
    if (offset === DMA_MR) {
      this.regs.set(offset, (value & ~DMA_MR_SWR) >>> 0);
      if ((value & DMA_MR_SWR) !== 0) {
        this.swResetLeft = this.swResetMicroseconds;
        if (this.swResetLeft === 0) this.powerOn();
      }
      return;
    }
    if (offset === CH(DMA_CH_SR)) {
      this.regs.set(offset, (this.reg(offset) & ~(value & DMA_CH_SR_MASK)) >>> 0);
    }
    // Other offsets are read-only or undecoded.
  }

  txRunning(): boolean {
    return (
      !this.halted &&
      this.swResetLeft === 0 &&
      (this.reg(CH(DMA_CH_TCR)) & DMA_CH_TCR_ST) !== 0 &&
      this.txCurrent !== this.reg(CH(DMA_CH_TDTR_LO))
    );
  }

  rxRunning(): boolean {
    return !this.halted && this.swResetLeft === 0 && (this.reg(CH(DMA_CH_RCR)) & DMA_CH_RCR_SR) !== 0;
  }

  tick(microseconds: number): void {
    for (let t = 0; t < microseconds; t++) {
      if (this.swResetLeft === Number.POSITIVE_INFINITY) return;
      if (this.swResetLeft > 0) {
        this.swResetLeft--;
        if (this.swResetLeft === 0) this.powerOn();
        continue;
      }
      if (!this.txRunning()) return;
      this.stepTx();
    }
  }

  receiveFrame(frame: Uint8Array): void {
    if (!this.rxRunning() || (this.reg(MAC_RCR) & MAC_RCR_RE) === 0) return;
    if (this.rxCurrent === this.reg(CH(DMA_CH_RDTR_LO))) {
      this.raise(DMA_CH_SR_RBU);
      return;
    }
    const desc = new Uint8Array(XGBE_DESC_SIZE);
    if (this.fault(this.dma.read(iova(this.rxCurrent), desc))) return;
    const view = new DataView(desc.buffer);
    if ((view.getUint32(12, true) & XGBE_DESC3_OWN) === 0) {
      this.raise(DMA_CH_SR_RBU);
      return;
    }
    const length = Math.min(frame.length, view.getUint32(8, true) & 0x3fff);
    if (this.fault(this.dma.write(iova(view.getUint32(0, true)), frame.subarray(0, length)))) return;
    const done = new Uint8Array(4);
    // DESC3 write-back: packet length, FD (bit 29) and LD (bit 28), OWN cleared.
    new DataView(done.buffer).setUint32(0, (length | (1 << 29) | (1 << 28)) >>> 0, true);
    if (this.fault(this.dma.write(iova(this.rxCurrent + 12), done))) return;
    this.rxCurrent += XGBE_DESC_SIZE;
    this.raise(DMA_CH_SR_RI);
  }

  private stepTx(): void {
    const desc = new Uint8Array(XGBE_DESC_SIZE);
    if (this.fault(this.dma.read(iova(this.txCurrent), desc))) return;
    const view = new DataView(desc.buffer);
    const desc3 = view.getUint32(12, true);
    if ((desc3 & XGBE_DESC3_OWN) === 0) {
      this.raise(DMA_CH_SR_TBU);
      this.txCurrent = this.reg(CH(DMA_CH_TDTR_LO));
      return;
    }
    const frame = new Uint8Array(view.getUint32(8, true) & 0x3fff);
    if (this.fault(this.dma.read(iova(view.getUint32(0, true)), frame))) return;
    if ((this.reg(MAC_TCR) & MAC_TCR_TE) !== 0) this.transmitted.push(frame);
    const done = new Uint8Array(4);
    new DataView(done.buffer).setUint32(0, (desc3 & ~XGBE_DESC3_OWN) >>> 0, true);
    if (this.fault(this.dma.write(iova(this.txCurrent + 12), done))) return;
    this.txCurrent += XGBE_DESC_SIZE;
    this.raise(DMA_CH_SR_TI);
  }

  private fault(fault: IommuFault | null): boolean {
    if (fault === null) return false;
    this.halted = true;
    this.raise(DMA_CH_SR_FBE);
    return true;
  }

  private raise(bits: number): void {
    this.regs.set(CH(DMA_CH_SR), (this.reg(CH(DMA_CH_SR)) | bits) >>> 0);
  }
}
