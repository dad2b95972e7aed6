import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TranslatedDmaPort } from './dma-port.js';
import { EventFd } from './eventfd.js';
import { isKernelError } from './kernel-error.js';
import { rejectUnknownOptions } from './options.js';
import { PhysicalMemory } from './physical-memory.js';
import { FlatIommuDomain } from './testing/flat-iommu-domain.js';

interface Sample {
  readonly alpha?: number;
  readonly beta?: boolean;
}
const KEYS = ['alpha', 'beta'] as const;

function errorOf(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('rejectUnknownOptions', () => {
  it('accepts undefined, an empty object and any subset of the allowed keys', () => {
    expect(() => rejectUnknownOptions<Sample>(undefined, KEYS, 'sample')).not.toThrow();
    expect(() => rejectUnknownOptions<Sample>({}, KEYS, 'sample')).not.toThrow();
    expect(() => rejectUnknownOptions<Sample>({ alpha: 1 }, KEYS, 'sample')).not.toThrow();
    expect(() => rejectUnknownOptions<Sample>({ alpha: 1, beta: true }, KEYS, 'sample')).not.toThrow();
  });

  it('refuses a typo with EINVAL naming the caller, the unknown key and the valid ones', () => {
    const error = errorOf(() => rejectUnknownOptions({ alpah: 1 } as Sample, KEYS, 'Sample()'));
    expect(isKernelError(error, 'EINVAL')).toBe(true);
    expect((error as Error).message).toBe(
      "EINVAL: Sample(): unknown option 'alpah' (valid options: alpha, beta)",
    );
  });

  it('checks a key even when its value is undefined (the name is the typo)', () => {
    const options = { gamma: undefined } as unknown as Sample;
    expect(
      isKernelError(
        errorOf(() => rejectUnknownOptions(options, KEYS, 's')),
        'EINVAL',
      ),
    ).toBe(true);
  });

  it('says "none" when the callee takes no option at all', () => {
    const error = errorOf(() => rejectUnknownOptions({ x: 1 } as object, [], 'noop'));
    expect((error as Error).message).toBe("EINVAL: noop: unknown option 'x' (valid options: none)");
  });

  it('refuses null, arrays and non-objects', () => {
    for (const [value, words] of [
      [null, 'null'],
      [[], 'an array'],
      [3, 'a number'],
      ['alpha', 'a string'],
    ] as const) {
      const error = errorOf(() => rejectUnknownOptions(value as unknown as Sample, KEYS, 'w'));
      expect(isKernelError(error, 'EINVAL')).toBe(true);
      expect((error as Error).message).toBe(`EINVAL: w: options must be an object, not ${words}`);
    }
  });

  it('ignores keys inherited through the prototype (only what the caller spelled)', () => {
    const options = Object.create({ inherited: 1 }) as Sample;
    expect(() => rejectUnknownOptions(options, KEYS, 'w')).not.toThrow();
  });

  it('property: an object throws exactly when one of its keys is outside the allowed list', () => {
    const key = fc.constantFrom('alpha', 'beta', 'gamma', 'delta', 'constructor', '__proto__x');
    fc.assert(
      fc.property(
        fc.uniqueArray(key, { maxLength: 4 }),
        fc.subarray(['alpha', 'beta', 'gamma']),
        (keys, allowed) => {
          const options = Object.fromEntries(keys.map((k) => [k, 0]));
          const unknown = keys.filter((k) => !allowed.includes(k));
          const error = errorOf(() => rejectUnknownOptions(options, allowed as never[], 'p'));
          if (unknown.length === 0) return error === undefined;
          return isKernelError(error, 'EINVAL') && (error as Error).message.includes(`'${unknown[0]}'`);
        },
      ),
    );
  });
});

// Each options object of this package goes through the helper; a typo that used to fall back
// to a default silently (issue #9 item 27) is now EINVAL.
describe('core options objects reject unknown keys', () => {
  const typo = <T>(value: Record<string, unknown>): T => value as T;
  it.each([
    ['EventFd', () => new EventFd(typo({ semaphor: true }))],
    ['PhysicalMemory', () => new PhysicalMemory(typo({ adressBits: 40 }))],
    [
      'TranslatedDmaPort',
      () => new TranslatedDmaPort(typo({ memory: new PhysicalMemory(), domain: null, granule: 4096 })),
    ],
    ['FlatIommuDomain', () => new FlatIommuDomain(typo({ inputbits: 32 }))],
  ])('%s', (name, build) => {
    const error = errorOf(build);
    expect(isKernelError(error, 'EINVAL')).toBe(true);
    expect((error as Error).message).toContain(`${name}: unknown option`);
  });
});
