import { KernelError, rejectUnknownOptions } from '@vfiokit/core';

/** Register offsets of a GICv2m frame (drivers/irqchip/irq-gic-v2m.c). */
export const V2M_MSI_TYPER = 0x008;
export const V2M_MSI_SETSPI_NS = 0x040;
export const V2M_MSI_IIDR = 0xfcc;
export const V2M_MIN_SPI = 32;
export const V2M_MAX_SPI = 1019;
/** The frame is one 4 KiB page. */
export const V2M_FRAME_SIZE = 0x1000;

export interface Gicv2mFrameOptions {
  /** DT node path or name, used in messages and by the isolation rules. */
  readonly name: string;
  /** Physical base address of the frame (`reg`). */
  readonly base: number;
  /** The hardware MSI_TYPER (base SPI bits[25:16], count bits[9:0]). */
  readonly typer?: number;
  /** DT `arm,msi-base-spi`: overrides MSI_TYPER when given together with `numSpis`. */
  readonly baseSpi?: number;
  /** DT `arm,msi-num-spis`. */
  readonly numSpis?: number;
}

/** An MSI that reached the GIC: which SPI, and which bus master wrote it (for audits). */
export interface Gicv2mDelivery {
  readonly spi: number;
  readonly requester: string;
}

/**
 * A GICv2m MSI frame: a doorbell register (MSI_SETSPI_NS at 0x40) that turns a write of an SPI
 * number into that SPI. It does not know who wrote: any master that can reach the frame can
 * raise any SPI of the frame, which is why the kernel never marks it IRQ_DOMAIN_FLAG_ISOLATED_MSI
 * and why seed 004 proposed an extended viability check.
 *
 * The SPI range comes from gicv2m_init_one: the DT pair `arm,msi-base-spi`/`arm,msi-num-spis`
 * when both are non-zero, else MSI_TYPER; is_msi_spi_valid rejects base < 32, num 0 or
 * base + num > 1019 with EINVAL.
 */
export class Gicv2mFrame {
  readonly name: string;
  readonly base: number;
  readonly spiStart: number;
  readonly nrSpis: number;
  readonly typer: number;
  /** SPIs raised, oldest first. */
  readonly delivered: Gicv2mDelivery[] = [];
  /** Doorbell writes outside the frame's SPI range (ignored). */
  readonly ignored: Gicv2mDelivery[] = [];
  private readonly sinks: Array<(spi: number) => void> = [];

  constructor(options: Gicv2mFrameOptions) {
    rejectUnknownOptions(options, ['name', 'base', 'typer', 'baseSpi', 'numSpis'], 'Gicv2mFrame');
    this.name = options.name;
    this.base = options.base;
    if (!Number.isSafeInteger(options.base) || options.base % V2M_FRAME_SIZE !== 0)
      throw new KernelError('EINVAL', `${options.name}: frame base is not 4K aligned`);
    const typer = options.typer ?? 0;
    this.typer = typer;
    const dtBase = options.baseSpi ?? 0;
    const dtNum = options.numSpis ?? 0;
    if (dtBase !== 0 && dtNum !== 0) {
      this.spiStart = dtBase;
      this.nrSpis = dtNum;
    } else {
      this.spiStart = (typer >>> 16) & 0x3ff;
      this.nrSpis = typer & 0x3ff;
    }
    if (this.spiStart < V2M_MIN_SPI)
      throw new KernelError('EINVAL', `${this.name}: Invalid MSI base SPI (base:${this.spiStart})`);
    if (this.nrSpis === 0 || this.spiStart + this.nrSpis > V2M_MAX_SPI)
      throw new KernelError(
        'EINVAL',
        `${this.name}: Number of SPIs (${this.nrSpis}) exceed maximum (${V2M_MAX_SPI - V2M_MIN_SPI + 1})`,
      );
  }

  /** The doorbell's physical address (what a device's MSI address is, before the SMMU). */
  get doorbell(): number {
    return this.base + V2M_MSI_SETSPI_NS;
  }

  /** Where raised SPIs go (the host GIC distributor). */
  onSpi(sink: (spi: number) => void): void {
    this.sinks.push(sink);
  }

  /** A 32-bit read of a frame register (MSI_TYPER, IIDR 0); other offsets read 0. */
  read(offset: number): number {
    if (offset === V2M_MSI_TYPER) return ((this.spiStart << 16) | this.nrSpis) >>> 0;
    return 0;
  }

  /**
   * A 32-bit write by bus master `requester`: to MSI_SETSPI_NS it raises SPI `value` when the
   * frame owns it (bits[9:0]); anything else is ignored. The requester is NOT checked.
   */
  write(offset: number, value: number, requester: string): void {
    if (offset !== V2M_MSI_SETSPI_NS) return;
    const spi = value & 0x3ff;
    const d = { spi, requester };
    if (spi < this.spiStart || spi >= this.spiStart + this.nrSpis) {
      this.ignored.push(d);
      return;
    }
    this.delivered.push(d);
    for (const s of this.sinks) s(spi);
  }
}
