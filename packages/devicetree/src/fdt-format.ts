/**
 * FDT byte-layout constants, transcribed from libfdt (scripts/dtc/libfdt/fdt.h, libfdt.h,
 * libfdt_internal.h) and dtc's flattree.c (`version_table`), DTC 1.6.1.
 */

/** `FDT_MAGIC`: the first big-endian word of every blob. */
export const FDT_MAGIC = 0xd00dfeed;

/** Structure-block tokens (fdt.h). */
export const FDT_BEGIN_NODE = 0x1;
export const FDT_END_NODE = 0x2;
export const FDT_PROP = 0x3;
export const FDT_NOP = 0x4;
export const FDT_END = 0x9;

/** libfdt's `FDT_FIRST_SUPPORTED_VERSION` / `FDT_LAST_SUPPORTED_VERSION`. */
export const FDT_FIRST_SUPPORTED_VERSION = 2;
export const FDT_LAST_SUPPORTED_VERSION = 17;

/** Header byte offsets (struct fdt_header). */
export const HDR = {
  magic: 0,
  totalsize: 4,
  offDtStruct: 8,
  offDtStrings: 12,
  offMemRsvmap: 16,
  version: 20,
  lastCompVersion: 24,
  bootCpuidPhys: 28,
  sizeDtStrings: 32,
  sizeDtStruct: 36,
} as const;

/** libfdt's fdt_header_size_(): 28 (v1), 32 (v2), 36 (v3..v16), 40 (v17+). */
export function headerSize(version: number): number {
  if (version <= 1) return 28;
  if (version <= 2) return 32;
  if (version <= 16) return 36;
  return 40;
}

/** Rounds `n` up to a multiple of `a` (a power of two). */
export function align(n: number, a: number): number {
  return (n + a - 1) & ~(a - 1);
}
