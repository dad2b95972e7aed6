import { EventEmitter } from 'eventemitter3';
import { KernelError } from './kernel-error.js';
import { rejectUnknownOptions } from './options.js';

const U32 = 0x1_0000_0000;
const MAX_HIGH = 0xffff_ffff;
const MAX_LOW = 0xffff_ffff;
const ULLONG_MAX = 0xffff_ffff_ffff_ffffn;

/** Options of an {@link EventFd} (`eventfd2(initval, flags)`). */
export interface EventFdOptions {
  /** The initial counter, an `unsigned int` as in the syscall (default 0). */
  readonly initval?: number;
  /** `EFD_SEMAPHORE`: each read returns 1 and decrements the counter. */
  readonly semaphore?: boolean;
}

/** Events an {@link EventFd} emits; listeners are how irqfd and friends react without polling. */
export interface EventFdEvents {
  /** The counter went up (a `write` or a kernel-side `signal`): `EPOLLIN` is now ready. */
  signal: [eventfd: EventFd];
  /** The file was closed (`EPOLLHUP`). */
  close: [eventfd: EventFd];
}

/**
 * An eventfd with the semantics of fs/eventfd.c, opened `O_NONBLOCK` (a model never sleeps):
 * a 64-bit counter; `write(n)` adds n, fails `EINVAL` for 0xffffffffffffffff and `EAGAIN`
 * when the sum would reach it; `read()` returns the counter and clears it (or 1 and
 * decrements, in semaphore mode), `EAGAIN` at zero; the kernel-side `signal()` adds 1 and
 * saturates at 0xffffffffffffffff (`eventfd_signal`). After `close()` every operation fails
 * `EBADF`.
 *
 * The counter is held as two 32-bit halves so that `signal()`, the interrupt hot path,
 * allocates nothing.
 */
export class EventFd extends EventEmitter<EventFdEvents> {
  readonly semaphore: boolean;
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
    if (n !== 0n) this.emit('signal', this);
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
   * `eventfd_signal`: the kernel adds 1, saturating at 0xffffffffffffffff (which poll
   * reports as `EPOLLERR`). Returns whether the counter moved.
   */
  signal(): boolean {
    this.checkOpen();
    if (this.high === MAX_HIGH && this.low === MAX_LOW) return false;
    if (this.low === MAX_LOW) {
      this.low = 0;
      this.high++;
    } else {
      this.low++;
    }
    this.emit('signal', this);
    return true;
  }

  /** Closes the file; listeners get `close`, further operations fail `EBADF`. */
  close(): void {
    this.checkOpen();
    this.open = false;
    this.emit('close', this);
    this.removeAllListeners();
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
