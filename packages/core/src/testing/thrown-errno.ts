import type { ErrnoName } from '../errno.js';
import { isKernelError } from '../kernel-error.js';

/**
 * Runs `work` and returns the errno name of the `KernelError` it throws, or `undefined` when
 * it returns normally. Anything else thrown is rethrown, so a `TypeError` never passes for an
 * expected errno.
 */
export function thrownErrno(work: () => unknown): ErrnoName | undefined {
  try {
    work();
    return undefined;
  } catch (error) {
    if (isKernelError(error)) return error.code;
    throw error;
  }
}
