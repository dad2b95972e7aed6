/** The width of one register access in bytes. vfio-platform's region read/write loop only
 * issues 4-, 2- and 1-byte accesses (drivers/vfio/platform/vfio_platform_common.c,
 * vfio_platform_read_mmio), so a 64-bit register is accessed as two 32-bit halves. */
export type AccessSize = 1 | 2 | 4;

/**
 * A register-level device model: one MMIO region as a device decodes it.
 *
 * Offsets are relative to the region's base. Values are unsigned and fit in `size` bytes.
 * A model decides how it treats offsets it does not decode (commonly read-as-zero,
 * write-ignored, as most Arm peripherals do); it throws a `KernelError` (`EFAULT`) only for
 * an access outside `size`, which no bus would route to it.
 */
export interface MmioDevice {
  /** A short name for messages (`pl330`, `xgmac`). */
  readonly name: string;
  /** The size of the register space in bytes. */
  readonly size: number;
  /** Reads `size` bytes at `offset`, little-endian, as an unsigned number. */
  read(offset: number, size: AccessSize): number;
  /** Writes the low `size` bytes of `value` at `offset`. */
  write(offset: number, size: AccessSize, value: number): void;
}
