import { KernelError, type MmioDevice, type ResetHandler, type ResetTarget } from '@vfiokit/core';
import {
  DMA_BUS_MODE_SFT_RESET,
  DMA_CONTROL_SR,
  DMA_CONTROL_ST,
  XGMAC_CONTROL,
  XGMAC_CONTROL_RE,
  XGMAC_CONTROL_TE,
  XGMAC_DMA_BUS_MODE,
  XGMAC_DMA_CONTROL,
  XGMAC_DMA_INTR_ENA,
  XGMAC_DMA_STATUS,
} from '../models/calxeda-xgmac-regs.js';
import type { ResetModuleDefinition } from '../registry/reset-module.js';
import { CALXEDA_XGMAC_DEPRECATION } from './deprecations.js';

/** The compatible string the Calxeda module registers for. */
export const CALXEDA_XGMAC_COMPATIBLE = 'calxeda,hb-xgmac';

function region(target: ResetTarget, index: number): MmioDevice {
  const found = target.regions[index];
  // The kernel ioremaps regions[index] and fails with -ENOMEM when that fails; a device without
  // the region at all is the closest model of that failure.
  if (found === undefined)
    throw new KernelError('ENOMEM', `${target.name}: region ${index} cannot be mapped`);
  return found;
}

/**
 * drivers/vfio/platform/reset/vfio_platform_calxedaxgmac.c: vfio_platform_calxedaxgmac_reset,
 * exactly: `writel(0, XGMAC_DMA_INTR_ENA)` (disable IRQ), then xgmac_mac_disable: read-modify-
 * write `XGMAC_DMA_CONTROL` clearing ST|SR, read-modify-write `XGMAC_CONTROL` clearing TE|RE.
 * No polling, always returns 0. It quiesces DMA and masks the interrupt, but leaves latched
 * DMA_STATUS bits and every other register (MAC address, ring bases) as the last owner set them.
 */
export const calxedaXgmacReset: ResetHandler = (target) => {
  const regs = region(target, 0);
  regs.write(XGMAC_DMA_INTR_ENA, 4, 0);
  const dma = regs.read(XGMAC_DMA_CONTROL, 4);
  regs.write(XGMAC_DMA_CONTROL, 4, (dma & ~(DMA_CONTROL_ST | DMA_CONTROL_SR)) >>> 0);
  const mac = regs.read(XGMAC_CONTROL, 4);
  regs.write(XGMAC_CONTROL, 4, (mac & ~(XGMAC_CONTROL_TE | XGMAC_CONTROL_RE)) >>> 0);
};

/** Polls of `DMA_BUS_MODE` the soft reset gets (xgmac.c: xgmac_hw_init's `limit = 15000`). */
export const XGMAC_SOFT_RESET_POLLS = 15000;

/**
 * vfiokit's stronger Calxeda reset (not upstream): the kernel module's sequence, then the soft
 * reset the native driver does in xgmac_hw_init (drivers/net/ethernet/calxeda/xgmac.c: write
 * `DMA_BUS_MODE_SFT_RESET`, poll until the core clears it, `-EBUSY` after 15000 polls), then
 * clear whatever DMA_STATUS latched. The kernel's steps come first so DMA and the interrupt are
 * stopped even if the soft reset never completes.
 */
export const calxedaXgmacSoftReset: ResetHandler = (target) => {
  calxedaXgmacReset(target);
  const regs = region(target, 0);
  regs.write(XGMAC_DMA_BUS_MODE, 4, DMA_BUS_MODE_SFT_RESET);
  for (let polls = 0; ; polls++) {
    if ((regs.read(XGMAC_DMA_BUS_MODE, 4) & DMA_BUS_MODE_SFT_RESET) === 0) break;
    if (polls >= XGMAC_SOFT_RESET_POLLS) {
      throw new KernelError('EBUSY', `${target.name}: DMA_BUS_MODE soft reset did not complete`);
    }
    target.delay(1);
  }
  regs.write(XGMAC_DMA_STATUS, 4, 0x1ffff);
};

/** The upstream module, as `module_vfio_reset_handler("calxeda,hb-xgmac", ...)` declares it. */
export const calxedaXgmacResetModule: ResetModuleDefinition = {
  compatible: CALXEDA_XGMAC_COMPATIBLE,
  reset: calxedaXgmacReset,
  owner: 'vfio-platform-calxedaxgmac',
  description: 'Calxeda xgmac: disable DMA interrupts, stop TX/RX DMA, disable the MAC (kernel sequence)',
  upstream: true,
  deprecation: CALXEDA_XGMAC_DEPRECATION,
};

/** vfiokit's soft-reset variant, registered under the same compatible by a different owner. */
export const calxedaXgmacSoftResetModule: ResetModuleDefinition = {
  compatible: CALXEDA_XGMAC_COMPATIBLE,
  reset: calxedaXgmacSoftReset,
  owner: 'vfiokit-calxedaxgmac-softreset',
  description: 'Calxeda xgmac: kernel sequence, then DMA_BUS_MODE soft reset and DMA_STATUS clear',
  upstream: false,
};
