import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { junoPl330Host, PL330_DEVICE, pl330SmmuExample } from './pl330-smmu.js';

describe('example: seed 000, the Juno r2 PL330 through the MMU-401 and its (vfiokit) reset', () => {
  it('EPERM without allow_unsafe_interrupts; the copy goes through the SMMU, a stray read faults, the close reset stops a runaway channel', () => {
    const outcome = pl330SmmuExample();
    expect(outcome.device).toBe(PL330_DEVICE);
    expect(outcome.iommuGroup).toBe(1);
    expect(outcome.setIommuWithoutUnsafeInterrupts).toBe('EPERM');
    // arm_smmu_get_resv_regions: the software MSI window is cut out of the 48-bit aperture
    // (the MMU-401 uses the AArch64 format on a 64-bit kernel).
    expect(outcome.iovaRanges).toEqual([
      { start: 0n, end: 0x7ff_ffffn },
      { start: 0x810_0000n, end: 2n ** 48n - 1n },
    ]);
    expect(outcome.copyIntact).toBe(true);
    expect(outcome.outsideFault).toBe('translation at IOVA 0x40000000');
    expect(outcome.smmuLog).toHaveLength(1);
    expect(outcome.smmuLog[0]).toMatch(/Unhandled context fault: fsr=0x2, iova=0x40000000/);
    expect(outcome.dmaActiveBeforeClose).toBe(true);
    expect(outcome.dmaActiveAfterClose).toBe(false);
    expect(outcome.events).toEqual(['reset', 'open', 'reset', 'close']);
    expect(outcome.resetSummary).toContain('reset by module vfiokit-pl330-reset');
    expect(outcome.upstreamRegister).toBe('ENOENT');
  });

  it('the reset check has teeth: without the module the runaway channel survives the close', () => {
    const outcome = pl330SmmuExample({ pl330Reset: false });
    expect(outcome.dmaActiveBeforeClose).toBe(true);
    expect(outcome.dmaActiveAfterClose).toBe(true);
    expect(outcome.events).toEqual(['reset-failed', 'open', 'reset-failed', 'close']);
    expect(outcome.resetSummary).toContain('no reset');
  });

  it('rejects unknown options with EINVAL', () => {
    expect(thrownErrno(() => junoPl330Host({ pl330reset: false } as never))).toBe('EINVAL');
  });
});
