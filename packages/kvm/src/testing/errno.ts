import { isKernelError } from '@vfiokit/core';

/** The errno name `fn` throws, or undefined when it returns (test helper). */
export function errno(fn: () => void): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isKernelError(e)) return e.code;
    throw e;
  }
  return undefined;
}
