import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRNO, type ErrnoName, errnoName, errnoNumber, isErrnoName } from './errno.js';

// The system's asm-generic tables are the arm64 ones (arch/arm64 has no errno.h of its own).
const HEADERS = ['/usr/include/asm-generic/errno-base.h', '/usr/include/asm-generic/errno.h'];

function systemErrnos(): Map<string, number> {
  const found = new Map<string, number>();
  for (const header of HEADERS) {
    for (const match of readFileSync(header, 'utf8').matchAll(/^#define\s+(E[A-Z0-9_]+)\s+(\d+)/gm)) {
      found.set(match[1] ?? '', Number(match[2]));
    }
  }
  return found;
}

const haveHeaders = HEADERS.every((header) => existsSync(header));
if (!haveHeaders)
  console.warn(`SKIP errno header comparison: ${HEADERS.join(', ')} not installed (linux-libc-dev)`);

describe('ERRNO', () => {
  it.runIf(haveHeaders)(
    'matches include/uapi/asm-generic/errno{-base,}.h for every user-visible name',
    () => {
      const system = systemErrnos();
      const userVisible = (Object.keys(ERRNO) as ErrnoName[]).filter((name) => ERRNO[name] < 512);
      expect(userVisible.length).toBeGreaterThan(40);
      for (const name of userVisible) expect([name, system.get(name)]).toEqual([name, ERRNO[name]]);
    },
  );

  it('has the kernel-internal codes of include/linux/errno.h', () => {
    expect(ERRNO.ERESTARTSYS).toBe(512);
    expect(ERRNO.EPROBE_DEFER).toBe(517);
    expect(ERRNO.ENOTSUPP).toBe(524);
  });

  it('maps names to numbers and back, accepting kernel-style negative returns', () => {
    expect(errnoNumber('EBUSY')).toBe(16);
    expect(errnoName(-22)).toBe('EINVAL');
    expect(errnoName(517)).toBe('EPROBE_DEFER');
    expect(errnoName(4242)).toBeUndefined();
    expect(isErrnoName('ENOTTY')).toBe(true);
    expect(isErrnoName('toString')).toBe(false);
  });
});
