import { ERRNO, type ErrnoName } from './errno.js';

// A brand in the global symbol registry, not `instanceof`: two copies of @vfiokit/core in one
// process (a VMM and a plug-in built against different versions) still recognise each other.
const KERNEL_ERROR_BRAND = Symbol.for('@vfiokit/core/KernelError');

/** Options of a {@link KernelError}. */
export interface KernelErrorOptions {
  /** The error that led to this one. */
  readonly cause?: unknown;
}

/**
 * An error the modelled kernel returns: an errno name with its Linux arm64 number and a
 * one-line message. Every failing operation in vfiokit throws one of these (or a package's
 * format error such as the device tree's `FdtError`); none throws a bare `Error`.
 */
export class KernelError extends Error {
  /** The errno name (`EINVAL`, `EBUSY`, …). */
  readonly code: ErrnoName;
  /** The errno number (positive, Linux arm64). */
  readonly errno: number;

  constructor(code: ErrnoName, message: string, options?: KernelErrorOptions) {
    super(`${code}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KernelError';
    this.code = code;
    this.errno = ERRNO[code];
    Object.defineProperty(this, KERNEL_ERROR_BRAND, { value: true });
  }

  /** The value a kernel function would return for this error (`-errno`). */
  get negativeErrno(): number {
    return -this.errno;
  }
}

/**
 * Whether `value` is a {@link KernelError} (from any copy of this package), optionally with
 * the given errno name.
 */
export function isKernelError(value: unknown, code?: ErrnoName): value is KernelError {
  if (typeof value !== 'object' || value === null) return false;
  if ((value as Record<symbol, unknown>)[KERNEL_ERROR_BRAND] !== true) return false;
  return code === undefined || (value as KernelError).code === code;
}

/** Throws a {@link KernelError}; an expression-position shorthand for guard clauses. */
export function fail(code: ErrnoName, message: string, options?: KernelErrorOptions): never {
  throw new KernelError(code, message, options);
}
