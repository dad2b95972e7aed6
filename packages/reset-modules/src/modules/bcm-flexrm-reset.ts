import { KernelError, type MmioDevice, type ResetHandler, rejectUnknownOptions } from '@vfiokit/core';
import {
  CONTROL_FLUSH,
  FLUSH_DONE_MASK,
  RING_CONTROL,
  RING_FLUSH_DONE,
  RING_REGS_SIZE,
  RING_VER,
  RING_VER_MAGIC,
} from '../models/bcm-flexrm-regs.js';
import type { ResetModuleDefinition } from '../registry/reset-module.js';
import { BCM_FLEXRM_DEPRECATION } from './deprecations.js';

/** The compatible string the FlexRM module registers for (`module_vfio_reset_handler`). */
export const BCM_FLEXRM_COMPATIBLE = 'brcm,iproc-flexrm-mbox';

/** Polls of RING_FLUSH_DONE per wait, `mdelay(1)` apart ("timeout of 1s"). */
export const FLEXRM_FLUSH_POLLS = 1000;

/** Options of {@link createBcmFlexrmReset}; unknown keys are refused with `EINVAL`. */
export interface BcmFlexrmResetOptions {
  /** Where `dev_warn` goes (default `console.warn`). */
  readonly warn?: (message: string) => void;
}

/** `mdelay(1)` in model time. */
const MDELAY_1 = 1000;

type Delay = (microseconds: number) => void;

// vfio_platform_bcmflexrm_shutdown: poll RING_FLUSH_DONE until (bit 0 set) === `set`; up to
// 1000 reads with mdelay(1) after each miss: `do { if (...) break; mdelay(1); } while (--timeout);`.
function pollFlushDone(regs: MmioDevice, ring: number, set: boolean, delay: Delay): boolean {
  let timeout = FLEXRM_FLUSH_POLLS;
  do {
    if (((regs.read(ring + RING_FLUSH_DONE, 4) & FLUSH_DONE_MASK) !== 0) === set) break;
    delay(MDELAY_1);
  } while (--timeout);
  return timeout !== 0;
}

// vfio_platform_bcmflexrm_shutdown, step for step: RING_CONTROL ← 0 (inactivate), ← FLUSH,
// wait for FLUSH_DONE, RING_CONTROL ← 0, wait for FLUSH_DONE to clear; -ETIMEDOUT on a wait
// that runs out.
function shutdownRing(regs: MmioDevice, ring: number, delay: Delay): boolean {
  regs.write(ring + RING_CONTROL, 4, 0);
  regs.write(ring + RING_CONTROL, 4, CONTROL_FLUSH);
  if (!pollFlushDone(regs, ring, true, delay)) return false;
  regs.write(ring + RING_CONTROL, 4, 0);
  return pollFlushDone(regs, ring, false, delay);
}

/**
 * The kernel's FlexRM reset (drivers/vfio/platform/reset/vfio_platform_bcmflexrm.c:
 * vfio_platform_bcmflexrm_reset), exact to its register sequence: for every 64 KiB window of
 * region 0 (`ring < ioaddr + size`) whose RING_VER reads 0x76303031, shut the ring down (see
 * `shutdownRing`). A ring that times out gets `dev_warn("FlexRM ring%d shutdown error %d")`
 * (ring numbers count only rings with the magic) and the loop goes on; the reset then fails
 * with `ETIMEDOUT` (the kernel ORs the -ETIMEDOUTs into its return value). Without region 0
 * it is `ENOMEM` (ioremap failed).
 *
 * Since v6.18 the kernel prints {@link BCM_FLEXRM_DEPRECATION} the first time it runs; the
 * module definition carries that text and the device's report shows it.
 */
export function createBcmFlexrmReset(options: BcmFlexrmResetOptions = {}): ResetHandler {
  rejectUnknownOptions(options, ['warn'], 'createBcmFlexrmReset');
  const warn = options.warn ?? ((message: string) => console.warn(message));
  return (target) => {
    const regs = target.regions[0];
    if (regs === undefined) throw new KernelError('ENOMEM', `${target.name}: region 0 cannot be mapped`);
    const delay: Delay = (us) => target.delay(us);
    let failed = 0;
    let ringNum = 0;
    for (let ring = 0; ring < regs.size; ring += RING_REGS_SIZE) {
      if (regs.read(ring + RING_VER, 4) !== RING_VER_MAGIC) continue;
      if (!shutdownRing(regs, ring, delay)) {
        warn(`${target.name}: FlexRM ring${ringNum} shutdown error -110`); // rc is -ETIMEDOUT
        failed++;
      }
      ringNum++;
    }
    if (failed > 0) {
      throw new KernelError('ETIMEDOUT', `${target.name}: ${failed} FlexRM ring(s) did not flush`);
    }
  };
}

/** The kernel's FlexRM reset with `dev_warn` on the console. */
export const bcmFlexrmReset: ResetHandler = createBcmFlexrmReset();

/** The upstream module `vfio-platform-bcmflexrm` (CONFIG_VFIO_PLATFORM_BCMFLEXRM_RESET). */
export const bcmFlexrmResetModule: ResetModuleDefinition = {
  compatible: BCM_FLEXRM_COMPATIBLE,
  reset: bcmFlexrmReset,
  owner: 'vfio-platform-bcmflexrm',
  description: 'Broadcom FlexRM: inactivate and flush every ring whose RING_VER is "v001" (kernel sequence)',
  upstream: true,
  deprecation: BCM_FLEXRM_DEPRECATION,
};
