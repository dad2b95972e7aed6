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

  it('tells listeners of every successful write and signal, so consumers need not poll', () => {
    const eventfd = new EventFd();
    const seen: bigint[] = [];
    eventfd.on('signal', (source) => seen.push(source.consume()));
    eventfd.signal();
    eventfd.write(5);
    expect(seen).toEqual([1n, 5n]);
    expect(eventfd.consume()).toBe(0n);
  });

  // fs/eventfd.c eventfd_write (6.12): `ctx->count += ucnt` then wake_up_locked_poll(EPOLLIN)
  // with no test of ucnt, so writing 0 runs an unmask virqfd without raising the count.
  it('eventfd_write of 0 wakes the waiters (an unmask virqfd runs) and leaves the count at 0', () => {
    const eventfd = new EventFd();
    let handlerRuns = 0;
    eventfd.on('signal', (source) => {
      source.consume(); // virqfd_wakeup: eventfd_ctx_do_read, then the handler
      handlerRuns++;
    });
    eventfd.write(0);
    eventfd.write(0n);
    expect(handlerRuns).toBe(2);
    expect(eventfd.count).toBe(0n);
    expect(eventfd.readable).toBe(false);
  });

  it('a failed write wakes nobody', () => {
    const eventfd = new EventFd();
    eventfd.write(ULLONG_MAX - 1n);
    let wakeups = 0;
    eventfd.on('signal', () => wakeups++);
    expect(thrownErrno(() => eventfd.write(1))).toBe('EAGAIN');
    expect(thrownErrno(() => eventfd.write(ULLONG_MAX))).toBe('EINVAL');
    expect(wakeups).toBe(0);
  });

  // fs/eventfd.c eventfd_signal_mask (6.12): `if (ctx->count < ULLONG_MAX) ctx->count++;`
  // then the wakeup, unconditionally.
  it('a saturated eventfd_signal does not move the counter but still wakes the waiters', () => {
    const eventfd = new EventFd();
    eventfd.write(ULLONG_MAX - 1n);
    expect(eventfd.signal()).toBe(true);
    let wakeups = 0;
    eventfd.on('signal', () => wakeups++);
    expect(eventfd.signal()).toBe(false);
    expect(eventfd.signal()).toBe(false);
    expect(eventfd.count).toBe(ULLONG_MAX);
    expect(wakeups).toBe(2);
  });

  // fs/eventfd.c eventfd_signal_mask: `if (WARN_ON_ONCE(current->in_eventfd)) return;` —
  // eventfd_write, eventfd_read and eventfd_signal_mask set in_eventfd around their wakeup.
  it('eventfd_signal from inside a wakeup is dropped with the kernel warning', () => {
    const outer = new EventFd();
    const inner = new EventFd();
    let innerWakeups = 0;
    inner.on('signal', () => innerWakeups++);
    const results: boolean[] = [];
    outer.on('signal', () => results.push(inner.signal()));
    outer.write(1);
    outer.signal();
    expect(results).toEqual([false, false]);
    expect(inner.count).toBe(0n);
    expect(innerWakeups).toBe(0);
    expect(inner.warnings).toHaveLength(2);
    expect(inner.warnings[0]).toContain('current->in_eventfd');
    expect(outer.warnings).toEqual([]);
    // Outside the wakeup the flag is clear again.
    expect(inner.signal()).toBe(true);
    expect(innerWakeups).toBe(1);
  });

  it('a waiter signalling its own eventfd is dropped too (no recursion)', () => {
    const eventfd = new EventFd();
    let wakeups = 0;
    eventfd.on('signal', (source) => {
      wakeups++;
      source.signal();
    });
    eventfd.signal();
    expect(wakeups).toBe(1);
    expect(eventfd.count).toBe(1n);
    expect(eventfd.warnings).toHaveLength(1);
  });

  it('leaves the wakeup context on the way out, also when a waiter throws or writes', () => {
    const a = new EventFd();
    const b = new EventFd();
    const c = new EventFd();
    a.on('signal', () => {
      throw new RangeError('waiter failed');
    });
    expect(() => a.signal()).toThrow(RangeError);
    expect(c.signal()).toBe(true);
    // A waiter's nested write has its own wakeup; the caller's wakeup context survives it.
    b.on('signal', () => {
      c.write(1);
      c.signal();
    });
    b.signal();
    expect(c.count).toBe(2n);
    expect(c.warnings).toHaveLength(1);
    expect(c.signal()).toBe(true);
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

  it('matches a reference counter over any sequence, failing and waking exactly where Linux does (property)', () => {
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
          let wakeups = 0;
          let expectedWakeups = 0;
          eventfd.on('signal', () => wakeups++);
          for (const step of ops) {
            if (step.kind === 'write') {
              const expected =
                step.value === ULLONG_MAX
                  ? 'EINVAL'
                  : ULLONG_MAX - count <= step.value
                    ? 'EAGAIN'
                    : undefined;
              expect(thrownErrno(() => eventfd.write(step.value))).toBe(expected);
              if (expected === undefined) {
                count += step.value;
                expectedWakeups++;
              }
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
              expectedWakeups++;
            }
            expect(wakeups).toBe(expectedWakeups);
            expect(eventfd.count).toBe(count);
            expect(eventfd.readable).toBe(count > 0n);
          }
        },
      ),
    );
  });
});
