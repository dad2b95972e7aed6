import {
  KernelError,
  type MmioDevice,
  type ResetHandler,
  type ResetTarget,
  rejectUnknownOptions,
} from '@vfiokit/core';
import {
  DMA_MR,
  MDIO_AN_CTRL1_ENABLE,
  MDIO_AN_INT,
  MDIO_AN_INTMASK,
  MDIO_CTRL1,
  MDIO_CTRL1_RESET,
  MDIO_MMD_AN,
  MDIO_MMD_PCS,
  PCS_MMD_SELECT,
} from '../models/amd-xgbe-regs.js';
import type { ResetModuleDefinition } from '../registry/reset-module.js';
import { AMD_XGBE_DEPRECATION } from './deprecations.js';

/** The compatible string the AMD xgbe module registers for. */
export const AMD_XGBE_COMPATIBLE = 'amd,xgbe-seattle-v1a';

/** Options of {@link createAmdXgbeReset}; unknown keys are refused with `EINVAL`. */
export interface AmdXgbeResetOptions {
  /**
   * What a poll that runs out does. `warn` is the kernel: `dev_warn` and carry on, the reset
   * still returns 0. `fail` (vfiokit's stricter choice) throws `ETIMEDOUT` after the warning.
   */
  readonly onTimeout?: 'warn' | 'fail';
  /** Where `dev_warn` goes (default `console.warn`). */
  readonly warn?: (message: string) => void;
}

// vfio_platform_amdxgbe.c: xmdio_read / xmdio_write — select the MMD page, then access the window.
function xmdioRead(xpcs: MmioDevice, mmd: number, reg: number): number {
  const address = mmd * 0x10000 + (reg & 0xffff);
  xpcs.write(PCS_MMD_SELECT << 2, 4, Math.floor(address / 0x100));
  return xpcs.read((address & 0xff) << 2, 4);
}

function xmdioWrite(xpcs: MmioDevice, mmd: number, reg: number, value: number): void {
  const address = mmd * 0x10000 + (reg & 0xffff);
  xpcs.write(PCS_MMD_SELECT << 2, 4, Math.floor(address / 0x100));
  xpcs.write((address & 0xff) << 2, 4, value >>> 0);
}

function region(target: ResetTarget, index: number): MmioDevice {
  const found = target.regions[index];
  // The kernel does not check num_regions; ioremap of a missing region is the -ENOMEM path.
  if (found === undefined)
    throw new KernelError('ENOMEM', `${target.name}: region ${index} cannot be mapped`);
  return found;
}

/**
 * drivers/vfio/platform/reset/vfio_platform_amdxgbe.c: vfio_platform_amdxgbe_reset, step for
 * step: (1) PCS CTRL1 |= MDIO_CTRL1_RESET; (2) up to 50 × { msleep(20); read CTRL1 } until the
 * reset bit clears, else warn "XGBE PHY reset timeout"; (3) AN CTRL1 &= ~MDIO_AN_CTRL1_ENABLE;
 * (4) AN_INTMASK = 0; (5) AN_INT = 0; (6) DMA_MR |= 1 (MAC software reset), usleep_range(10, 15);
 * (7) `count = 2000; while (--count && (DMA_MR & 1)) usleep_range(500, 600)`, else warn
 * "MAC SW reset failed". Delays use the lower bound of each range.
 */
export function createAmdXgbeReset(options: AmdXgbeResetOptions = {}): ResetHandler {
  rejectUnknownOptions(options, ['onTimeout', 'warn'], 'createAmdXgbeReset');
  const onTimeout = options.onTimeout ?? 'warn';
  if (onTimeout !== 'warn' && onTimeout !== 'fail')
    throw new KernelError(
      'EINVAL',
      `createAmdXgbeReset: onTimeout must be 'warn' or 'fail', not '${String(onTimeout)}'`,
    );
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const timedOut = (target: ResetTarget, what: string): void => {
    const message = `${target.name}: vfio_platform_amdxgbe_reset: ${what}`;
    warn(message);
    if (onTimeout === 'fail') throw new KernelError('ETIMEDOUT', message);
  };
  return (target) => {
    const xgmac = region(target, 0);
    const xpcs = region(target, 1);

    // Reset the PHY through MDIO.
    let pcs = xmdioRead(xpcs, MDIO_MMD_PCS, MDIO_CTRL1);
    pcs |= MDIO_CTRL1_RESET;
    xmdioWrite(xpcs, MDIO_MMD_PCS, MDIO_CTRL1, pcs);
    let count = 50;
    do {
      target.delay(20_000);
      pcs = xmdioRead(xpcs, MDIO_MMD_PCS, MDIO_CTRL1);
    } while ((pcs & MDIO_CTRL1_RESET) !== 0 && --count > 0);
    if ((pcs & MDIO_CTRL1_RESET) !== 0) timedOut(target, 'XGBE PHY reset timeout');

    // Disable auto-negotiation, its interrupt, and clear a pending one.
    const an = xmdioRead(xpcs, MDIO_MMD_AN, MDIO_CTRL1);
    xmdioWrite(xpcs, MDIO_MMD_AN, MDIO_CTRL1, an & ~MDIO_AN_CTRL1_ENABLE);
    xmdioWrite(xpcs, MDIO_MMD_AN, MDIO_AN_INTMASK, 0);
    xmdioWrite(xpcs, MDIO_MMD_AN, MDIO_AN_INT, 0);

    // MAC software reset.
    const mr = xgmac.read(DMA_MR, 4);
    xgmac.write(DMA_MR, 4, (mr | 1) >>> 0);
    target.delay(10);
    count = 2000;
    while (--count > 0 && (xgmac.read(DMA_MR, 4) & 1) !== 0) target.delay(500);
    if (count === 0) timedOut(target, 'MAC SW reset failed');
  };
}

/** The kernel's behaviour: timeouts warn on the console and the reset returns normally. */
export const amdXgbeReset: ResetHandler = createAmdXgbeReset();

/** The upstream module, as `module_vfio_reset_handler("amd,xgbe-seattle-v1a", ...)` declares it. */
export const amdXgbeResetModule: ResetModuleDefinition = {
  compatible: AMD_XGBE_COMPATIBLE,
  reset: amdXgbeReset,
  owner: 'vfio-platform-amdxgbe',
  description:
    'AMD xgbe: PCS soft reset, AN off and its IRQ masked and cleared, MAC software reset (kernel sequence)',
  upstream: true,
  deprecation: AMD_XGBE_DEPRECATION,
};
