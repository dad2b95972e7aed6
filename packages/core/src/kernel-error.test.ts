import { describe, expect, it, vi } from 'vitest';
import { fail, isKernelError, KernelError } from './kernel-error.js';

describe('KernelError', () => {
  it('carries the errno name, the arm64 number, a one-line message and the cause', () => {
    const cause = new KernelError('EIO', 'bus error');
    const error = new KernelError('EBUSY', 'device is bound', { cause });
    expect(error.code).toBe('EBUSY');
    expect(error.errno).toBe(16);
    expect(error.negativeErrno).toBe(-16);
    expect(error.message).toBe('EBUSY: device is bound');
    expect(error.message).not.toContain('\n');
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('KernelError');
    expect(error).toBeInstanceOf(Error);
  });

  it('fail() throws one', () => {
    expect(() => fail('ENOTTY', 'unknown ioctl')).toThrow(
      expect.objectContaining({ code: 'ENOTTY', errno: 25 }),
    );
  });
});

describe('isKernelError', () => {
  it('checks the brand and, when given, the code', () => {
    const error = new KernelError('EPERM', 'no');
    expect(isKernelError(error)).toBe(true);
    expect(isKernelError(error, 'EPERM')).toBe(true);
    expect(isKernelError(error, 'EACCES')).toBe(false);
    expect(isKernelError(new RangeError('x'))).toBe(false);
    expect(isKernelError({ code: 'EPERM', errno: 1 })).toBe(false);
    expect(isKernelError(null)).toBe(false);
    expect(isKernelError('EPERM')).toBe(false);
  });

  it('recognises errors from a second copy of the package, where instanceof does not', async () => {
    vi.resetModules();
    // A query string makes the loader evaluate the module a second time: a second copy.
    const specifier: string = './kernel-error.js?copy';
    const copy = (await import(/* @vite-ignore */ specifier)) as typeof import('./kernel-error.js');
    const foreign = new copy.KernelError('ENODEV', 'from another copy');
    expect(copy.KernelError).not.toBe(KernelError);
    expect(foreign instanceof KernelError).toBe(false);
    expect(isKernelError(foreign, 'ENODEV')).toBe(true);
  });
});
