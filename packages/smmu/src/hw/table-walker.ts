import type { PhysAddr, PhysicalMemory } from '@vfiokit/core';

/** What one translation regime tells the walker (from TCR/TTBR, a CD or an STE). */
export interface WalkRegime {
  /** Stage 1 (AP, AttrIndx) or stage 2 (S2AP, MemAttr) descriptors. */
  stage: 1 | 2;
  /** Translation table base (TTBR0, CD.TTB0, STE.S2TTB). */
  ttb: number;
  /** 12, 14 or 16: the granule of TG0. */
  granuleBits: number;
  /** Input address bits the tables resolve (64 - T0SZ, or 32 - T0SZ for AArch32-L). */
  inputBits: number;
  /** The initial lookup level (from T0SZ at stage 1, from SL0 at stage 2). */
  startLevel: number;
  /** Output address bits (TCR2.PASIZE, CD.IPS, STE.S2PS): larger addresses are an address size fault. */
  outputBits: number;
}

/**
 * Walk outcomes. An Access flag fault (AF == 0 with no hardware update) has no kind of its
 * own in core's `IommuFaultKind`; the models report it as a `translation` fault to the
 * master and record it precisely (FSR.AFF, F_ACCESS).
 */
export const WALK_OK = 0;
export const WALK_TRANSLATION = 1;
export const WALK_ACCESS_FLAG = 2;
export const WALK_ADDRESS_SIZE = 3;

/** Permission bits a cached or walked leaf grants, by access kind. */
export const PERM_READ = 1;
export const PERM_WRITE = 2;
export const PERM_PRIV_READ = 4;
export const PERM_PRIV_WRITE = 8;

/** The initial lookup level the Arm ARM derives from an input size and granule (stage 1). */
export function stage1StartLevel(granuleBits: number, inputBits: number): number {
  const stride = granuleBits - 3;
  return 4 - Math.ceil((inputBits - granuleBits) / stride);
}

/** The initial level a stage-2 SL0 selects (VTCR_EL2.SL0, STE.S2SL0). */
export function stage2StartLevel(granuleBits: number, sl0: number): number {
  return granuleBits === 12 ? 2 - sl0 : 3 - sl0;
}

/** The granule bits a TG0 field selects (0: 4K, 1: 64K, 2: 16K); 0 for a reserved value. */
export function granuleBitsOfTg0(tg0: number): number {
  return tg0 === 0 ? 12 : tg0 === 1 ? 16 : tg0 === 2 ? 14 : 0;
}

/** Output size bits of a PS/IPS/PASIZE encoding. */
export function outputBitsOfPs(ps: number): number {
  return [32, 36, 40, 42, 44, 48, 52][ps] ?? 48;
}

/**
 * The SMMU's translation table walker: reads VMSAv8-64 descriptors from memory exactly as
 * the hardware does (valid bit, table/block/page types by level, Access Flag, output size),
 * so a page table that software wrote wrongly faults here even if software reads it back
 * happily. Results are left in fields: walking allocates nothing.
 */
export class TableWalker {
  /** After `walk`: the level that ended the walk. */
  level = 0;
  /** After a successful walk: output address of the leaf's block/page and its size. */
  outputBase = 0;
  blockSize = 0;
  /** PERM_* bits the leaf grants. */
  perms = 0;
  private readonly scratch = new Uint8Array(8);

  constructor(private readonly memory: PhysicalMemory) {}

  /** Walks `iova` (already known to be inside `inputBits`); returns a WALK_* status. */
  walk(regime: WalkRegime, iova: number): number {
    const g = regime.granuleBits;
    const stride = g - 3;
    const s = this.scratch;
    let table = regime.ttb;
    for (let level = regime.startLevel; level < 4; level++) {
      this.level = level;
      const shift = g + (3 - level) * stride;
      const entryBytes = 2 ** shift;
      const entries = level === regime.startLevel ? 2 ** (regime.inputBits - shift) : 2 ** stride;
      const index = Math.floor(iova / entryBytes) % entries;
      try {
        this.memory.read((table + index * 8) as PhysAddr, s);
      } catch {
        // An external abort on the walk; reported as a translation fault by this model.
        return WALK_TRANSLATION;
      }
      const lo = ((s[0] ?? 0) | ((s[1] ?? 0) << 8) | ((s[2] ?? 0) << 16) | ((s[3] ?? 0) << 24)) >>> 0;
      const hi = ((s[4] ?? 0) | ((s[5] ?? 0) << 8) | ((s[6] ?? 0) << 16) | ((s[7] ?? 0) << 24)) >>> 0;
      if ((lo & 1) === 0) return WALK_TRANSLATION;
      const address = (hi & 0xffff) * 0x1_0000_0000 + (lo >>> 0) - (lo % 2 ** g);
      if (level < 3 && (lo & 2) !== 0) {
        if (address >= 2 ** regime.outputBits) return WALK_ADDRESS_SIZE;
        table = address;
        continue;
      }
      // Blocks exist at level 2, and at level 1 for the 4K granule; level 3 needs type 0b11.
      if (level < 3 && !(level === 2 || (level === 1 && g === 12))) return WALK_TRANSLATION;
      if (level === 3 && (lo & 2) === 0) return WALK_TRANSLATION;
      if ((lo & 0x400) === 0) return WALK_ACCESS_FLAG;
      const base = address - (address % entryBytes);
      if (base + entryBytes > 2 ** regime.outputBits) return WALK_ADDRESS_SIZE;
      this.outputBase = base;
      this.blockSize = entryBytes;
      const ap = (lo >>> 6) & 3;
      if (regime.stage === 1) {
        // AP[2:1]: 00 priv RW, 01 RW, 10 priv RO, 11 RO.
        this.perms =
          PERM_PRIV_READ |
          ((ap & 2) === 0 ? PERM_PRIV_WRITE : 0) |
          ((ap & 1) !== 0 ? PERM_READ | ((ap & 2) === 0 ? PERM_WRITE : 0) : 0);
      } else {
        // S2AP[1:0]: bit 0 read, bit 1 write, for either privilege.
        this.perms =
          ((ap & 1) !== 0 ? PERM_READ | PERM_PRIV_READ : 0) |
          ((ap & 2) !== 0 ? PERM_WRITE | PERM_PRIV_WRITE : 0);
      }
      return WALK_OK;
    }
    return WALK_TRANSLATION;
  }
}
