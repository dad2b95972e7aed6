// The edges of core's checks, each on both sides: written to kill the surviving mutants of
// the first mutation run (`npm run mutate -- core`) that are behaviours a user relies on —
// which values are refused, with which errno, and what the message names.
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
  rangeContains,
  rangeContainsAddress,
  rangesOverlap,
} from './address-math.js';
import { TranslatedDmaPort } from './dma-port.js';
import { EventFd } from './eventfd.js';
import type { IommuDomain } from './iommu/iommu-domain.js';
import { isKernelError, KernelError } from './kernel-error.js';
import { checkKernelVersion } from './kernel-version.js';
import { PhysicalMemory } from './physical-memory.js';
import { ManualScheduler } from './scheduler.js';
import { FlatIommuDomain } from './testing/flat-iommu-domain.js';
import { thrownErrno } from './testing/thrown-errno.js';

const at = (value: number) => value as PhysAddr;
const MAX = Number.MAX_SAFE_INTEGER;

describe('PhysicalMemory edges', () => {
  it('addressBits is an integer in 12..52', () => {
    expect(new PhysicalMemory({ addressBits: 12 }).limit).toBe(0x1000);
    expect(new PhysicalMemory({ addressBits: 52 }).limit).toBe(2 ** 52);
    for (const bits of [11, 53, 40.5]) {
      expect(() => new PhysicalMemory({ addressBits: bits })).toThrow(
        `EINVAL: addressBits ${bits} is not between 12 and 52`,
      );
    }
  });

  it('allocate takes whole pages only: start, size and size 0 are each checked', () => {
    const memory = new PhysicalMemory();
    expect(() => memory.allocate(at(0x1800), 0x1000)).toThrow('EINVAL: RAM 0x1800+0x1000 is not whole pages');
    expect(thrownErrno(() => memory.allocate(at(0x1000), 0x800))).toBe('EINVAL');
    expect(thrownErrno(() => memory.allocate(at(0x1000), 0))).toBe('EINVAL');
    memory.allocate(at(0x1000), 0x1000);
    expect(() => memory.allocate(at(0x0), 0x3000)).toThrow(
      'EEXIST: RAM 0x0+0x3000 overlaps RAM already declared',
    );
  });

  it('finds each of several RAM ranges and the holes between them (binary search)', () => {
    const memory = new PhysicalMemory();
    memory.allocate(at(0x5000), 0x1000);
    memory.allocate(at(0x1000), 0x1000);
    memory.allocate(at(0x9000), 0x2000);
    const backed = [0x0, 0x1000, 0x2000, 0x4fff, 0x5000, 0x6000, 0x9000, 0xafff, 0xb000].map((a) =>
      memory.isBacked(at(a)),
    );
    expect(backed).toEqual([false, true, false, false, true, false, true, true, false]);
  });

  it('isBacked is false outside the space and for non-addresses, true up to the last byte', () => {
    const memory = new PhysicalMemory({ addressBits: 16 });
    memory.allocate(at(0), 0x1_0000);
    expect(memory.isBacked(at(0))).toBe(true);
    expect(memory.isBacked(at(0xffff))).toBe(true);
    expect(memory.isBacked(at(0x1_0000))).toBe(false);
    expect(memory.isBacked(at(-1))).toBe(false);
    expect(memory.isBacked(at(0.5))).toBe(false);
  });

  it('copies across page boundaries, in small and large pieces, byte for byte', () => {
    const memory = new PhysicalMemory();
    memory.allocate(at(0), 0x4000);
    for (const [start, length] of [
      [0xff8, 16],
      [0xff0, 40],
      [0x0ffa, 0x1010],
      [0x10, 17],
    ] as const) {
      const data = Uint8Array.from({ length }, (_, i) => (i * 7 + start) & 0xff);
      memory.write(at(start), data);
      const back = new Uint8Array(length);
      memory.read(at(start), back);
      expect(back).toEqual(data);
      // Neighbours untouched: one byte before and after.
      const around = new Uint8Array(length + 2);
      memory.read(at(start - 1), around);
      expect(around.subarray(1, length + 1)).toEqual(data);
    }
    const fresh = new PhysicalMemory();
    fresh.allocate(at(0), 0x2000);
    fresh.write(at(0xff0), new Uint8Array(0x20).fill(0xee));
    expect(fresh.readU8(at(0xfef))).toBe(0);
    expect(fresh.readU8(at(0x1010))).toBe(0);
    expect(fresh.readU8(at(0x100f))).toBe(0xee);
  });

  it('u16 and u64 writes touch exactly their bytes; values out of range are EINVAL', () => {
    const memory = new PhysicalMemory();
    memory.allocate(at(0), 0x1000);
    memory.writeU16(at(0x10), 0xbeef);
    expect(memory.readU16(at(0x10))).toBe(0xbeef);
    expect(memory.readU8(at(0x12))).toBe(0);
    memory.writeU32(at(0x20), 0x1234_5678);
    expect(memory.readU8(at(0x24))).toBe(0);
    memory.writeU64(at(0x30), 0xffff_ffff_ffff_ffffn);
    expect(memory.readU64(at(0x30))).toBe(0xffff_ffff_ffff_ffffn);
    memory.writeU64(at(0x40), 0n);
    expect(() => memory.writeU64(at(0x40), -1n)).toThrow('EINVAL: value -1 does not fit in 64 bits');
    expect(thrownErrno(() => memory.writeU64(at(0x40), 1n << 64n))).toBe('EINVAL');
    expect(() => memory.writeU16(at(0x10), 0x1_0000)).toThrow('EINVAL: value 65536 does not fit in 2 bytes');
    expect(thrownErrno(() => memory.writeU16(at(0x10), -1))).toBe('EINVAL');
  });

  it('refuses bad ranges (EINVAL) and ranges that end past the space (EFAULT), the last byte included', () => {
    const memory = new PhysicalMemory({ addressBits: 16 });
    memory.allocate(at(0), 0x1_0000);
    expect(memory.readU16(at(0xfffe))).toBe(0);
    expect(() => memory.readU16(at(0xffff))).toThrow(
      'EFAULT: 0xffff+0x2 lies past the 16-bit physical space',
    );
    expect(() => memory.read(at(-1), new Uint8Array(1))).toThrow('EINVAL: bad physical range -1+1');
    expect(thrownErrno(() => memory.read(at(0.5), new Uint8Array(1)))).toBe('EINVAL');
    expect(thrownErrno(() => memory.allocate(at(0), -4096))).toBe('EINVAL');
    expect(thrownErrno(() => memory.allocate(at(0), 0.5))).toBe('EINVAL');
  });
});

