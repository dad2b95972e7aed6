/**
 * A value the UAPI cannot carry, found on the user's side before any ioctl: a field out of its
 * C type's range, a payload that does not match its flags, a reply that never settles. Not a
 * `KernelError`: no kernel ever saw the call, so no errno is invented for it.
 */
export class UapiError extends RangeError {
  override readonly name = 'UapiError';
}

/** A `__u64` the caller wants as a `number`: a {@link UapiError} past 2^53, where a number stops being exact. */
export function u64ToNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new UapiError(`${what} 0x${value.toString(16)} does not fit a number; read the bigint field`);
  return Number(value);
}
