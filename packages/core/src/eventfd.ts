import { EventEmitter } from 'eventemitter3';
import { KernelError } from './kernel-error.js';
import { rejectUnknownOptions } from './options.js';

const U32 = 0x1_0000_0000;
const MAX_HIGH = 0xffff_ffff;
const MAX_LOW = 0xffff_ffff;
const ULLONG_MAX = 0xffff_ffff_ffff_ffffn;

// `current->in_eventfd` (include/linux/sched.h, set around every eventfd wakeup in
// fs/eventfd.c). JavaScript runs one task at a time and the model's wakeups are synchronous
// calls, so one flag for the process is exactly the flag of the task doing the wakeup.
let inEventfd = false;

const IN_EVENTFD_WARNING =
  'WARNING: fs/eventfd.c: eventfd_signal_mask: WARN_ON_ONCE(current->in_eventfd): ' +
  'eventfd_signal from inside an eventfd wakeup dropped';

/** Options of an {@link EventFd} (`eventfd2(initval, flags)`). */
export interface EventFdOptions {
  /** The initial counter, an `unsigned int` as in the syscall (default 0). */
  readonly initval?: number;
  /** `EFD_SEMAPHORE`: each read returns 1 and decrements the counter. */
  readonly semaphore?: boolean;
}

/** Events an {@link EventFd} emits; listeners are how irqfd and friends react without polling. */
export interface EventFdEvents {
  /**
   * An `EPOLLIN` wakeup: after every successful `write` (of 0 too) and every kernel-side
   * `signal` (saturated too). Listeners run inside the wakeup (`current->in_eventfd`).
   */
  signal: [eventfd: EventFd];
  /** The file was closed (`EPOLLHUP`). */
  close: [eventfd: EventFd];
}

/**
 * An eventfd with the semantics of fs/eventfd.c (Linux 6.12), opened `O_NONBLOCK` (a model
 * never sleeps): a 64-bit counter; `write(n)` adds n, fails `EINVAL` for 0xffffffffffffffff
 * and `EAGAIN` when the sum would reach it; `read()` returns the counter and clears it (or 1
 * and decrements, in semaphore mode), `EAGAIN` at zero; the kernel-side `signal()` adds 1 and
 * saturates at 0xffffffffffffffff (`eventfd_signal_mask`). After `close()` every operation
 * fails `EBADF`.
 *
 * `'signal'` listeners are the eventfd's wait queue (`ctx->wqh`): custom wake functions such
 * as virqfd's and irqfd's. Like the kernel they are woken with `EPOLLIN` by every successful
 * `write` (a write of 0 too) and every `signal()` (a saturated one too), and they run inside
 * the wakeup, where `current->in_eventfd` is set: a `signal()` of any eventfd from there is
 * dropped with the kernel's `WARN_ON_ONCE` (recorded in {@link EventFd.warnings}). A listener
 * that stands for a user-space poller must defer its reaction (a `Scheduler`), as a woken
 * task runs later in the kernel.
 *
 * The counter is held as two 32-bit halves so that `signal()`, the interrupt hot path,
 * allocates nothing.
 */
export class EventFd extends EventEmitter<EventFdEvents> {
  readonly semaphore: boolean;
  /**
   * Kernel warnings this eventfd caused, oldest first: a `signal()` dropped because it came
   * from inside an eventfd wakeup. The kernel prints only the first (`WARN_ON_ONCE`); the
   * model keeps each, so a test can count them.
   */
  readonly warnings: string[] = [];
  private high = 0;
  private low = 0;
  private open = true;

  constructor(options: EventFdOptions = {}) {
    super();
    rejectUnknownOptions(options, ['initval', 'semaphore'], 'EventFd');
    const initval = options.initval ?? 0;
    if (!Number.isInteger(initval) || initval < 0 || initval > 0xffff_ffff) {
      throw new KernelError('EINVAL', `eventfd initval ${String(initval)} is not an unsigned int`);
    }
    this.low = initval;
    this.semaphore = options.semaphore ?? false;
  }