describe('address edges', () => {
  it('constructors name the address kind they refuse', () => {
    expect(() => physAddr(-1)).toThrow('EINVAL: physical address -1 is not a non-negative safe integer');
    expect(() => iova(0.5)).toThrow('EINVAL: IOVA 0.5 is not a non-negative safe integer');
    expect(() => guestPhysAddr(-2)).toThrow('EINVAL: guest physical address -2');
  });

  it('toSafeNumber accepts 0 and 2^53 - 1, refuses below and above', () => {
    expect(toSafeNumber(0n)).toBe(0);
    expect(toSafeNumber(BigInt(MAX))).toBe(MAX);
    expect(() => toSafeNumber(-1n, 'size')).toThrow('EINVAL: size -1 is negative');
    expect(() => toSafeNumber(BigInt(MAX) + 1n)).toThrow(
      'EOVERFLOW: value 0x20000000000000 does not fit below 2^53',
    );
  });

  it('isPageSize knows 4K, 16K and 64K only', () => {
    expect([0x1000, 0x4000, 0x10000, 0x2000, 0].map(isPageSize)).toEqual([true, true, true, false, false]);
  });

  it('checkedAdd reaches 2^53 - 1 and 0 exactly, and no further', () => {
    expect(checkedAdd(physAddr(MAX - 1), 1)).toBe(MAX);
    expect(() => checkedAdd(physAddr(MAX), 1)).toThrow('EOVERFLOW: 0x1fffffffffffff + 0x1 passes 2^53');
    expect(checkedAdd(physAddr(1), -1)).toBe(0);
    expect(() => checkedAdd(physAddr(1), -2)).toThrow('EINVAL: 0x1 + -2 is negative');
    expect(() => checkedAdd(physAddr(1), 0.5)).toThrow('EINVAL: offset 0.5 is not a safe integer');
    expect(() => checkedDistance(physAddr(2), physAddr(1))).toThrow('EINVAL: 0x1 lies below 0x2');
  });

  it('alignUp reaches 2^53 - 1 rounded down to the alignment, and no further', () => {
    const top = MAX - (MAX % 0x1000) - 0x1000 + 1; // the last 4K-aligned value below 2^53, plus 1
    expect(alignUp(top, 0x1000)).toBe(top - 1 + 0x1000);
    expect(() => alignUp(MAX, 0x1000)).toThrow(
      /EOVERFLOW: 0x1fffffffffffff aligned up to 0x1000 passes 2\^53/,
    );
    expect(() => alignUp(-1, 0x1000)).toThrow('EINVAL: value -1 is not a non-negative safe integer');
    expect(() => alignUp(1, 3)).toThrow('EINVAL: alignment 3 is not a power of two');
  });

  it('ranges: half-open, adjacent ranges do not overlap, ends are exclusive', () => {
    const r = (start: number, size: number) => ({ start: physAddr(start), size });
    expect(rangesOverlap(r(0, 0x10), r(0x10, 0x10))).toBe(false);
    expect(rangesOverlap(r(0x10, 0x10), r(0, 0x10))).toBe(false);
    expect(rangesOverlap(r(0, 0x11), r(0x10, 0x10))).toBe(true);
    expect(rangeContains(r(0, 0x20), r(0x10, 0x10))).toBe(true);
    expect(rangeContains(r(0, 0x20), r(0x10, 0x11))).toBe(false);
    expect(rangeContainsAddress(r(0x10, 0x10), physAddr(0x10))).toBe(true);
    expect(rangeContainsAddress(r(0x10, 0x10), physAddr(0xf))).toBe(false);
    expect(rangeContainsAddress(r(0x10, 0x10), physAddr(0x20))).toBe(false);
  });
});

