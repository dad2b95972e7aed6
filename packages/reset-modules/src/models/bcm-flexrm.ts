import { type DmaPort, KernelError, type MmioDevice, rejectUnknownOptions } from '@vfiokit/core';
import * as R from './bcm-flexrm-regs.js';
import { FlexRmRing } from './bcm-flexrm-ring.js';
import type { DeviceModel } from './device-model.js';
import { IrqLines, type IrqSink } from './irq-lines.js';
import { WordRegisterDevice } from './register-access.js';

/** Options of a {@link FlexRmModel}; unknown keys are refused with `EINVAL`. */
export interface FlexRmOptions {
  /** The rings' bus master port (descriptor fetch, data, completions and MSI writes). */
  readonly dma: DmaPort;
  /** 64 KiB ring windows in the region (default 4; a real SoC has up to 32). */
  readonly ringWindows?: number;
  /** Windows whose RING_VER does not read the magic (no ring there); default none. */
  readonly absentRings?: readonly number[];
  /** Microseconds a flush (and clearing it) takes; default 3; `Infinity` never completes. */
  readonly flushMicroseconds?: number;
  /** Microseconds between BD fetches of an active ring with nothing to do; default 10 (a model constant). */
  readonly idlePollMicroseconds?: number;
}

const GUEST_REGISTERS: readonly (readonly [string, number])[] = [
  ['VER', R.RING_VER],
  ['BD_START_ADDR', R.RING_BD_START_ADDR],
  ['BD_READ_PTR', R.RING_BD_READ_PTR],
  ['BD_WRITE_PTR', R.RING_BD_WRITE_PTR],
  ['CMPL_START_ADDR', R.RING_CMPL_START_ADDR],
  ['CMPL_WRITE_PTR', R.RING_CMPL_WRITE_PTR],
  ['NUM_REQ_RECV_LS', R.RING_NUM_REQ_RECV_LS],
  ['NUM_REQ_TRANS_LS', R.RING_NUM_REQ_TRANS_LS],
  ['NUM_REQ_OUTSTAND', R.RING_NUM_REQ_OUTSTAND],
  ['CONTROL', R.RING_CONTROL],
  ['FLUSH_DONE', R.RING_FLUSH_DONE],
  ['MSI_ADDR_LS', R.RING_MSI_ADDR_LS],
  ['MSI_ADDR_MS', R.RING_MSI_ADDR_MS],
  ['MSI_CONTROL', R.RING_MSI_CONTROL],
  ['BD_READ_PTR_DDR_CONTROL', R.RING_BD_READ_PTR_DDR_CONTROL],
  ['MSI_DATA_VALUE', R.RING_MSI_DATA_VALUE],
];

/**
 * A register-level model of the Broadcom FlexRM ring manager (`brcm,iproc-flexrm-mbox`): one
 * region of 64 KiB ring windows, each a {@link FlexRmRing} with the registers
 * bcm-flexrm-mailbox.c programs (BD and completion ring bases, pointers, request counters,
 * RING_CONTROL with ACTIVE/FLUSH, RING_FLUSH_DONE, the MSI address/data/control) and the engine
 * behind them. FlexRM has no wired interrupt: each ring signals completions by MSI, a bus write.
 * A window listed in `absentRings` reads 0 everywhere (RING_VER without the magic).
 */
export class FlexRmModel extends WordRegisterDevice implements DeviceModel {
  override readonly name = 'bcm-flexrm';
  override readonly size: number;
  readonly regions: readonly MmioDevice[];
  /** The rings by window index (`null` for an absent window). */
  readonly rings: readonly (FlexRmRing | null)[];
  /** MSIs sent per ring since power-on. */
  readonly msis: number[];
  // No wired line: each MSI is reported to the sink as a pulse on `ring<n>-msi`.
  private readonly irq = new IrqLines(() => []);

  constructor(options: FlexRmOptions) {
    super();
    const windows = options.ringWindows ?? 4;
    if (!Number.isInteger(windows) || windows < 1)
      throw new KernelError('EINVAL', `FlexRmModel: ringWindows must be a positive integer, not ${windows}`);
    rejectUnknownOptions(
      options,
      ['dma', 'ringWindows', 'absentRings', 'flushMicroseconds', 'idlePollMicroseconds'],
      'FlexRmModel',
    );
    const idlePoll = options.idlePollMicroseconds ?? 10;
    if (!Number.isInteger(idlePoll) || idlePoll < 1)
      throw new KernelError(
        'EINVAL',
        `FlexRmModel: idlePollMicroseconds must be a positive integer, not ${idlePoll}`,
      );
    const absent = new Set(options.absentRings ?? []);
    this.size = windows * R.RING_REGS_SIZE;
    this.msis = Array.from({ length: windows }, () => 0);
    const host = {
      dma: options.dma,
      msiSent: (ring: number) => {
        this.msis[ring] = (this.msis[ring] ?? 0) + 1;
        this.irq.pulse(`ring${ring}-msi`);
      },
    };
    this.rings = Array.from({ length: windows }, (_, n) =>
      absent.has(n) ? null : new FlexRmRing(n, host, options.flushMicroseconds ?? 3, idlePoll),
    );
    this.regions = [this];
  }

  connectIrq(sink: IrqSink): void {
    this.irq.connect(sink);
  }

  hardwareReset(): void {
    for (const ring of this.rings) ring?.powerOn();
  }

  /** Rings run independently (each masters the bus on its own), so each advances in turn. */
  tick(microseconds: number): void {
    for (const ring of this.rings) ring?.advance(microseconds);
  }

  dmaActive(): boolean {
    return this.rings.some((r) => r?.active === true);
  }

  /** FlexRM has no wired interrupt line; completions are signalled by MSI writes. */
  irqAsserted(): boolean {
    return false;
  }

  /** An MSI can be sent: a ring is active with RING_MSI_CONTROL.ENABLE set. */
  interruptsEnabled(): boolean {
    return this.rings.some((r) => r?.active === true && r.msiEnabled);
  }

  interruptsPending(): boolean {
    return false;
  }

  guestState(): ReadonlyMap<string, number> {
    const state = new Map<string, number>();
    this.rings.forEach((ring, n) => {
      if (ring === null) return;
      for (const [name, offset] of GUEST_REGISTERS) state.set(`RING${n}_${name}`, ring.read(offset, false));
    });
    return state;
  }

  protected readWord(offset: number): number {
    const ring = this.rings[Math.floor(offset / R.RING_REGS_SIZE)];
    return ring?.read(offset % R.RING_REGS_SIZE, true) ?? 0;
  }

  protected writeWord(offset: number, value: number): void {
    this.rings[Math.floor(offset / R.RING_REGS_SIZE)]?.write(offset % R.RING_REGS_SIZE, value);
  }
}
