import { KernelError, type ResetHandler } from '@vfiokit/core';
import type { ResetModuleDefinition } from '@vfiokit/reset-modules';
import { FILL_CTRL, FILL_SOFT_RESET, FILL_STATUS } from './pattern-fill-device.js';

/** Polls of SOFT_RESET, one microsecond apart, before the reset gives up. */
export const FILL_RESET_POLLS = 100;

/**
 * The reset module of `acme,pattern-fill`. Each step and why:
 * 1. CTRL ← 0: stops the engine and disables the interrupt at once, so nothing moves or fires
 *    while the rest runs (even if the soft reset below never completes).
 * 2. SOFT_RESET ← 1, then poll it until it reads 0: returns every register (address, length,
 *    pattern: the last owner's state) to power-on. `ETIMEDOUT` if it never completes.
 * 3. STATUS ← DONE|ERROR (write one to clear): belt and braces for a status latched during step 1.
 */
export const patternFillReset: ResetHandler = (target) => {
  const regs = target.regions[0];
  if (regs === undefined) throw new KernelError('ENOMEM', `${target.name}: region 0 cannot be mapped`);
  regs.write(FILL_CTRL, 4, 0);
  regs.write(FILL_SOFT_RESET, 4, 1);
  for (let polls = 0; (regs.read(FILL_SOFT_RESET, 4) & 1) !== 0; polls++) {
    if (polls >= FILL_RESET_POLLS)
      throw new KernelError('ETIMEDOUT', `${target.name}: soft reset did not complete`);
    target.delay(1);
  }
  regs.write(FILL_STATUS, 4, 0x3);
};

/** The module as a registry takes it (what `module_vfio_reset_handler` would declare). */
export const patternFillResetModule: ResetModuleDefinition = {
  compatible: 'acme,pattern-fill',
  reset: patternFillReset,
  owner: 'acme-pattern-fill-reset',
  description: 'acme pattern-fill: stop, soft reset, clear status',
  upstream: false,
};
