import { type AccessSize, KernelError, type MmioDevice } from '@vfiokit/core';

const FW_CFG_SIGNATURE = 0x00;
const FW_CFG_INVALID = 0xffff;

/** `struct FWCfgFile` entries of QEMU 7.2's `-M virt` fw_cfg (size, select key, name), in directory order. */
export const QEMU_VIRT_FW_CFG_FILES: readonly { size: number; select: number; name: string }[] = [
  { size: 0, select: 0x20, name: 'bios-geometry' },
  { size: 0, select: 0x21, name: 'bootorder' },
  { size: 36, select: 0x22, name: 'etc/acpi/rsdp' },
  { size: 131072, select: 0x23, name: 'etc/acpi/tables' },
  { size: 4, select: 0x24, name: 'etc/boot-fail-wait' },
  { size: 24, select: 0x25, name: 'etc/smbios/smbios-anchor' },
  { size: 266, select: 0x26, name: 'etc/smbios/smbios-tables' },
  { size: 3072, select: 0x27, name: 'etc/table-loader' },
  { size: 0, select: 0x28, name: 'etc/tpm/log' },
];

// FW_CFG_FILE_DIR: a big-endian count, then 64-byte entries (be32 size, be16 select, 0, name[56]).
function fileDirectory(): number[] {
  const out = [0, 0, 0, QEMU_VIRT_FW_CFG_FILES.length];
  for (const file of QEMU_VIRT_FW_CFG_FILES) {
    const name = Array.from({ length: 56 }, (_, i) => file.name.charCodeAt(i) || 0);
    out.push(
      (file.size >>> 24) & 0xff,
      (file.size >>> 16) & 0xff,
      (file.size >>> 8) & 0xff,
      file.size & 0xff,
      (file.select >>> 8) & 0xff,
      file.select & 0xff,
      0,
      0,
      ...name,
    );
  }
  return out;
}

/**
 * The items of QEMU 7.2's `-M virt -smp 1 -nographic` fw_cfg as a guest reads them: signature,
 * features (traditional + DMA), a zero UUID, NOGRAPHIC 1 and NB_CPUS 1 (little-endian u16s),
 * the file directory, and the empty files. Other keys, and the contents of non-empty files
 * (ACPI, SMBIOS tables), read as zeros here.
 */
const ITEMS: ReadonlyMap<number, readonly number[]> = new Map([
  [FW_CFG_SIGNATURE, [0x51, 0x45, 0x4d, 0x55]],
  [0x01, [0x03, 0x00, 0x00, 0x00]],
  [0x02, new Array<number>(16).fill(0)],
  [0x04, [0x01, 0x00]],
  [0x05, [0x01, 0x00]],
  [0x19, fileDirectory()],
]);
// "QEMU CFG", what reads of the DMA address register return (FW_CFG_DMA_SIGNATURE).
const DMA_SIGNATURE = [0x51, 0x45, 0x4d, 0x55, 0x20, 0x43, 0x46, 0x47];

/**
 * QEMU's MMIO fw_cfg (hw/nvram/fw_cfg.c, `qemu,fw-cfg-mmio`): the data register at 0x0
 * streams the selected item big-endian (bytes in memory order), the selector at 0x8 is
 * big-endian and resets the read offset, the DMA register at 0x10 reads "QEMU CFG"; reset
 * selects the signature. QEMU accepts data reads only at offset 0 (others are a bus error,
 * which oopses the guest): the model answers them as if at 0.
 */
export class FwCfgModel implements MmioDevice {
  readonly name = 'fw-cfg';
  readonly size = 0x18;
  private current = FW_CFG_SIGNATURE;
  private offset = 0;

  private item(): readonly number[] | undefined {
    return ITEMS.get(this.current);
  }

  read(offset: number, size: AccessSize): number {
    this.check(offset, size);
    if (offset < 8) {
      // fw_cfg_data_read: up to `size` bytes of the item, padded with zeroes on the right.
      const data = this.item();
      const bytes: number[] = [];
      for (let i = 0; i < size; i++) {
        bytes.push(data !== undefined && this.offset < data.length ? (data[this.offset++] ?? 0) : 0);
      }
      return littleEndian(bytes);
    }
    if (offset >= 0x10) return littleEndian(DMA_SIGNATURE.slice(offset - 0x10, offset - 0x10 + size));
    return 0; // the selector reads as 0
  }

  write(offset: number, size: AccessSize, value: number): void {
    this.check(offset, size);
    if (offset === 8 && size === 2) {
      // fw_cfg_ctl_mem_write: a big-endian 16-bit key; unknown keys select nothing.
      const key = ((value & 0xff) << 8) | ((value >>> 8) & 0xff);
      this.current = key === FW_CFG_INVALID ? FW_CFG_INVALID : key;
      this.offset = 0;
    }
  }

  private check(offset: number, size: AccessSize): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + size > this.size) {
      throw new KernelError(
        'EFAULT',
        `fw-cfg: access 0x${offset.toString(16)}+${size} is outside the region`,
      );
    }
  }
}

function littleEndian(bytes: readonly number[]): number {
  return bytes.reduce((value, byte, i) => value + (byte & 0xff) * 2 ** (8 * i), 0);
}
