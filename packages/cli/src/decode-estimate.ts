// Observed on the shared corpus: parseFdt + toDts run at about 1 KiB per ms on a cold process
// (the largest fixture, 206 KiB, takes about 190 ms before the JIT warms up).
const MS_PER_KIB = 1;
const FDT_MAGIC = 0xd00dfeed;

/**
 * About how long decoding `blob` takes, from the sizes of its structure and strings blocks
 * (the FDT header, fdt.h `fdt_header`): a QEMU `dumpdtb` blob is 1 MiB of mostly free space,
 * which costs nothing. Anything that is not a blob is estimated by its length.
 */
export function decodeEstimateMs(blob: Uint8Array): number {
  let bytes = blob.length;
  if (blob.length >= 40) {
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    // size_dt_strings at 0x20, size_dt_struct at 0x24 (version 3 and later).
    if (view.getUint32(0) === FDT_MAGIC) bytes = Math.min(bytes, view.getUint32(0x20) + view.getUint32(0x24));
  }
  return (bytes / 1024) * MS_PER_KIB;
}
