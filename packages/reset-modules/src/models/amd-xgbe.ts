import { type DmaPort, type MmioDevice, rejectUnknownOptions } from '@vfiokit/core';
import { DMA_CH_IER, DMA_CH_SR, DMA_CH_SR_MASK, DMA_ISR, DMA_MR, MAC_IER, MAC_VR } from './amd-xgbe-regs.js';
import { AmdXgbeXgmac, CH, PLAIN } from './amd-xgbe-xgmac.js';
import { AmdXgbeXpcs } from './amd-xgbe-xpcs.js';

export { XGBE_MODEL_MAC_VR } from './amd-xgbe-xgmac.js';

import type { DeviceModel } from './device-model.js';
import { IrqLines, type IrqSink } from './irq-lines.js';

/** Options of an {@link AmdXgbeModel}; unknown keys are refused with `EINVAL`. */
export interface AmdXgbeOptions {
  readonly dma: DmaPort;
  /** Microseconds the PCS soft reset (MMD 3 CTRL1 bit 15) takes; default 1000; `Infinity` never completes. */
  readonly phyResetMicroseconds?: number;
  /** Microseconds the MAC software reset (DMA_MR.SWR) takes; default 100; `Infinity` never completes. */
  readonly swResetMicroseconds?: number;
}

/**
 * A register-level model of the AMD xgbe (`amd,xgbe-seattle-v1a`) with the two regions the
 * vfio reset module uses: `regions[0]` the XGMAC block, `regions[1]` the XPCS block. Either
 * reset can be made to never complete, to show what the kernel module does then.
 */
export class AmdXgbeModel implements DeviceModel {
  readonly regions: readonly MmioDevice[];
  readonly xpcs: AmdXgbeXpcs;
  private readonly xgmac: AmdXgbeXgmac;
  // Two outputs: the XGMAC's (DMA_ISR, the channel interrupts summarised) and the XPCS AN interrupt.
  // The fingerprint (both levels as two bits) lets IrqLines skip sampling after an access that
  // changed neither line.
  private readonly irq = new IrqLines(
    () => [
      ['xgmac', this.xgmac.readWord(DMA_ISR) !== 0] as const,
      ['xpcs-an', this.xpcs.irqAsserted()] as const,
    ],
    () => (this.xgmac.readWord(DMA_ISR) !== 0 ? 1 : 0) | (this.xpcs.irqAsserted() ? 2 : 0),
  );

  constructor(options: AmdXgbeOptions) {
    rejectUnknownOptions(options, ['dma', 'phyResetMicroseconds', 'swResetMicroseconds'], 'AmdXgbeModel');
    this.xgmac = new AmdXgbeXgmac(options.dma, options.swResetMicroseconds ?? 100);
    this.xpcs = new AmdXgbeXpcs(options.phyResetMicroseconds ?? 1000);
    this.regions = [this.xgmac, this.xpcs];
    this.xgmac.onAccess = () => this.irq.update();
    this.xpcs.onAccess = () => this.irq.update();
  }

  connectIrq(sink: IrqSink): void {
    this.irq.connect(sink);
  }

  /** Frames the MAC put on the wire. */
  get transmitted(): readonly Uint8Array[] {
    return this.xgmac.transmitted;
  }

  hardwareReset(): void {
    this.xgmac.powerOn();
    this.xpcs.powerOn();
    this.irq.update();
  }

  tick(microseconds: number): void {
    this.xpcs.tick(microseconds);
    this.xgmac.tick(microseconds);
    this.irq.update();
  }

  /** A frame from the wire, DMA'd into the RX ring when the receiver and RX DMA run. */
  receiveFrame(frame: Uint8Array): void {
    this.xgmac.receiveFrame(frame);
    this.irq.update();
  }

  /** A clause-73 autonegotiation event. */
  autonegotiationEvent(bits: number): void {
    this.xpcs.autonegotiationEvent(bits);
    this.irq.update();
  }

  dmaActive(): boolean {
    return this.xgmac.txRunning() || this.xgmac.rxRunning();
  }

  irqAsserted(): boolean {
    return this.xgmac.readWord(DMA_ISR) !== 0 || this.xpcs.irqAsserted();
  }

  interruptsEnabled(): boolean {
    return (
      (this.xgmac.reg(CH(DMA_CH_IER)) & DMA_CH_SR_MASK) !== 0 ||
      this.xgmac.reg(MAC_IER) !== 0 ||
      this.xpcs.interruptsEnabled()
    );
  }

  interruptsPending(): boolean {
    return this.xgmac.reg(CH(DMA_CH_SR)) !== 0 || this.xpcs.interruptsPending();
  }

  guestState(): ReadonlyMap<string, number> {
    const state = new Map<string, number>(PLAIN.map(([name, offset]) => [name, this.xgmac.readWord(offset)]));
    state.set('MAC_VR', this.xgmac.readWord(MAC_VR));
    state.set('DMA_MR', this.xgmac.readWord(DMA_MR));
    state.set('DMA_ISR', this.xgmac.readWord(DMA_ISR));
    state.set('DMA_CH0_SR', this.xgmac.readWord(CH(DMA_CH_SR)));
    for (const [name, value] of this.xpcs.registers()) state.set(name, value);
    return state;
  }
}