describe('TranslatedDmaPort edges', () => {
  // A domain that counts translations: the port splits at the domain's smallest page.
  function counting(pgsizeBitmap: number): { domain: IommuDomain; calls: () => number } {
    const inner = new FlatIommuDomain({ pgsizeBitmap });
    inner.map(iova(0), physAddr(0x10_0000), 0x2_0000, 3);
    let calls = 0;
    const domain = new Proxy(inner, {
      get(target, key, receiver) {
        if (key === 'translate') {
          return (...args: Parameters<IommuDomain['translate']>) => {
            calls++;
            return target.translate(...args);
          };
        }
        const value = Reflect.get(target, key, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as IommuDomain;
    return { domain, calls: () => calls };
  }

  it('splits an access at the domain granule (64K pages: one translation for 64K)', () => {
    const memory = new PhysicalMemory();
    memory.allocate(physAddr(0x10_0000), 0x2_0000);
    const big = counting(0x1_0000);
    new TranslatedDmaPort({ memory, domain: big.domain }).write(iova(0), new Uint8Array(0x1_0000));
    expect(big.calls()).toBe(1);
    const small = counting(0x1000);
    new TranslatedDmaPort({ memory, domain: small.domain }).write(iova(0x800), new Uint8Array(0x2000));
    expect(small.calls()).toBe(3);
  });

  it('reports a bus error as a fault naming the IOVA, and lets other errors through', () => {
    const memory = new PhysicalMemory();
    const port = new TranslatedDmaPort({ memory, domain: null });
    const fault = port.write(iova(0x1000), new Uint8Array(4));
    expect(fault).toBeNull();
    const missing = port.read(iova(0x9000), new Uint8Array(4));
    expect(missing).toMatchObject({ kind: 'translation', iova: 0x9000, access: 'read' });
    expect(missing?.reason).toMatch(/^bus error: EFAULT: no memory at physical address 0x9000$/);
    const broken = new (class extends PhysicalMemory {
      override read(): void {
        throw new RangeError('model bug');
      }
    })();
    expect(() =>
      new TranslatedDmaPort({ memory: broken, domain: null }).read(iova(0), new Uint8Array(1)),
    ).toThrow(RangeError);
  });
});

describe('EventFd edges', () => {
  it('write refuses values outside 64 bits and unsafe numbers, naming them', () => {
    const eventfd = new EventFd();
    expect(() => eventfd.write(-1n)).toThrow('EINVAL: eventfd write of -1 is not a 64-bit unsigned value');
    expect(thrownErrno(() => eventfd.write(1n << 64n))).toBe('EINVAL');
    expect(() => eventfd.write(2 ** 53)).toThrow(
      'EINVAL: eventfd write of 9007199254740992 is not a safe integer',
    );
    expect(() => eventfd.write(0xffff_ffff_ffff_ffffn)).toThrow(
      'EINVAL: eventfd write of 0xffffffffffffffff',
    );
    expect(() => new EventFd({ initval: -1 })).toThrow('EINVAL: eventfd initval -1 is not an unsigned int');
    expect(() => eventfd.read()).toThrow('EAGAIN: eventfd counter is zero');
    eventfd.close();
    expect(() => eventfd.read()).toThrow('EBADF: eventfd is closed');
  });

  it('consume at zero returns 0 without moving the counter, in semaphore mode too', () => {
    const semaphore = new EventFd({ semaphore: true });
    expect(semaphore.consume()).toBe(0n);
    expect(semaphore.count).toBe(0n);
    expect(semaphore.readable).toBe(false);
  });

  it('a semaphore read borrows across the 32-bit halves', () => {
    const semaphore = new EventFd({ semaphore: true });
    semaphore.write(0x1_0000_0000n);
    semaphore.read();
    expect(semaphore.count).toBe(0xffff_ffffn);
    semaphore.signal();
    expect(semaphore.count).toBe(0x1_0000_0000n);
  });
});

describe('ManualScheduler edges', () => {
  it('run(index) on an empty queue is ENOENT; indexes wrap, negative ones from the end', () => {
    const scheduler = new ManualScheduler();
    expect(() => scheduler.run(0)).toThrow('ENOENT: no task is pending');
    for (const label of ['a', 'b', 'c']) scheduler.schedule(label, () => {});
    expect(scheduler.pending.map((t) => t.id)).toEqual([0, 1, 2]);
    expect(scheduler.run(-1)).toBe('c');
    expect(scheduler.run(3)).toBe('b');
    expect(scheduler.trace).toEqual(['c', 'b']);
  });

  it('runAll stops exactly at its limit only when tasks remain', () => {
    const scheduler = new ManualScheduler();
    for (let i = 0; i < 3; i++) scheduler.schedule(`t${i}`, () => {});
    expect(scheduler.runAll(3)).toBe(3);
    const looping = new ManualScheduler();
    const again = (): void => looping.schedule('again', again);
    looping.schedule('again', again);
    expect(() => looping.runAll(5)).toThrow('ETIMEDOUT: still 1 tasks pending after 5');
  });
});

describe('KernelError brand', () => {
  it('is recognised through the global symbol registry (another copy of the package)', () => {
    const foreign = Object.assign(new Error('EPERM: x'), { code: 'EPERM' });
    Object.defineProperty(foreign, Symbol.for('@vfiokit/core/KernelError'), { value: true });
    expect(isKernelError(foreign, 'EPERM')).toBe(true);
    expect(isKernelError(new KernelError('EPERM', 'x'))).toBe(true);
  });
});

// Second mutation run: the survivors that are behaviours.
describe('edges, second pass', () => {
  it('small writes leave the neighbouring bytes as they were (no extra byte written)', () => {
    const memory = new PhysicalMemory();
    memory.allocate(at(0), 0x2000);
    memory.write(at(0), new Uint8Array(0x2000).fill(0xff));
    memory.write(at(0x10), Uint8Array.of(1, 2, 3));
    expect(memory.readU8(at(0x13))).toBe(0xff);
    memory.writeU16(at(0x20), 0x0102);
    expect(memory.readU8(at(0x22))).toBe(0xff);
    memory.writeU32(at(0xffe), 0x0a0b0c0d);
    expect(memory.readU8(at(0x1002))).toBe(0xff);
  });

  it('a u64 that does not fit is refused before any byte is written', () => {
    const memory = new PhysicalMemory();
    memory.allocate(at(0), 0x1000);
    memory.writeU64(at(0x40), 0x1111_2222_3333_4444n);
    expect(() => memory.writeU64(at(0x40), 1n << 64n)).toThrow(
      'EINVAL: value 18446744073709551616 does not fit in 64 bits',
    );
    expect(memory.readU64(at(0x40))).toBe(0x1111_2222_3333_4444n);
  });

  it('runAll runs exactly `limit` tasks before calling it a livelock', () => {
    const looping = new ManualScheduler();
    let runs = 0;
    const again = (): void => {
      runs++;
      looping.schedule('again', again);
    };
    looping.schedule('again', again);
    expect(thrownErrno(() => looping.runAll(5))).toBe('ETIMEDOUT');
    expect(runs).toBe(5);
  });

  it('alignUp may end exactly at 2^53 - 1; messages name the argument', () => {
    expect(alignUp(MAX, 1)).toBe(MAX);
    expect(() => alignDown(-1, 8)).toThrow('EINVAL: value -1 is not a non-negative safe integer');
    expect(() => isAligned(-1, 8)).toThrow('EINVAL: value -1 is not a non-negative safe integer');
    expect(() => addressRange(physAddr(0), -1)).toThrow('EINVAL: size -1 is not a non-negative safe integer');
  });

  it('empty ranges overlap nothing; a range contains one that starts at its start', () => {
    const r = (start: number, size: number) => ({ start: physAddr(start), size });
    expect(rangesOverlap(r(5, 0), r(0, 10))).toBe(false);
    expect(rangesOverlap(r(0, 10), r(5, 0))).toBe(false);
    expect(rangeContains(r(0, 0x20), r(0, 0x10))).toBe(true);
    expect(rangeContains(r(0x10, 0x20), r(0xf, 0x10))).toBe(false);
  });

  it('a DMA write fault says it was a write', () => {
    const memory = new PhysicalMemory();
    const port = new TranslatedDmaPort({ memory, domain: new FlatIommuDomain() });
    expect(port.write(iova(0x5000), new Uint8Array(4))).toMatchObject({ iova: 0x5000, access: 'write' });
  });

  it('eventfd messages: EAGAIN names the sum, the in-wakeup warning names the rule', () => {
    const eventfd = new EventFd();
    eventfd.write(0xffff_ffff_ffff_fffen);
    expect(() => eventfd.write(1)).toThrow(
      'EAGAIN: eventfd counter 18446744073709551614 + 1 would reach 0xffffffffffffffff',
    );
    const outer = new EventFd();
    const inner = new EventFd();
    outer.on('signal', () => inner.signal());
    outer.signal();
    expect(inner.warnings).toEqual([
      'WARNING: fs/eventfd.c: eventfd_signal_mask: WARN_ON_ONCE(current->in_eventfd): ' +
        'eventfd_signal from inside an eventfd wakeup dropped',
    ]);
  });

  it('isKernelError is false for primitives and null', () => {
    for (const value of [null, undefined, 'EINVAL', 22]) expect(isKernelError(value)).toBe(false);
  });

  it('checkKernelVersion accepts minor 0 and says what it expected', () => {
    expect(checkKernelVersion([6, 0], 'w')).toEqual([6, 0]);
    expect(() => checkKernelVersion('6.12', 'populate')).toThrow(
      'EINVAL: populate: kernel version must be [major, minor], not 6.12',
    );
  });
});
