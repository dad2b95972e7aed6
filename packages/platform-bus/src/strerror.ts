import type { ErrnoName } from '@vfiokit/core';

// glibc's strerror() texts for the errnos sysfs writes return, so a replayed recipe fails
// with the line a shell prints ("sh: write error: No such device").
const TEXT: Partial<Record<ErrnoName, string>> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  ENXIO: 'No such device or address',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  ENODEV: 'No such device',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENOSPC: 'No space left on device',
  ETIMEDOUT: 'Connection timed out',
};

/** The text `strerror()` gives for `code` (`Unknown error <n>` for kernel-internal codes such as EPROBE_DEFER). */
export function strerror(code: ErrnoName, errno: number): string {
  return TEXT[code] ?? `Unknown error ${errno}`;
}
