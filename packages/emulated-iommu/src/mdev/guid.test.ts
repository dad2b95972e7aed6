import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { guidParse } from './guid.js';

const hex = (n: number): fc.Arbitrary<string> =>
  fc
    .array(fc.constantFrom(...'0123456789abcdefABCDEF'), { minLength: n, maxLength: n })
    .map((a) => a.join(''));
const uuid = fc.tuple(hex(8), hex(4), hex(4), hex(4), hex(12)).map((p) => p.join('-'));

describe('guidParse (lib/uuid.c __uuid_parse)', () => {
  it('accepts either case and prints the canonical lowercase form', () => {
    expect(guidParse('83B8F4F2-509F-382F-3C1E-E6BFE0FA1001')).toBe('83b8f4f2-509f-382f-3c1e-e6bfe0fa1001');
  });

  it('never looks past the 36th character (create_store takes a 37th byte)', () => {
    expect(guidParse('83b8f4f2-509f-382f-3c1e-e6bfe0fa1001x')).toBe('83b8f4f2-509f-382f-3c1e-e6bfe0fa1001');
  });

  it('is EINVAL for a short string, a misplaced hyphen and a non-hex digit', () => {
    for (const bad of [
      '83b8f4f2-509f-382f-3c1e-e6bfe0fa100',
      '83b8f4f2_509f-382f-3c1e-e6bfe0fa1000',
      '83b8f4f2-509f-382f-3c1e-e6bfe0fa100g',
    ])
      expect(() => guidParse(bad)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('property: every well-formed UUID parses to its lowercase form, one bad character fails', () => {
    fc.assert(
      fc.property(uuid, fc.nat(35), fc.constantFrom('g', 'x', ' ', '-', '_'), (text, at, bad) => {
        expect(guidParse(text)).toBe(text.toLowerCase());
        const isHyphen = [8, 13, 18, 23].includes(at);
        if (isHyphen === (bad === '-')) return;
        const broken = `${text.slice(0, at)}${bad}${text.slice(at + 1)}`;
        expect(() => guidParse(broken)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      }),
    );
  });
});
