import { type ErrnoName, isKernelError } from '@vfiokit/core';

/** The errno a failing call throws (`undefined` if it succeeds); rethrows non-kernel errors. */
export { thrownErrno as errnoOf } from '@vfiokit/core/testing';

/** The errno a call that may wait rejects with (`undefined` if it succeeds). */
export async function asyncErrnoOf(work: () => unknown): Promise<ErrnoName | undefined> {
  try {
    await work();
    return undefined;
  } catch (error) {
    if (isKernelError(error)) return error.code;
    throw error;
  }
}

/** The errno of the `cause` of the `KernelError` a failing call throws (`undefined` if none). */
export function causeOf(work: () => unknown): ErrnoName | undefined {
  try {
    work();
    return undefined;
  } catch (error) {
    if (!isKernelError(error)) throw error;
    const cause: unknown = error.cause;
    return isKernelError(cause) ? cause.code : undefined;
  }
}
