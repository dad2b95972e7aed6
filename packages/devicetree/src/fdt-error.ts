/**
 * libfdt's error names (scripts/dtc/libfdt/libfdt.h, `FDT_ERR_*`), used as `FdtError.code`.
 * `CYCLE` is vfiokit's own: a phandle chain (`interrupt-parent`, nexus maps) that loops,
 * which libfdt never walks but the kernel's of_irq code guards against.
 */
export const FDT_ERROR_CODES = {
  NOTFOUND: 1,
  EXISTS: 2,
  NOSPACE: 3,
  BADOFFSET: 4,
  BADPATH: 5,
  BADPHANDLE: 6,
  BADSTATE: 7,
  TRUNCATED: 8,
  BADMAGIC: 9,
  BADVERSION: 10,
  BADSTRUCTURE: 11,
  BADLAYOUT: 12,
  INTERNAL: 13,
  BADNCELLS: 14,
  BADVALUE: 15,
  BADOVERLAY: 16,
  NOPHANDLES: 17,
  BADFLAGS: 18,
  ALIGNMENT: 19,
  CYCLE: 1000,
} as const;

/** One of the {@link FDT_ERROR_CODES} names. */
export type FdtErrorCode = keyof typeof FDT_ERROR_CODES;

const FDT_ERROR_BRAND = Symbol.for('@vfiokit/devicetree/FdtError');

/**
 * A malformed or inconsistent device tree. `offset` is the byte offset in the blob where
 * the problem was found, when the error comes from a blob; `path` names the node, when the
 * error comes from a tree lookup.
 */
export class FdtError extends Error {
  readonly code: FdtErrorCode;
  readonly offset: number | undefined;
  readonly path: string | undefined;

  constructor(
    code: FdtErrorCode,
    message: string,
    where: { readonly offset?: number; readonly path?: string; readonly cause?: unknown } = {},
  ) {
    const at = where.offset === undefined ? '' : ` at byte ${where.offset}`;
    const node = where.path === undefined ? '' : ` (${where.path})`;
    super(
      `FDT_ERR_${code}${at}${node}: ${message}`,
      where.cause === undefined ? undefined : { cause: where.cause },
    );
    this.name = 'FdtError';
    this.code = code;
    this.offset = where.offset;
    this.path = where.path;
    Object.defineProperty(this, FDT_ERROR_BRAND, { value: true });
  }
}

/** Whether `value` is an {@link FdtError} (from any copy of this package), optionally with `code`. */
export function isFdtError(value: unknown, code?: FdtErrorCode): value is FdtError {
  if (typeof value !== 'object' || value === null) return false;
  if ((value as Record<symbol, unknown>)[FDT_ERROR_BRAND] !== true) return false;
  return code === undefined || (value as FdtError).code === code;
}
