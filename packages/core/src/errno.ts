/**
 * Errno names with their Linux arm64 numbers (arm64 uses the asm-generic table:
 * include/uapi/asm-generic/errno-base.h and errno.h), plus the kernel-internal codes of
 * include/linux/errno.h that the driver core and VFIO return inside the kernel
 * (EPROBE_DEFER is never seen by user space: sysfs `bind` turns it into EAGAIN).
 */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  ENOTBLK: 15,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  EDOM: 33,
  ERANGE: 34,
  EDEADLK: 35,
  ENAMETOOLONG: 36,
  ENOLCK: 37,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENODATA: 61,
  ETIME: 62,
  EOVERFLOW: 75,
  EBADFD: 77,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ETIMEDOUT: 110,
  EALREADY: 114,
  EINPROGRESS: 115,
  ECANCELED: 125,
  ERESTARTSYS: 512,
  EPROBE_DEFER: 517,
  ENOTSUPP: 524,
} as const;

/** The name of an errno, as the kernel spells it (`EINVAL`, `EPROBE_DEFER`, …). */
export type ErrnoName = keyof typeof ERRNO;

const NAMES_BY_NUMBER: ReadonlyMap<number, ErrnoName> = new Map(
  (Object.keys(ERRNO) as ErrnoName[]).map((name) => [ERRNO[name], name]),
);

/** The errno number of `name` (positive, as in the errno tables). */
export function errnoNumber(name: ErrnoName): number {
  return ERRNO[name];
}

/** The errno name for a positive or negative (kernel-return-style) number, if it is known. */
export function errnoName(value: number): ErrnoName | undefined {
  return NAMES_BY_NUMBER.get(Math.abs(value));
}

/** Whether `name` is an errno name this table knows. */
export function isErrnoName(name: string): name is ErrnoName {
  return Object.hasOwn(ERRNO, name);
}
