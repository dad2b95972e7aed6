import { IommuGroup } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { ResetRegistry } from '@vfiokit/reset-modules';
import { describe, expect, it } from 'vitest';
import { SimpleIrqChip } from './irq/simple-irq-chip.js';
import { vfioAmbaDriver } from './platform/vfio-amba.js';
import { vfioPlatformDriver } from './platform/vfio-platform.js';
import { testIommuGroup } from './testing/test-group.js';
import { UserProcess } from './user/process.js';
import { Vfio } from './vfio.js';

// Issue #9 item 27: a typo in an options object is an error (EINVAL), not a silent default.
describe('options objects reject unknown keys', () => {
  const vfio = new Vfio();
  const base = {
    vfio,
    resets: new ResetRegistry(),
    irqChip: new SimpleIrqChip({}),
    iommuGroupOf: () => undefined,
  };
  it.each([
    ['Vfio', () => new Vfio({ allowUnsafeInterupts: true } as never)],
    ['UserProcess', () => new UserProcess({ vfio, rlimitMemLock: 1 } as never)],
    [
      'IommuGroup',
      () =>
        new IommuGroup({
          id: 1,
          allocateDomain: () => testIommuGroup({ id: 2 }).allocateDomain(),
          coherent: true,
        } as never),
    ],
    ['testIommuGroup', () => testIommuGroup({ id: 1, inputbits: 48 } as never)],
    ['vfioPlatformDriver', () => vfioPlatformDriver({ ...base, reset_required: false } as never)],
    ['vfioAmbaDriver', () => vfioAmbaDriver({ ...base, resetRequired: false } as never)],
    [
      'requestIrq',
      () =>
        new SimpleIrqChip({ 5: 'edge-rising' }).requestIrq(5, () => 'handled', {
          name: 'x',
          noAutoEn: false,
          shared: true,
        } as never),
    ],
  ])('%s', (_name, make) => {
    expect(thrownErrno(make)).toBe('EINVAL');
  });
});
