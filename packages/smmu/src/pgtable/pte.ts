// VMSAv8-64 descriptor bits as io-pgtable-arm.c names them (ARM_LPAE_PTE_*), split into the
// low and high 32-bit halves of the 64-bit little-endian descriptor so that no BigInt is
// needed on the hot path. `HI_` constants are bit (n - 32) of the high word.

export const PTE_TYPE_MASK = 0x3;
export const PTE_TYPE_BLOCK = 1;
export const PTE_TYPE_TABLE = 3;
export const PTE_TYPE_PAGE = 3;

export const PTE_NS: number = 1 << 5;
export const PTE_AF: number = 1 << 10;
export const PTE_SH_OS: number = 2 << 8;
export const PTE_SH_IS: number = 3 << 8;

// Stage 1.
export const PTE_AP_UNPRIV: number = 1 << 6;
export const PTE_AP_RDONLY: number = 1 << 7;
export const PTE_ATTRINDX_SHIFT = 2;
export const PTE_NG: number = 1 << 11;

// Stage 2.
export const PTE_HAP_READ: number = 1 << 6;
export const PTE_HAP_WRITE: number = 2 << 6;
export const PTE_MEMATTR_OIWB: number = 0xf << 2;
export const PTE_MEMATTR_NC: number = 0x5 << 2;
export const PTE_MEMATTR_DEV: number = 0x1 << 2;

/** ARM_LPAE_PTE_ATTR_LO_MASK: bits [11:2]. */
export const PTE_ATTR_LO_MASK: number = 0x3ff << 2;
/** ARM_LPAE_PTE_XN (bits 54:53) in the high word. */
export const HI_PTE_XN: number = 3 << 21;
/** ARM_LPAE_PTE_DBM (bit 51) in the high word. */
export const HI_PTE_DBM: number = 1 << 19;
/** ARM_LPAE_PTE_ATTR_HI_MASK = XN | DBM (the contiguous bit is ignored when splitting). */
export const HI_PTE_ATTR_MASK: number = HI_PTE_XN | HI_PTE_DBM;
/** ARM_LPAE_PTE_NSTABLE (bit 63). */
export const HI_PTE_NSTABLE: number = 1 << 31;

/** Output address bits [47:12] (ARM_LPAE_PTE_ADDR_MASK): low word part. */
export const LO_ADDR_MASK = 0xfffff000;
/** Output address bits [47:32] in the high word. */
export const HI_ADDR_MASK = 0xffff;

/** MAIR attribute indices io-pgtable-arm programs (ARM_LPAE_MAIR_ATTR_IDX_*). */
export const MAIR_ATTR_IDX_NC = 0;
export const MAIR_ATTR_IDX_CACHE = 1;
export const MAIR_ATTR_IDX_DEV = 2;
export const MAIR_ATTR_IDX_INC_OCACHE = 3;

/** The output address a descriptor holds (bits [47:12]; 48-bit output only). */
export function pteAddress(lo: number, hi: number): number {
  return (hi & HI_ADDR_MASK) * 0x1_0000_0000 + ((lo & LO_ADDR_MASK) >>> 0);
}

/** The low and high words of an output address (bits [47:12]). */
export function addressLo(address: number): number {
  return (address % 0x1_0000_0000) & LO_ADDR_MASK;
}

export function addressHi(address: number): number {
  return Math.floor(address / 0x1_0000_0000) & HI_ADDR_MASK;
}
