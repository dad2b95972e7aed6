import { type AccessSize, KernelError, type MmioDevice } from '@vfiokit/core';

const FW_CFG_SIGNATURE = 0x00;
const FW_CFG_ID = 0x01;
const FW_CFG_INVALID = 0xffff;
// "QEMU CFG", what reads of the DMA address register return (FW_CFG_DMA_SIGNATURE).
const DMA_SIGNATURE = [0x51, 0x45, 0x4d, 0x55, 0x20, 0x43, 0x46, 0x47];

/**
 * QEMU's MMIO fw_cfg (hw/nvram/fw_cfg.c, `qemu,fw-cfg-mmio`): the data register at 0x0
 * streams the selected item big-endian (bytes in memory order), the selector at 0x8 is
 * big-endian and resets the read offset, the DMA register at 0x10 reads "QEMU CFG". Only the
 * signature ("QEMU") and the feature bitmap (traditional + DMA) items exist here; reset
 * selects the signature.
 */
export class FwCfgModel implements MmioDevice {
  readonly name = 'fw-cfg';
  readonly size = 0x18;
  private current = FW_CFG_SIGNATURE;
  private offset = 0;

  private item(): readonly number[] | undefined {
    if (this.current === FW_CFG_SIGNATURE) return [0x51, 0x45, 0x4d, 0x55];
    if (this.current === FW_CFG_ID) return [0x03, 0x00, 0x00, 0x00];
    return undefined;
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
      this.current = key === FW_CFG_SIGNATURE || key === FW_CFG_ID ? key : FW_CFG_INVALID;
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
