import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkKernelVersion, kernelAtLeast } from './kernel-version.js';
import { thrownErrno } from './testing/thrown-errno.js';

describe('KernelVersion', () => {
  it('kernelAtLeast compares major first, then minor', () => {
    expect(kernelAtLeast([6, 14], 6, 14)).toBe(true);
    expect(kernelAtLeast([6, 13], 6, 14)).toBe(false);
    expect(kernelAtLeast([7, 0], 6, 14)).toBe(true);
    expect(kernelAtLeast([5, 19], 6, 0)).toBe(false);
  });

  it('property: kernelAtLeast is the order of major * 1000 + minor', () => {
    const part = fc.nat(999);
    fc.assert(
      fc.property(part, part, part, part, (a, b, c, d) => {
        expect(kernelAtLeast([a, b], c, d)).toBe(a * 1000 + b >= c * 1000 + d);
      }),
    );
  });

  it('checkKernelVersion accepts [major, minor] inside the range, both ends included', () => {
    const range = { min: [6, 12], max: [6, 18] } as const;
    expect(checkKernelVersion([6, 12], 'w', range)).toEqual([6, 12]);
    expect(checkKernelVersion([6, 18], 'w', range)).toEqual([6, 18]);
    expect(checkKernelVersion([5, 4], 'w')).toEqual([5, 4]);
  });

  it('checkKernelVersion refuses malformed versions and versions outside the range (EINVAL)', () => {
    const range = { min: [6, 12], max: [6, 18] } as const;
    for (const bad of ['6.12', [6], [6, 12, 1], [6, -1], [6, 1.5], null, undefined]) {
      expect(thrownErrno(() => checkKernelVersion(bad, 'w'))).toBe('EINVAL');
    }
    expect(thrownErrno(() => checkKernelVersion([6, 11], 'w', range))).toBe('EINVAL');
    expect(thrownErrno(() => checkKernelVersion([6, 19], 'w', range))).toBe('EINVAL');
    expect(thrownErrno(() => checkKernelVersion([7, 0], 'w', range))).toBe('EINVAL');
    expect(() => checkKernelVersion([6, 19], 'populate', range)).toThrow(
      'EINVAL: populate: v6.19 is outside the modelled v6.12–v6.18',
    );
  });
});
