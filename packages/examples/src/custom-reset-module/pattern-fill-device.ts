import { type AccessSize, type DmaPort, iova, KernelError, type MmioDevice } from '@vfiokit/core';
import { type DeviceModel, IrqLines, type IrqSink } from '@vfiokit/reset-modules';

/** Register map of the example device, `acme,pattern-fill` (a made-up DMA engine). */
export const FILL_CTRL: number = 0x00;
export const FILL_STATUS: number = 0x04;
export const FILL_ADDR: number = 0x08;
export const FILL_LEN: number = 0x0c;
export const FILL_PATTERN: number = 0x10;
export const FILL_SOFT_RESET: number = 0x14;
export const FILL_CTRL_START: number = 1 << 0;
export const FILL_CTRL_IRQ_EN: number = 1 << 1;
export const FILL_STATUS_DONE: number = 1 << 0;
export const FILL_STATUS_ERROR: number = 1 << 1;
export const FILL_REGION_SIZE: number = 0x100;

/**
 * A small DMA engine: write ADDR, LEN, PATTERN, then CTRL.START; it fills 16 bytes per
 * microsecond through its DMA port, sets STATUS.DONE (or STATUS.ERROR on a bus fault) and
 * raises its interrupt when CTRL.IRQ_EN is set. STATUS is write-one-to-clear. Writing 1 to
 * SOFT_RESET starts a soft reset that takes `softResetMicroseconds` and restores power-on.
 */
export class PatternFillDevice implements DeviceModel, MmioDevice {
  readonly name = 'pattern-fill';
  readonly size: number = FILL_REGION_SIZE;
  readonly regions: readonly MmioDevice[] = [this];
  private ctrl = 0;
  private status = 0;
  private addr = 0;
  private len = 0;
  private pattern = 0;
  private done = 0;
  private resetLeft = 0;
  // The device's one interrupt output: asserted while CTRL.IRQ_EN and a STATUS bit are set.
  private readonly irq = new IrqLines(() => [['irq', this.irqAsserted()]]);

  constructor(
    private readonly dma: DmaPort,
    private readonly softResetMicroseconds = 3,
  ) {}

  /** Drives the interrupt line into `sink` (an interrupt controller, or the quiescence property). */
  connectIrq(sink: IrqSink): void {
    this.irq.connect(sink);
  }

  read(offset: number, size: AccessSize): number {
    this.check(offset, size);
    const values: Record<number, number> = {
      [FILL_CTRL]: this.ctrl,
      [FILL_STATUS]: this.status,
      [FILL_ADDR]: this.addr,
      [FILL_LEN]: this.len,
      [FILL_PATTERN]: this.pattern,
      [FILL_SOFT_RESET]: this.resetLeft > 0 ? 1 : 0,
    };
    return values[offset] ?? 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    this.writeRegister(offset, size, value);
    this.irq.update();
  }

  private writeRegister(offset: number, size: AccessSize, value: number): void {
    this.check(offset, size);
    if (this.resetLeft > 0) return; // held in reset: writes are ignored
    if (offset === FILL_CTRL) {
      if ((value & FILL_CTRL_START) !== 0 && (this.ctrl & FILL_CTRL_START) === 0) this.done = 0;
      this.ctrl = value & (FILL_CTRL_START | FILL_CTRL_IRQ_EN);
    } else if (offset === FILL_STATUS) {
      this.status &= ~value;
    } else if (offset === FILL_ADDR) {
      this.addr = value >>> 0;
    } else if (offset === FILL_LEN) {
      this.len = value & 0xffff;
    } else if (offset === FILL_PATTERN) {
      this.pattern = value & 0xff;
    } else if (offset === FILL_SOFT_RESET && (value & 1) !== 0) {
      this.resetLeft = this.softResetMicroseconds;
      this.ctrl = 0; // the engine stops as soon as reset is asserted
      if (this.resetLeft === 0) this.hardwareReset();
    }
  }

  tick(microseconds: number): void {
    this.run(microseconds);
    this.irq.update();
  }

  private run(microseconds: number): void {
    for (let t = 0; t < microseconds; t++) {
      if (this.resetLeft > 0) {
        if (--this.resetLeft === 0) this.hardwareReset();
        continue;
      }
      if (!this.dmaActive()) return;
      const chunk = Math.min(16, this.len - this.done);
      const fault = this.dma.write(iova(this.addr + this.done), new Uint8Array(chunk).fill(this.pattern));
      if (fault !== null) {
        this.ctrl &= ~FILL_CTRL_START;
        this.status |= FILL_STATUS_ERROR;
        return;
      }
      this.done += chunk;
      if (this.done >= this.len) {
        this.ctrl &= ~FILL_CTRL_START;
        this.status |= FILL_STATUS_DONE;
      }
    }
  }

  hardwareReset(): void {
    this.ctrl = 0;
    this.status = 0;
    this.addr = 0;
    this.len = 0;
    this.pattern = 0;
    this.done = 0;
    this.resetLeft = 0;
    this.irq.update();
  }

  dmaActive(): boolean {
    return this.resetLeft === 0 && (this.ctrl & FILL_CTRL_START) !== 0 && this.done < this.len;
  }

  irqAsserted(): boolean {
    return (this.ctrl & FILL_CTRL_IRQ_EN) !== 0 && this.status !== 0;
  }

  interruptsEnabled(): boolean {
    return (this.ctrl & FILL_CTRL_IRQ_EN) !== 0;
  }

  interruptsPending(): boolean {
    return this.status !== 0;
  }

  guestState(): ReadonlyMap<string, number> {
    return new Map([
      ['CTRL', this.read(FILL_CTRL, 4)],
      ['STATUS', this.read(FILL_STATUS, 4)],
      ['ADDR', this.read(FILL_ADDR, 4)],
      ['LEN', this.read(FILL_LEN, 4)],
      ['PATTERN', this.read(FILL_PATTERN, 4)],
      ['SOFT_RESET', this.read(FILL_SOFT_RESET, 4)],
    ]);
  }

  private check(offset: number, size: AccessSize): void {
    if (size !== 4 || offset % 4 !== 0)
      throw new KernelError('EINVAL', `${this.name}: only aligned 32-bit access`);
    if (offset < 0 || offset + size > this.size)
      throw new KernelError('EFAULT', `${this.name}: 0x${offset.toString(16)} is outside`);
  }
}
