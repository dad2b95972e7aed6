import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { guestPhysAddr, iova, type PhysAddr, physAddr, toSafeNumber } from './address.js';
import {
  addressRange,
  alignDown,
  alignUp,
  checkedAdd,
  checkedDistance,
  isAligned,
  isPageSize,
  PAGE_SIZE_4K,
  PAGE_SIZE_16K,
  PAGE_SIZE_64K,
  rangeContains,
  rangeContainsAddress,
  rangeEnd,
  rangesOverlap,
} from './address-math.js';
import { thrownErrno } from './testing/thrown-errno.js';

const MAX = Number.MAX_SAFE_INTEGER;
const anyAddress = fc.maxSafeNat().map((value) => value as PhysAddr);
const powerOfTwo = fc.integer({ min: 0, max: 52 }).map((bits) => 2 ** bits);

describe('address constructors', () => {
  it('accept non-negative safe integers and keep the value', () => {
    expect(physAddr(0x7ff0_0000)).toBe(0x7ff0_0000);
    expect(iova(0)).toBe(0);
    expect(guestPhysAddr(MAX)).toBe(MAX);
  });

  it.each([-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, MAX + 1, 2 ** 64])(
    'reject %s with EINVAL',
    (value) => {
      expect(thrownErrno(() => physAddr(value))).toBe('EINVAL');
      expect(thrownErrno(() => iova(value))).toBe('EINVAL');
      expect(thrownErrno(() => guestPhysAddr(value))).toBe('EINVAL');
    },
  );

  it('toSafeNumber converts raw 64-bit values and fails loudly above 2^53', () => {
    expect(toSafeNumber(0x8_0000_0000n)).toBe(0x8_0000_0000);
    expect(thrownErrno(() => toSafeNumber(2n ** 53n))).toBe('EOVERFLOW');
    expect(thrownErrno(() => toSafeNumber(-1n))).toBe('EINVAL');
  });
});

describe('page sizes', () => {
  it('are the three arm64 granules', () => {
    expect([PAGE_SIZE_4K, PAGE_SIZE_16K, PAGE_SIZE_64K]).toEqual([4096, 16384, 65536]);
    expect(isPageSize(4096)).toBe(true);
    expect(isPageSize(8192)).toBe(false);
  });
});

describe('checkedAdd (property)', () => {
  it('equals exact (bigint) addition, or fails EOVERFLOW exactly when the sum passes 2^53 − 1', () => {
    fc.assert(
      fc.property(anyAddress, fc.maxSafeInteger(), (address, offset) => {
        const exact = BigInt(address) + BigInt(offset);
        const code = thrownErrno(() => checkedAdd(address, offset));
        if (exact > BigInt(MAX)) return code === 'EOVERFLOW';
        if (exact < 0n) return code === 'EINVAL';
        return code === undefined && BigInt(checkedAdd(address, offset)) === exact;
      }),
    );
  });

  it('rejects offsets that are not safe integers', () => {
    expect(thrownErrno(() => checkedAdd(physAddr(0), 0.5))).toBe('EINVAL');
    expect(thrownErrno(() => checkedAdd(physAddr(0), MAX + 2))).toBe('EINVAL');
  });

  it('checkedDistance is the inverse of checkedAdd and refuses reversed ranges', () => {
    fc.assert(
      fc.property(anyAddress, fc.maxSafeNat(), (address, offset) => {
        fc.pre(address + offset <= MAX);
        return checkedDistance(address, checkedAdd(address, offset)) === offset;
      }),
    );
    expect(thrownErrno(() => checkedDistance(physAddr(2), physAddr(1)))).toBe('EINVAL');
  });
});

describe('alignment laws (property)', () => {
  it('alignDown(x, a) is the largest multiple of a not above x', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), powerOfTwo, (x, a) => {
        const down = alignDown(x, a);
        return down <= x && x - down < a && isAligned(down, a) && BigInt(down) % BigInt(a) === 0n;
      }),
    );
  });

  it('alignUp(x, a) is the smallest multiple of a not below x, or EOVERFLOW when that passes 2^53', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), powerOfTwo, (x, a) => {
        const exact = ((BigInt(x) + BigInt(a) - 1n) / BigInt(a)) * BigInt(a);
        if (exact > BigInt(MAX)) return thrownErrno(() => alignUp(x, a)) === 'EOVERFLOW';
        const up = alignUp(x, a);
        return BigInt(up) === exact && up >= x && up - x < a && isAligned(up, a);
      }),
    );
  });

  it('aligning is idempotent and isAligned(x, a) ⇔ alignDown(x, a) = x', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 }), powerOfTwo, (x, a) => {
        const down = alignDown(x, a);
        return alignDown(down, a) === down && isAligned(x, a) === (down === x);
      }),
    );
  });

  it.each([0, 3, 6, 0.5, -4, Number.NaN])('rejects alignment %s with EINVAL', (alignment) => {
    expect(thrownErrno(() => alignUp(0x1000, alignment))).toBe('EINVAL');
    expect(thrownErrno(() => alignDown(0x1000, alignment))).toBe('EINVAL');
    expect(thrownErrno(() => isAligned(0x1000, alignment))).toBe('EINVAL');
  });

  it('rejects negative or fractional values with EINVAL', () => {
    expect(thrownErrno(() => alignUp(-1, 4096))).toBe('EINVAL');
    expect(thrownErrno(() => isAligned(1.5, 1))).toBe('EINVAL');
  });
});

describe('ranges', () => {
  const range = (start: number, size: number) => addressRange(physAddr(start), size);

  it('checks their size and end', () => {
    expect(rangeEnd(range(0x1000, 0x2000))).toBe(0x3000);
    expect(thrownErrno(() => range(MAX, 2))).toBe('EOVERFLOW');
    expect(thrownErrno(() => range(0, -1))).toBe('EINVAL');
  });

  it('overlap and containment agree with a byte-set reference (property)', () => {
    const small = fc.record({
      start: fc.integer({ min: 0, max: 64 }),
      size: fc.integer({ min: 0, max: 16 }),
    });
    fc.assert(
      fc.property(small, small, fc.integer({ min: 0, max: 80 }), (a, b, at) => {
        const bytes = (r: { start: number; size: number }) =>
          new Set(Array.from({ length: r.size }, (_, i) => r.start + i));
        const bytesA = bytes(a);
        const bytesB = bytes(b);
        const shared = [...bytesB].some((byte) => bytesA.has(byte));
        const ra = range(a.start, a.size);
        const rb = range(b.start, b.size);
        expect(rangesOverlap(ra, rb)).toBe(shared);
        expect(rangesOverlap(rb, ra)).toBe(shared);
        expect(rangeContainsAddress(ra, physAddr(at))).toBe(bytesA.has(at));
        if (b.size > 0) expect(rangeContains(ra, rb)).toBe([...bytesB].every((byte) => bytesA.has(byte)));
      }),
    );
  });
});
