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

// Each property takes the implementation it checks, so a planted bug can show that it fails.

/** A relative link from any directory resolves to its target, and is relative, with kernfs's count of ../. */
// Pairs that often share directories below /sys (a device and its driver link, its parent),
// so "the fewest ../" is tested, not only the common /sys.
const sharedPair = fc
  .tuple(sysPath, fc.array(segment, { maxLength: 3 }), fc.nat())
  .map(([from, more, cut]): [string, string] => {
    const parts = from.split('/');
    const keep = parts.slice(0, 2 + (cut % (parts.length - 1)));
    return [from, [...keep, ...more].join('/')];
  })
  .filter(([, to]) => to !== '/sys');
const pathPair = fc.oneof(fc.tuple(sysPath, sysPath), sharedPair);

const linksResolve = (link: typeof relativeLink) =>
  fc.property(pathPair, ([from, to]) => {
    const text = link(from, to);
    expect(resolve(from, text)).toBe(to);
    expect(text.startsWith('/')).toBe(false);
    // The fewest ../: one per level of `from` below the directory both paths share.
    const a = from.split('/');
    const b = to.split('/');
    let common = 0;
    // kernfs_get_target_path: up to the first ancestor of the target's parent, so a target that
    // is the link's own directory or above it is reached through its parent.
    while (common < a.length && common < b.length - 1 && a[common] === b[common]) common++;
    expect(text.split('/').filter((step) => step === '..').length).toBe(a.length - common);
  });

/** `lookupName` gives the device name exactly when sysfs_streq accepts the written text. */
const lookupAgreesWithStreq = (lookup: typeof lookupName) =>
  fc.property(segment, fc.constantFrom('', '\n', '\0', '\n\0x', '\0\n', '\n\n', ' '), (name, tail) => {
    expect(lookup(name + tail) === name).toBe(sysfsStreq(name, name + tail));
  });

/** Platform device names never hold a / and end in the id they were given. */
const namesWellFormed = (build: typeof platformDeviceName) =>
  fc.property(
    fc.string({ minLength: 1, maxLength: 8 }),
    fc.integer({ min: PLATFORM_DEVID_AUTO, max: 1000 }),
    (name, id) => {
      const auto = id === PLATFORM_DEVID_AUTO;
      const built = build(name, auto ? 3 : id, auto);
      expect(built.includes('/')).toBe(false);
      if (auto) expect(built.endsWith('.3.auto')).toBe(true);
      else if (id !== PLATFORM_DEVID_NONE) expect(built.endsWith(`.${id}`)).toBe(true);
      else expect(built).toBe(name.replaceAll('/', '!'));
    },
  );

describe('sysfs string and link properties', () => {
  it('a relative link from any directory resolves to its target, with the fewest ../', () => {
    fc.assert(linksResolve(relativeLink));
  });

  it('lookupName is what sysfs_streq accepts against a device name (names never end in a newline)', () => {
    fc.assert(lookupAgreesWithStreq(lookupName));
  });

  it('platform device names never hold a / and end in the id they were given', () => {
    fc.assert(namesWellFormed(platformDeviceName));
  });
});

describe('each property fails on a planted bug', () => {
  const fails = (property: fc.IProperty<never>): boolean => fc.check(property, { numRuns: 300 }).failed;

  it('links: always going up to /sys (an absolute-in-disguise link), or one ../ too many', () => {
    const viaRoot = (from: string, to: string): string =>
      `${'../'.repeat(from.split('/').length - 2)}${to.slice('/sys/'.length)}`;
    expect(fails(linksResolve(viaRoot) as never)).toBe(true);
    expect(fails(linksResolve((from, to) => `../${relativeLink(`${from}/x`, to)}`) as never)).toBe(true);
    expect(fails(linksResolve((_from, to) => to) as never)).toBe(true);
  });

  it('lookups: trimming all whitespace (not only one trailing newline), or stopping only at NUL', () => {
    expect(fails(lookupAgreesWithStreq((text) => text.trim()) as never)).toBe(true);
    expect(fails(lookupAgreesWithStreq((text) => text.split('\0')[0] ?? '') as never)).toBe(true);
  });

  it('names: keeping the / (no kobject rename), or dropping .auto', () => {
    expect(
      fails(
        namesWellFormed((name, id, auto) =>
          id === PLATFORM_DEVID_NONE ? name : `${platformDeviceName(name, id, auto)}`.replaceAll('!', '/'),
        ) as never,
      ),
    ).toBe(true);
    expect(
      fails(
        namesWellFormed((name, id, auto) => platformDeviceName(name, id, false) + (auto ? '' : '')) as never,
      ),
    ).toBe(true);
  });
});

describe('relativeLink examples (fs/kernfs/symlink.c kernfs_get_target_path)', () => {
  it('the driver link of a nested device and a link to an ancestor of its own directory', () => {
    expect(relativeLink('/sys/devices/platform/soc/12ce0000.i2c', '/sys/bus/platform/drivers/s3c-i2c')).toBe(
      '../../../../bus/platform/drivers/s3c-i2c',
    );
    // The walk stops at an ancestor of the target's parent, never at the target itself.
    expect(relativeLink('/sys/devices/platform/soc/child', '/sys/devices/platform/soc')).toBe('../../soc');
    expect(relativeLink('/sys/devices/platform/soc', '/sys/devices/platform/soc')).toBe('../soc');
  });
});
