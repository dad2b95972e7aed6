/**
 * A value the UAPI cannot carry, found on the user's side before any ioctl: a field out of its
 * C type's range, a payload that does not match its flags, a reply that never settles. Not a
 * `KernelError`: no kernel ever saw the call, so no errno is invented for it.
 */
export class UapiError extends RangeError {
  override readonly name = 'UapiError';
}
