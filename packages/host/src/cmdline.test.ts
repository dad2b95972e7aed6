import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kstrtobool, kstrtouint, splitCmdline } from './cmdline.js';
import { errnoOf } from './test-support.js';

describe('kernel command line (kernel/params.c next_arg, parse_args)', () => {
  it('splits on spaces, keeps quoted spaces and drops the quotes', () => {
    expect(splitCmdline('  a=1 b "c d" e="f g" -- x y').params).toEqual([
      { name: 'a', value: '1' },
      { name: 'b', value: undefined },
      { name: 'c d', value: undefined },
      { name: 'e', value: 'f g' },
    ]);
    expect(splitCmdline('a -- x y').afterDashes).toEqual(['x', 'y']);
  });

  it('round-trips any list of simple parameters (property)', () => {
    const word = fc.stringMatching(/^[a-z_.][a-z0-9_.]{0,8}$/);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(word, fc.option(fc.stringMatching(/^[a-z0-9,*]{0,6}$/))), { maxLength: 8 }),
        (list) => {
          const line = list.map(([n, v]) => (v === null ? n : `${n}=${v}`)).join(' ');
          expect(splitCmdline(line).params).toEqual(
            list.map(([name, v]) => ({ name, value: v ?? undefined })),
          );
        },
      ),
    );
  });

  it('kstrtobool: y/Y/1/on true, n/N/0/off false, a bare parameter true, else EINVAL', () => {
    for (const v of ['y', 'Y', '1', 'on', 'ON', 'yes', undefined]) expect(kstrtobool(v)).toBe(true);
    for (const v of ['n', 'N', '0', 'off', 'no']) expect(kstrtobool(v)).toBe(false);
    for (const v of ['', 'maybe', '2', 'o']) expect(errnoOf(() => kstrtobool(v))).toBe('EINVAL');
  });

  it('kstrtouint: decimal, 0x hex, leading-0 octal; EINVAL otherwise, ERANGE past 32 bits', () => {
    expect(kstrtouint('65535')).toBe(65535);
    expect(kstrtouint('0x10')).toBe(16);
    expect(kstrtouint('010')).toBe(8);
    expect(errnoOf(() => kstrtouint('-1'))).toBe('EINVAL');
    expect(errnoOf(() => kstrtouint('4294967296'))).toBe('ERANGE');
  });
});
