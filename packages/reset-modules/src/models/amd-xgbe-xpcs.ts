import {
  MDIO_AN_CTRL1_ENABLE,
  MDIO_AN_INT,
  MDIO_AN_INTMASK,
  MDIO_CTRL1,
  MDIO_CTRL1_RESET,
  MDIO_CTRL2,
  MDIO_MMD_AN,
  MDIO_MMD_PCS,
  MDIO_PCS_CTRL1_POWER_ON,
  PCS_MMD_SELECT,
  XGBE_AN_INT_MASK,
  XGBE_XPCS_REGION_SIZE,
} from './amd-xgbe-regs.js';
import { WordRegisterDevice } from './register-access.js';

const key = (mmd: number, reg: number): number => mmd * 0x10000 + reg;

// IEEE 802.3 clause 45.2.7.1: AN control register bit 7.0.12 (AN enable) defaults to 1.
const POWER_ON: ReadonlyMap<number, number> = new Map([
  [key(MDIO_MMD_PCS, MDIO_CTRL1), MDIO_PCS_CTRL1_POWER_ON],
  [key(MDIO_MMD_PCS, MDIO_CTRL2), 0],
  [key(MDIO_MMD_AN, MDIO_CTRL1), MDIO_AN_CTRL1_ENABLE],
  [key(MDIO_MMD_AN, MDIO_AN_INTMASK), 0],
  [key(MDIO_MMD_AN, MDIO_AN_INT), 0],
]);

/**
 * The XPCS block of the AMD xgbe: MMD registers reached through a window. A write of
 * `mmd_address >> 8` to offset `PCS_MMD_SELECT << 2` selects the page; offset
 * `(mmd_address & 0xff) << 2` then reads or writes the register (xgbe's xmdio_read/xmdio_write,
 * copied in vfio_platform_amdxgbe.c). The PCS soft reset (CTRL1 bit 15) self-clears after
 * `phyResetMicroseconds` and returns the PCS MMD to power-on.
 */
export class AmdXgbeXpcs extends WordRegisterDevice {
  override readonly name = 'amd-xgbe-xpcs';
  override readonly size: number = XGBE_XPCS_REGION_SIZE;
  private select = 0;
  private mmd = new Map<number, number>();
  private phyResetLeft = 0;
  private readonly phyResetMicroseconds: number;

  constructor(phyResetMicroseconds: number) {
    super();
    this.phyResetMicroseconds = phyResetMicroseconds;
    this.powerOn();
  }

  /** Called after every register access: the owning model updates its interrupt lines. */
  onAccess: () => void = () => {};

  protected override afterAccess(): void {
    this.onAccess();
  }

  powerOn(): void {
    this.select = 0;
    this.mmd = new Map(POWER_ON);
    this.phyResetLeft = 0;
  }

  tick(microseconds: number): void {
    if (this.phyResetLeft === 0 || this.phyResetLeft === Number.POSITIVE_INFINITY) return;
    this.phyResetLeft = Math.max(0, this.phyResetLeft - microseconds);
    if (this.phyResetLeft === 0) this.resetPcs();
  }

  /** A clause-73 event (link partner page, AN complete) latched in AN_INT when AN is enabled. */
  autonegotiationEvent(bits: number): void {
    if ((this.reg(MDIO_MMD_AN, MDIO_CTRL1) & MDIO_AN_CTRL1_ENABLE) === 0) return;
    this.mmd.set(
      key(MDIO_MMD_AN, MDIO_AN_INT),
      (this.reg(MDIO_MMD_AN, MDIO_AN_INT) | (bits & XGBE_AN_INT_MASK)) >>> 0,
    );
  }

  irqAsserted(): boolean {
    return (this.reg(MDIO_MMD_AN, MDIO_AN_INT) & this.reg(MDIO_MMD_AN, MDIO_AN_INTMASK)) !== 0;
  }

  interruptsEnabled(): boolean {
    return this.reg(MDIO_MMD_AN, MDIO_AN_INTMASK) !== 0;
  }

  interruptsPending(): boolean {
    return this.reg(MDIO_MMD_AN, MDIO_AN_INT) !== 0;
  }

  /** The window select register and every MMD register the model decodes, by name. */
  registers(): [string, number][] {
    const window: [string, number] = ['XPCS PCS_MMD_SELECT', this.select];
    return [
      window,
      ...[...POWER_ON.keys()].map((k): [string, number] => [
        `XPCS MMD${Math.floor(k / 0x10000)}.0x${(k % 0x10000).toString(16)}`,
        this.readMmd(k),
      ]),
    ];
  }

  private reg(mmd: number, reg: number): number {
    return this.mmd.get(key(mmd, reg)) ?? 0;
  }

  private readMmd(k: number): number {
    const value = this.mmd.get(k) ?? 0;
    if (k === key(MDIO_MMD_PCS, MDIO_CTRL1) && this.phyResetLeft > 0) return (value | MDIO_CTRL1_RESET) >>> 0;
    return value;
  }

  private windowKey(word: number): number {
    const address = this.select * 0x100 + (word >>> 2);
    return key(Math.floor(address / 0x10000) & 0x1f, address % 0x10000);
  }

  protected readWord(word: number): number {
    if (word === PCS_MMD_SELECT << 2) return this.select;
    const k = this.windowKey(word);
    // Undecoded MMD registers read as zero.
    return POWER_ON.has(k) ? this.readMmd(k) : 0;
  }

  protected writeWord(word: number, value: number): void {
    if (word === PCS_MMD_SELECT << 2) {
      this.select = value & 0xffff;
      return;
    }
    const k = this.windowKey(word);
    if (!POWER_ON.has(k)) return;
    const v = value & 0xffff;
    if (k === key(MDIO_MMD_PCS, MDIO_CTRL1)) {
      this.mmd.set(k, (v & ~MDIO_CTRL1_RESET) >>> 0);
      if ((v & MDIO_CTRL1_RESET) !== 0) {
        this.phyResetLeft = this.phyResetMicroseconds;
        if (this.phyResetLeft === 0) this.resetPcs();
      }
      return;
    }
    if (k === key(MDIO_MMD_AN, MDIO_AN_INT)) {
      // Writing 0 to a bit clears it (xgbe-phy clears AN_INT by writing the bits it keeps).
      this.mmd.set(k, (this.reg(MDIO_MMD_AN, MDIO_AN_INT) & v) >>> 0);
      return;
    }
    this.mmd.set(k, v);
  }

  private resetPcs(): void {
    this.phyResetLeft = 0;
    for (const [k, v] of POWER_ON) if (Math.floor(k / 0x10000) === MDIO_MMD_PCS) this.mmd.set(k, v);
  }
}
