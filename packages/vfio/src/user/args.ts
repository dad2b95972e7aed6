import { KernelError } from '@vfiokit/core';
import type { IoctlArg } from './file.js';

/** The `arg` of a pointer ioctl; a number where a pointer is expected faults (`EFAULT`). */
export function pointerArg(arg: IoctlArg | undefined, what: string): Uint8Array {
  if (arg instanceof Uint8Array) return arg;
  throw new KernelError('EFAULT', `${what} expects a pointer to user memory`);
}

/** The `arg` of an ioctl that takes an integer by value (`VFIO_CHECK_EXTENSION`, `VFIO_SET_IOMMU`). */
export function integerArg(arg: IoctlArg | undefined): number {
  if (arg === undefined) return 0;
  if (typeof arg === 'number') return arg;
  // The kernel would read the pointer's value as the integer: no valid extension.
  return -1;
}

/** `get_user(fd, (int __user *)arg)` (arch/arm64/include/asm/uaccess.h): a 32-bit signed int at a pointer. */
export function getUserInt(arg: IoctlArg | undefined, what: string): number {
  const bytes = pointerArg(arg, what);
  if (bytes.length < 4) throw new KernelError('EFAULT', `${what}: cannot read an int`);
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true);
}
