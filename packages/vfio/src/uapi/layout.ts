import { KernelError } from '@vfiokit/core';
import { UapiError } from './uapi-error.js';

/** A field's C type in `<linux/vfio.h>`: `__u8`, `__u16`, `__u32`, `__s32`, `__u64` (`__aligned_u64`). */
export type FieldType = 'u8' | 'u16' | 'u32' | 's32' | 'u64';

/** A kernel release as `[major, minor]`, used to say since when a field exists in the header. */
export type KernelVersion = readonly [major: number, minor: number];

/** Where one field lives in a struct. */
export interface FieldLayout {
  readonly offset: number;
  readonly size: number;
}

/** A struct's size and field offsets, the shape of {@link UAPI_STRUCTS} entries. */
export interface StructLayout {
  readonly size: number;
  readonly fields: Readonly<Record<string, FieldLayout>>;
  /** Array members (fixed and flexible), by name. */
  readonly arrays: Readonly<Record<string, ArraySpec>>;
}

/** A field with its type and, for fields added after v6.1, the release that added it. */
export interface FieldSpec<Type extends FieldType = FieldType> extends FieldLayout {
  readonly type: Type;
  readonly since?: KernelVersion;
  /** A member of an anonymous union: the union's first member, shared by all its members. */
  readonly union?: string;
}

/**
 * An array member: fixed (`__u8 reserved[3]`) or flexible (`__u8 data[]`, `struct vfio_iova_range
 * iova_ranges[]`), of a scalar type or of another struct (by its kernel name). Arrays are not
 * codec fields: callers read their elements with the element's codec at `offset + i * elementSize`.
 */
export interface ArraySpec {
  readonly element: FieldType | string;
  readonly offset: number;
  readonly elementSize: number;
  /** The element count of a fixed array, or `flex` for a flexible array member. */
  readonly count: number | 'flex';
  readonly since?: KernelVersion;
}

/** The decoded value of a struct: `__u64` fields as `bigint` (the raw 64-bit boundary), the rest as numbers. */
export type StructValue<T extends Record<string, FieldType>> = {
  [K in keyof T]: T[K] extends 'u64' ? bigint : number;
};

/** What `encode` accepts: `__u64` fields as `bigint` or a safe-integer `number`. */
export type StructInput<T extends Record<string, FieldType>> = {
  [K in keyof T]: T[K] extends 'u64' ? bigint | number : number;
};

const SIZES: Readonly<Record<FieldType, number>> = { u8: 1, u16: 2, u32: 4, s32: 4, u64: 8 };

/**
 * Encoder and decoder of one fixed-size UAPI struct, little-endian as on arm64. Nested structs
 * and anonymous unions are flattened into scalar fields (`bitmap.pgsize`, `header.id`; the
 * hand-written capability codecs name the header's fields `id`/`version`/`next`). Array members,
 * flexible ones included, are recorded in `arrays`.
 */
export class StructCodec<T extends Record<string, FieldType>> implements StructLayout {
  readonly name: string;
  readonly size: number;
  readonly fields: Readonly<Record<keyof T & string, FieldSpec>>;
  /** The struct's size in headers older than the newest `since` field (v6.1 `vfio_device_info` is 20). */
  readonly legacySize: number | undefined;
  /** Array members by name. */
  readonly arrays: Readonly<Record<string, ArraySpec>>;

  constructor(
    name: string,
    size: number,
    fields: { readonly [K in keyof T]: FieldSpec<T[K]> },
    legacySize?: number,
    arrays: Readonly<Record<string, ArraySpec>> = {},
  ) {
    this.name = name;
    this.size = size;
    this.fields = fields as Readonly<Record<keyof T & string, FieldSpec>>;
    this.legacySize = legacySize;
    this.arrays = arrays;
  }

  /** `offsetofend(struct, field)`: the `minsz` of most VFIO ioctls. */
  offsetofend(field: keyof T & string): number {
    const spec = this.fields[field];
    return spec.offset + spec.size;
  }

  /** Decodes the struct at `byteOffset`; `EFAULT` (a failed `copy_from_user`) when `bytes` is too short. */
  decode(bytes: Uint8Array, byteOffset = 0): StructValue<T> {
    return this.decodePrefix(bytes, this.size, byteOffset);
  }

