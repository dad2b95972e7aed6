import { KernelError, type MmioDevice } from '@vfiokit/core';

/** PrimeCell component id (include/linux/amba/bus.h AMBA_CID). */
export const AMBA_CID = 0xb105f00d;
/** CoreSight component id (include/linux/amba/bus.h CORESIGHT_CID). */
export const CORESIGHT_CID = 0xb105900d;

/** `amba_part(d)`: the part number, bits 0..11 of the periphid. */
export function ambaPart(periphid: number): number {
  return periphid & 0xfff;
}

/** `amba_manf(d)`: the designer code, bits 12..19 (0x41 = ARM). */
export function ambaManf(periphid: number): number {
  return (periphid >>> 12) & 0xff;
}

/** `amba_rev(d)`: the revision, bits 20..23. */
export function ambaRev(periphid: number): number {
  return (periphid >>> 20) & 0xf;
}

/** `amba_config(d)`: the configuration, bits 24..31. */
export function ambaConfig(periphid: number): number {
  return (periphid >>> 24) & 0xff;
}

/**
 * Reads the peripheral id the way drivers/amba/bus.c amba_read_periphid() does: with
 * `size` the resource size, PeriphID0..3 are the low bytes of the words at
 * `size − 0x20 + 4·i` and PCellID0..3 those at `size − 0x10 + 4·i`, packed little-endian
 * (all four PeriphID words are read before the PCellID words).
 * The id is accepted only when the cell id is AMBA_CID or CORESIGHT_CID.
 *
 * Throws `EPROBE_DEFER` when the registers are not readable yet (no model: the clock, power
 * domain or reset is not there), `ENODEV` when the cell id is not a PrimeCell's or the
 * periphid reads as 0, `EINVAL` when the region is too small to hold the ID block.
 */
export function readPeriphid(model: MmioDevice | undefined, size: number): number {
  if (model === undefined) {
    throw new KernelError('EPROBE_DEFER', 'PrimeCell ID registers are not readable yet (no clock/power)');
  }
  if (size < 0x20 || size > model.size) {
    throw new KernelError('EINVAL', `region of ${size} bytes cannot hold the PrimeCell ID block`);
  }
  let pid = 0;
  let cid = 0;
  // Two loops, as the kernel's: the four PeriphID words, then the four PCellID words.
  for (let i = 0; i < 4; i++) pid |= (model.read(size - 0x20 + 4 * i, 4) & 0xff) << (8 * i);
  for (let i = 0; i < 4; i++) cid |= (model.read(size - 0x10 + 4 * i, 4) & 0xff) << (8 * i);
  pid >>>= 0;
  cid >>>= 0;
  if (cid !== AMBA_CID && cid !== CORESIGHT_CID) {
    throw new KernelError('ENODEV', `cell id 0x${cid.toString(16)} is not a PrimeCell's`);
  }
  if (pid === 0) throw new KernelError('ENODEV', 'periphid reads as 0');
  return pid;
}