  /** The counter's current value. */
  get count(): bigint {
    return (BigInt(this.high) << 32n) | BigInt(this.low);
  }

  /** Whether the counter is non-zero (`EPOLLIN`), without allocating. */
  get readable(): boolean {
    return this.high !== 0 || this.low !== 0;
  }

  /** Whether the file is still open. */
  get isOpen(): boolean {
    return this.open;
  }

  /** `write(2)` of an 8-byte value. */
  write(value: bigint | number): void {
    this.checkOpen();
    const n = typeof value === 'bigint' ? value : BigInt(checkedInteger(value));
    if (n < 0n || n > ULLONG_MAX) {
      throw new KernelError('EINVAL', `eventfd write of ${n} is not a 64-bit unsigned value`);
    }
    if (n === ULLONG_MAX) throw new KernelError('EINVAL', 'eventfd write of 0xffffffffffffffff');
    const count = this.count;
    if (ULLONG_MAX - count <= n) {
      throw new KernelError('EAGAIN', `eventfd counter ${count} + ${n} would reach 0xffffffffffffffff`);
    }
    this.set(count + n);
    // eventfd_write wakes EPOLLIN waiters after every successful write, a write of 0 too:
    // that is how user space runs an unmask virqfd without raising the count.
    this.wake();
  }

  /** `read(2)` of 8 bytes. */
  read(): bigint {
    this.checkOpen();
    if (!this.readable) throw new KernelError('EAGAIN', 'eventfd counter is zero');
    return this.consume();
  }

  /**
   * `eventfd_ctx_do_read`: what an in-kernel reader (irqfd) uses. Like `read()` but
   * returns 0n instead of failing when the counter is zero.
   */
  consume(): bigint {
    this.checkOpen();
    if (!this.readable) return 0n;
    if (this.semaphore) {
      this.decrement();
      return 1n;
    }
    const count = this.count;
    this.high = 0;
    this.low = 0;
    return count;
  }

  /**
   * `eventfd_signal` (`eventfd_signal_mask(ctx, 0)`): the kernel adds 1, saturating at
   * 0xffffffffffffffff (which poll reports as `EPOLLERR`), and wakes the waiters even when
   * the counter could not move. From inside an eventfd wakeup (`current->in_eventfd`) it
   * changes nothing, wakes nobody and warns. Returns whether the counter moved.
   */
  signal(): boolean {
    this.checkOpen();
    if (inEventfd) {
      this.warnings.push(IN_EVENTFD_WARNING);
      return false;
    }
    let moved = false;
    if (this.high !== MAX_HIGH || this.low !== MAX_LOW) {
      if (this.low === MAX_LOW) {
        this.low = 0;
        this.high++;
      } else {
        this.low++;
      }
      moved = true;
    }
    this.wake();
    return moved;
  }

  /** Closes the file; listeners get `close`, further operations fail `EBADF`. */
  close(): void {
    this.checkOpen();
    this.open = false;
    this.emit('close', this);
    this.removeAllListeners();
  }

  // `if (waitqueue_active(&ctx->wqh)) wake_up_locked_poll(&ctx->wqh, EPOLLIN)` with
  // `current->in_eventfd` set around it. The outer value is restored rather than cleared so
  // that a listener's own (user-space) write does not reopen the window for its caller.
  private wake(): void {
    if (this.listenerCount('signal') === 0) return;
    const outer = inEventfd;
    inEventfd = true;
    try {
      this.emit('signal', this);
    } finally {
      inEventfd = outer;
    }
  }

  private decrement(): void {
    if (this.low === 0) {
      this.low = MAX_LOW;
      this.high--;
    } else {
      this.low--;
    }
  }

  private set(count: bigint): void {
    this.high = Number(count >> 32n);
    this.low = Number(count % BigInt(U32));
  }

  private checkOpen(): void {
    if (!this.open) throw new KernelError('EBADF', 'eventfd is closed');
  }
}

function checkedInteger(value: number): number {
  if (!Number.isSafeInteger(value)) {
    throw new KernelError('EINVAL', `eventfd write of ${String(value)} is not a safe integer`);
  }
  return value;
}