  /**
   * Decodes only the first `length` bytes (`copy_from_user(&s, arg, minsz)`); later fields read 0.
   * `EFAULT` when fewer than `length` bytes are there.
   */
  decodePrefix(bytes: Uint8Array, length: number, byteOffset = 0): StructValue<T> {
    if (byteOffset + length > bytes.length) {
      throw new KernelError(
        'EFAULT',
        `${this.name}: ${length} bytes at ${byteOffset} but the buffer holds ${bytes.length}`,
      );
    }
    const copy = new Uint8Array(this.size);
    copy.set(bytes.subarray(byteOffset, byteOffset + Math.min(length, this.size)));
    const view = new DataView(copy.buffer);
    const out: Record<string, number | bigint> = {};
    for (const [name, spec] of Object.entries(this.fields) as Array<[string, FieldSpec]>) {
      out[name] = readField(view, spec);
    }
    return out as StructValue<T>;
  }

  /** Encodes into a new buffer of `size` bytes, or into `into` at `byteOffset`. */
  encode(value: StructInput<T>, into?: Uint8Array, byteOffset = 0): Uint8Array {
    return this.encodePrefix(value, this.size, into, byteOffset);
  }

  /** Writes only the first `length` bytes (`copy_to_user(arg, &s, minsz)`); `EFAULT` when they do not fit. */
  encodePrefix(value: StructInput<T>, length: number, into?: Uint8Array, byteOffset = 0): Uint8Array {
    const target = into ?? new Uint8Array(this.size);
    if (byteOffset + length > target.length) {
      throw new KernelError(
        'EFAULT',
        `${this.name}: ${length} bytes at ${byteOffset} do not fit ${target.length}`,
      );
    }
    const scratch = new Uint8Array(this.size);
    const view = new DataView(scratch.buffer);
    for (const [name, spec] of Object.entries(this.fields) as Array<[string, FieldSpec]>) {
      writeField(view, spec, (value as Record<string, number | bigint>)[name] ?? 0, `${this.name}.${name}`);
    }
    target.set(scratch.subarray(0, Math.min(length, this.size)), byteOffset);
    return target;
  }
}

/** A field spec helper: `field('u32', 4)`. */
export function field<Type extends FieldType>(
  type: Type,
  offset: number,
  since?: KernelVersion,
): FieldSpec<Type> {
  return since === undefined
    ? { type, offset, size: SIZES[type] }
    : { type, offset, size: SIZES[type], since };
}

function readField(view: DataView, spec: FieldSpec): number | bigint {
  switch (spec.type) {
    case 'u8':
      return view.getUint8(spec.offset);
    case 'u16':
      return view.getUint16(spec.offset, true);
    case 'u32':
      return view.getUint32(spec.offset, true);
    case 's32':
      return view.getInt32(spec.offset, true);
    case 'u64':
      return view.getBigUint64(spec.offset, true);
  }
}

const LIMITS: Readonly<Record<Exclude<FieldType, 'u64'>, readonly [number, number]>> = {
  u8: [0, 0xff],
  u16: [0, 0xffff],
  u32: [0, 0xffff_ffff],
  s32: [-0x8000_0000, 0x7fff_ffff],
};

function writeField(view: DataView, spec: FieldSpec, value: number | bigint, what: string): void {
  if (spec.type === 'u64') {
    const big = typeof value === 'bigint' ? value : BigInt(checkInteger(value, what));
    if (big < 0n || big > 0xffff_ffff_ffff_ffffn) throw new UapiError(`${what} ${big} is not a __u64`);
    view.setBigUint64(spec.offset, big, true);
    return;
  }
  const n = typeof value === 'bigint' ? Number(value) : checkInteger(value, what);
  const [low, high] = LIMITS[spec.type];
  if (n < low || n > high) throw new UapiError(`${what} ${n} does not fit __${spec.type}`);
  if (spec.type === 'u8') view.setUint8(spec.offset, n);
  else if (spec.type === 'u16') view.setUint16(spec.offset, n, true);
  else if (spec.type === 'u32') view.setUint32(spec.offset, n, true);
  else view.setInt32(spec.offset, n, true);
}

function checkInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) throw new UapiError(`${what} ${String(value)} is not an integer`);
  return value;
}
