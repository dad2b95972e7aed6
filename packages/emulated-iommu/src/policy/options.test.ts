import { isKernelError } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { assessDmaCapability } from './assess.js';
import type { DmaFacts } from './facts.js';
import type { DmaPolicyOptions } from './options.js';

const facts: DmaFacts = { path: '/x', compatible: ['arm,pl031'] };
const assessWith = (options: unknown) => () => assessDmaCapability(facts, options as DmaPolicyOptions);
const assessFacts = (value: unknown) => () => assessDmaCapability(value as DmaFacts);

describe('options are checked (core rejectUnknownOptions, EINVAL)', () => {
  it('an unknown key names the valid ones', () => {
    let error: unknown;
    try {
      assessWith({ overide: [] })();
    } catch (e) {
      error = e;
    }
    expect(isKernelError(error, 'EINVAL')).toBe(true);
    expect(String(error)).toContain('valid options: overrides, dtProperty, builtinNonMasterClasses');
  });

  it.each([
    ['a non-object', 42],
    ['a non-boolean dtProperty', { dtProperty: 'yes' }],
    ['a non-boolean builtinNonMasterClasses', { builtinNonMasterClasses: 1 }],
    ['overrides that are not an array', { overrides: {} }],
    ['an override with an unknown key', { overrides: [{ path: '/x', verdict: 'master', why: 'x' }] }],
    ['an override naming no device', { overrides: [{ verdict: 'master' }] }],
    ['an override naming two devices', { overrides: [{ path: '/x', device: 'x', verdict: 'master' }] }],
    ['an override with an empty key', { overrides: [{ path: '', verdict: 'master' }] }],
    ['an override with a bad verdict', { overrides: [{ path: '/x', verdict: 'unknown' }] }],
    [
      'an override with a multi-line reason',
      { overrides: [{ path: '/x', verdict: 'master', reason: 'a\nb' }] },
    ],
    [
      'two overrides of one device that disagree',
      {
        overrides: [
          { path: '/x', verdict: 'master' },
          { path: '/x', verdict: 'non-master' },
        ],
      },
    ],
  ])('%s → EINVAL', (_name, options) => {
    expect(thrownErrno(assessWith(options))).toBe('EINVAL');
  });

  it('two overrides of one device that agree are accepted', () => {
    const same = { path: '/x', verdict: 'non-master' as const };
    expect(assessDmaCapability(facts, { overrides: [same, same] }).verdict).toBe('non-master');
  });

  it('undefined and empty options are the defaults', () => {
    expect(assessDmaCapability(facts).verdict).toBe('non-master');
    expect(assessDmaCapability(facts, {}).verdict).toBe('non-master');
  });
});

describe('facts are checked: a misspelt evidence field must not silently drop evidence', () => {
  it.each([
    ['an unknown key (iommu for iommus)', { compatible: [], iommu: ['/smmu'] }],
    ['a missing compatible', { path: '/x' }],
    ['a compatible that is not a string list', { compatible: 'arm,pl011' }],
    ['iommus not a string list', { compatible: [], iommus: '/smmu' }],
    ['a negative #dma-cells', { compatible: [], dmaCells: -1 }],
    ['a non-boolean dmaCoherent', { compatible: [], dmaCoherent: 'yes' }],
    ['a numeric noDma', { compatible: [], noDma: 1 }],
    ['dmas entries without a provider', { compatible: [], dmas: [{ name: 'tx' }] }],
    ['dmas entries with an unknown key', { compatible: [], dmas: [{ provider: '/d', channel: 1 }] }],
    ['null', null],
  ])('%s → EINVAL', (_name, value) => {
    expect(thrownErrno(assessFacts(value))).toBe('EINVAL');
  });
});
