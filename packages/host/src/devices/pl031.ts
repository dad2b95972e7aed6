import type { AccessSize } from '@vfiokit/core';
import type { VirtualClock } from './clock.js';
import { primecellId, QemuRegisterDevice } from './qemu-register-device.js';

/** QEMU hw/rtc/pl031.c `pl031_id`: PeriphID 0x00141031 (part 0x031, ARM, revision 1), PCellID 0xb105f00d. */
export const PL031_ID: readonly number[] = [0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1];

const RTC_DR = 0x00;
const RTC_MR = 0x04;
const RTC_LR = 0x08;
const RTC_CR = 0x0c;
const RTC_IMSC = 0x10;
const RTC_RIS = 0x14;
const RTC_MIS = 0x18;
const RTC_ICR = 0x1c;
const NS_PER_SECOND = 1_000_000_000;

/** Options of a {@link Pl031Model}. */
export interface Pl031Options {
  readonly clock: VirtualClock;
  /** Drives the alarm interrupt line (`qemu_set_irq(s->irq, s->is & s->im)`). */
  readonly irq: (asserted: boolean) => void;
  /** The RTC count at clock 0 (QEMU: the host's time of day at realize). */
  readonly tickOffset?: number;
}

/**
 * The PL031 real-time clock as QEMU models it (hw/rtc/pl031.c): a seconds counter (DR) over
 * the clock, load (LR), match (MR) with an alarm timer, a permanently enabled CR, the
 * interrupt mask (IMSC), raw and masked status (RIS, MIS), clear (ICR), and the PrimeCell ID
 * block. The interrupt line is level: high while `RIS & IMSC`.
 */
export class Pl031Model extends QemuRegisterDevice {
  readonly name = 'pl031';
  readonly size = 0x1000;
  private readonly clock: VirtualClock;
  private readonly irq: (asserted: boolean) => void;
  private tickOffset: number;
  private mr = 0;
  private lr = 0;
  private im = 0;
  private is = 0;
  private timer: number | undefined;
  private level = false;

  constructor(options: Pl031Options) {
    super();
    this.clock = options.clock;
    this.irq = options.irq;
    this.tickOffset = options.tickOffset ?? 0x6000_0000;
  }

  /** Whether the interrupt line is asserted. */
  get irqLevel(): boolean {
    return this.level;
  }

  // pl031_get_count(): tick_offset + now / NANOSECONDS_PER_SECOND.
  private count(): number {
    return (this.tickOffset + Math.floor(this.clock.nowNs / NS_PER_SECOND)) >>> 0;
  }

  // pl031_read(): the ID table for 0xfe0–0xfff, else a switch on the exact offset.
  protected readRegister(offset: number, _size: AccessSize): number {
    const id = primecellId(PL031_ID, 0xfe0, offset);
    if (id !== undefined) return id;
    switch (offset) {
      case RTC_DR:
        return this.count();
      case RTC_MR:
        return this.mr;
      case RTC_LR:
        return this.lr;
      case RTC_CR:
        return 1; // "RTC is permanently enabled."
      case RTC_IMSC:
        return this.im;
      case RTC_RIS:
        return this.is;
      case RTC_MIS:
        return this.is & this.im;
      default:
        return 0; // ICR and undecoded offsets: LOG_GUEST_ERROR, reads as 0
    }
  }

  protected writeRegister(offset: number, value: number, _size: AccessSize): void {
    switch (offset) {
      case RTC_LR:
        this.tickOffset = (this.tickOffset + value - this.count()) >>> 0;
        this.lr = value >>> 0;
        this.setAlarm();
        return;
      case RTC_MR:
        this.mr = value >>> 0;
        this.setAlarm();
        return;
      case RTC_IMSC:
        this.im = value & 1;
        this.update();
        return;
      case RTC_ICR:
        // QEMU: "The PL031 documentation (DDI0224B) states that the interrupt is cleared
        // when bit 0 of the written value is set."
        if ((value & 1) !== 0) this.is = 0;
        this.update();
        return;
      default:
        return; // CR ignored (always enabled); DR, RIS, MIS read-only
    }
  }

  // pl031_set_alarm(): fire now when MR equals the count, else after (MR - count) seconds.
  private setAlarm(): void {
    if (this.timer !== undefined) this.clock.cancel(this.timer);
    this.timer = undefined;
    const ticks = (this.mr - this.count()) >>> 0;
    if (ticks === 0) {
      this.interrupt();
      return;
    }
    this.timer = this.clock.at(this.clock.nowNs + ticks * NS_PER_SECOND, () => {
      this.timer = undefined;
      this.interrupt();
    });
  }

  private interrupt(): void {
    this.is = 1;
    this.update();
  }

  private update(): void {
    const level = (this.is & this.im) !== 0;
    if (level === this.level) return;
    this.level = level;
    this.irq(level);
  }
}
