import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PLATFORM_DEVID_AUTO, PLATFORM_DEVID_NONE, platformDeviceName } from './device-name.js';
import { relativeLink } from './sysfs-link.js';
import { lookupName, sysfsStreq } from './sysfs-string.js';

const segment = fc.stringMatching(/^[a-z0-9.@!_-]{1,6}$/).filter((s) => s !== '.' && s !== '..');
const sysPath = fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => `/sys/${parts.join('/')}`);

/** Resolves `link` relative to the directory `from`, as a path lookup does. */
function resolve(from: string, link: string): string {
  const parts = from.split('/').filter((p) => p.length > 0);
  for (const step of link.split('/')) {
    if (step === '..') parts.pop();
    else parts.push(step);
  }
  return `/${parts.join('/')}`;
}

describe('sysfs string and link properties', () => {
  it('a relative link from any directory resolves to its target, with the fewest ../', () => {
    fc.assert(
      fc.property(sysPath, sysPath, (from, to) => {
        const link = relativeLink(from, to);
        expect(resolve(from, link)).toBe(to);
        expect(link.startsWith('/')).toBe(false);
      }),
    );
  });

  it('lookupName is what sysfs_streq accepts against a device name (names never end in a newline)', () => {
    fc.assert(
      fc.property(segment, fc.constantFrom('', '\n', '\0', '\n\0x', '\0\n', '\n\n', ' '), (name, tail) => {
        expect(lookupName(name + tail) === name).toBe(sysfsStreq(name, name + tail));
      }),
    );
  });

  it('platform device names never hold a / and end in the id they were given', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 8 }),
        fc.integer({ min: PLATFORM_DEVID_AUTO, max: 1000 }),
        (name, id) => {
          const auto = id === PLATFORM_DEVID_AUTO;
          const built = platformDeviceName(name, auto ? 3 : id, auto);
          expect(built.includes('/')).toBe(false);
          if (auto) expect(built.endsWith('.3.auto')).toBe(true);
          else if (id !== PLATFORM_DEVID_NONE) expect(built.endsWith(`.${id}`)).toBe(true);
          else expect(built).toBe(name.replaceAll('/', '!'));
        },
      ),
    );
  });
});
