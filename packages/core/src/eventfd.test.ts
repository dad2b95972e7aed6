import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventFd } from './eventfd.js';
import { thrownErrno } from './testing/thrown-errno.js';

const ULLONG_MAX = 0xffff_ffff_ffff_ffffn;

describe('EventFd (fs/eventfd.c)', () => {
  it('adds on write and returns-and-clears on read', () => {
    const eventfd = new EventFd();
    eventfd.write(3);
    eventfd.write(4n);
    expect(eventfd.count).toBe(7n);
    expect(eventfd.read()).toBe(7n);
    expect(thrownErrno(() => eventfd.read())).toBe('EAGAIN');
  });

  it('semaphore mode reads 1 and decrements', () => {
    const eventfd = new EventFd({ semaphore: true, initval: 2 });
    expect(eventfd.read()).toBe(1n);
    expect(eventfd.read()).toBe(1n);
    expect(thrownErrno(() => eventfd.read())).toBe('EAGAIN');
  });

  it('eventfd_write: EINVAL for 0xffffffffffffffff, EAGAIN when the sum would reach it', () => {
    const eventfd = new EventFd();
    expect(thrownErrno(() => eventfd.write(ULLONG_MAX))).toBe('EINVAL');
    eventfd.write(ULLONG_MAX - 1n);
    expect(thrownErrno(() => eventfd.write(1))).toBe('EAGAIN');
    expect(eventfd.count).toBe(ULLONG_MAX - 1n);
    expect(thrownErrno(() => eventfd.write(-1))).toBe('EINVAL');
    expect(thrownErrno(() => eventfd.write(0.5))).toBe('EINVAL');
  });

  it('eventfd_signal saturates at 0xffffffffffffffff instead of failing', () => {
    const eventfd = new EventFd();
    eventfd.write(ULLONG_MAX - 1n);
    expect(eventfd.signal()).toBe(true);
    expect(eventfd.count).toBe(ULLONG_MAX);
    expect(eventfd.signal()).toBe(false);
    expect(eventfd.read()).toBe(ULLONG_MAX);
  });

  it('signal carries across the 32-bit halves', () => {
    const eventfd = new EventFd({ initval: 0xffff_ffff });
    eventfd.signal();
    expect(eventfd.count).toBe(0x1_0000_0000n);
    const semaphore = new EventFd({ semaphore: true });
    semaphore.write(0x1_0000_0000n);
    expect(semaphore.read()).toBe(1n);
    expect(semaphore.count).toBe(0xffff_ffffn);
  });

  it('tells listeners of every increment, so consumers need not poll', () => {
    const eventfd = new EventFd();
    const seen: bigint[] = [];
    eventfd.on('signal', (source) => seen.push(source.consume()));
    eventfd.signal();
    eventfd.write(5);
    eventfd.write(0);
    expect(seen).toEqual([1n, 5n]);
    expect(eventfd.consume()).toBe(0n);
  });

  it('fails EBADF after close and tells listeners it closed', () => {
    const eventfd = new EventFd();
    let closed = false;
    eventfd.on('close', () => {
      closed = true;
    });
    eventfd.close();
    expect(closed).toBe(true);
    expect(eventfd.isOpen).toBe(false);
    expect(thrownErrno(() => eventfd.write(1))).toBe('EBADF');
    expect(thrownErrno(() => eventfd.read())).toBe('EBADF');
    expect(thrownErrno(() => eventfd.signal())).toBe('EBADF');
    expect(thrownErrno(() => eventfd.close())).toBe('EBADF');
  });

  it('rejects an initval that is not an unsigned int', () => {
    expect(thrownErrno(() => new EventFd({ initval: 2 ** 32 }))).toBe('EINVAL');
    expect(thrownErrno(() => new EventFd({ initval: -1 }))).toBe('EINVAL');
  });

  it('matches a reference counter over any sequence, failing exactly where Linux fails (property)', () => {
    const big = fc.bigInt({ min: 0n, max: ULLONG_MAX });
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('write' as const),
        value: fc.oneof(big, fc.bigInt({ min: 0n, max: 4n })),
      }),
      fc.record({ kind: fc.constant('read' as const) }),
      fc.record({ kind: fc.constant('signal' as const) }),
    );
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.nat(0xffff_ffff),
        fc.array(op, { maxLength: 40 }),
        (semaphore, initval, ops) => {
          const eventfd = new EventFd({ semaphore, initval });
          let count = BigInt(initval);
          for (const step of ops) {
            if (step.kind === 'write') {
              const expected =
                step.value === ULLONG_MAX
                  ? 'EINVAL'
                  : ULLONG_MAX - count <= step.value
                    ? 'EAGAIN'
                    : undefined;
              expect(thrownErrno(() => eventfd.write(step.value))).toBe(expected);
              if (expected === undefined) count += step.value;
            } else if (step.kind === 'read') {
              if (count === 0n) {
                expect(thrownErrno(() => eventfd.read())).toBe('EAGAIN');
              } else {
                const got = eventfd.read();
                expect(got).toBe(semaphore ? 1n : count);
                count -= got;
              }
            } else {
              expect(eventfd.signal()).toBe(count < ULLONG_MAX);
              if (count < ULLONG_MAX) count += 1n;
            }
            expect(eventfd.count).toBe(count);
            expect(eventfd.readable).toBe(count > 0n);
          }
        },
      ),
    );
  });
});
