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

describe('error messages name what is wrong', () => {
  const message = (work: () => unknown): string => {
    try {
      work();
    } catch (error) {
      if (isKernelError(error, 'EINVAL')) return error.message;
      throw error;
    }
    return '(no error)';
  };

  it.each([
    [{ compatible: ['arm,pl011', 1] }, "DmaFacts: 'compatible' must be an array of strings"],
    [{ compatible: [], path: 1 }, "DmaFacts: 'path' must be a string"],
    [{ compatible: [], deviceName: 1 }, "DmaFacts: 'deviceName' must be a string"],
    [{ compatible: [], status: true }, "DmaFacts: 'status' must be a string"],
    [{ compatible: [], iommuMap: 1 }, "DmaFacts: 'iommuMap' must be a boolean"],
    [{ compatible: [], msiParent: 'yes' }, "DmaFacts: 'msiParent' must be a boolean"],
    [{ compatible: [], dmaCoherent: 'yes' }, "DmaFacts: 'dmaCoherent' must be a boolean"],
    [{ compatible: [], periphid: '0x41011' }, "DmaFacts: 'periphid' must be a number"],
    [{ compatible: [], iommus: ['/smmu', 2] }, "DmaFacts: 'iommus' must be an array of strings"],
    [{ compatible: [], dmaMasters: [1] }, "DmaFacts: 'dmaMasters' must be an array of strings"],
    [{ compatible: [], dmaCells: 1.5 }, "DmaFacts: 'dmaCells' must be a non-negative integer"],
    [{ compatible: [], noDma: 0 }, "DmaFacts: 'noDma' must be a boolean or a string"],
    [{ compatible: [], dmas: { provider: '/d' } }, "DmaFacts: 'dmas' must be an array"],
    [{ compatible: [], dmas: [null] }, "DmaFacts: 'dmas' entries must be objects"],
    [{ compatible: [], dmas: ['/d'] }, "DmaFacts: 'dmas' entries must be objects"],
    [{ compatible: [], dmas: [{ provider: 1 }] }, "DmaFacts: 'dmas[].provider' must be a string"],
    [{ compatible: [], dmas: [{ provider: '/d', name: 1 }] }, "DmaFacts: 'dmas[].name' must be a string"],
    [{ compatible: [], dmas: [{ provider: '/d', chan: 1 }] }, "DmaFacts.dmas[]: unknown option 'chan'"],
    [[], 'DmaFacts: facts must be an object'],
    [null, 'DmaFacts: facts must be an object'],
    ['arm,pl011', 'DmaFacts: facts must be an object'],
  ])('facts %j → %s', (facts, expected) => {
    expect(message(() => assessDmaCapability(facts as unknown as DmaFacts))).toContain(expected);
  });

  it.each([
    [{ dtProperty: 1 }, "DmaPolicyOptions: 'dtProperty' must be a boolean"],
    [{ builtinNonMasterClasses: 'no' }, "DmaPolicyOptions: 'builtinNonMasterClasses' must be a boolean"],
    [{ overrides: 'path:/x' }, "DmaPolicyOptions: 'overrides' must be an array"],
    [{ overrides: [[]] }, 'DmaPolicyOptions: overrides[0] must be an object'],
    [{ overrides: [null] }, 'DmaPolicyOptions: overrides[0] must be an object'],
    [{ overrides: ['/x'] }, 'DmaPolicyOptions: overrides[0] must be an object'],
    [
      { overrides: [{ verdict: 'master' }] },
      'overrides[0] must name exactly one of path, device, compatible (got 0)',
    ],
    [{ overrides: [{ path: 5, verdict: 'master' }] }, 'overrides[0].path must be a non-empty string'],
    [{ overrides: [{ device: '', verdict: 'master' }] }, 'overrides[0].device must be a non-empty string'],
    [
      { overrides: [{ path: '/x', verdict: 'yes' }] },
      "overrides[0].verdict must be 'master' or 'non-master'",
    ],
    [
      { overrides: [{ path: '/x', verdict: 'master', reason: 5 }] },
      'overrides[0].reason must be a one-line string',
    ],
    [
      { overrides: [{ path: '/x', verdict: 'master', why: 1 }] },
      "DmaPolicyOptions.overrides[0]: unknown option 'why'",
    ],
    [
      {
        overrides: [
          { path: '/x', verdict: 'master' },
          { path: '/x', verdict: 'non-master' },
        ],
      },
      'overrides[1] contradicts an earlier override of path:/x',
    ],
  ])('options %j → %s', (options, expected) => {
    expect(message(assessWith(options))).toContain(expected);
  });

  it('of two agreeing overrides of one device, the first (and its reason) is kept', () => {
    const v = assessDmaCapability(facts, {
      overrides: [
        { path: '/x', verdict: 'master', reason: 'first' },
        { path: '/x', verdict: 'master', reason: 'second' },
      ],
    });
    expect(v.reason).toBe('user override by path: first; overrules arm,pl031');
  });
});
