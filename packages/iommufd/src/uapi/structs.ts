// The structs of <linux/iommufd.h> (Linux 6.12) the model serves: member offsets and sizes,
// and a little-endian codec. c-header.test.ts measures the real header with gcc against these.

/** One member: byte offset, byte size, and element count for an array member. */
export interface IommufdField {
  readonly offset: number;
  readonly size: number;
  readonly count?: number;
}

/** A struct's size and members, by the header's member names. */
export interface IommufdStruct {
  readonly name: string;
  readonly size: number;
  readonly fields: Readonly<Record<string, IommufdField>>;
}

function struct(
  name: string,
  size: number,
  fields: Record<string, [number, number, number?]>,
): IommufdStruct {
  const out: Record<string, IommufdField> = {};
  for (const [key, [offset, size, count]] of Object.entries(fields))
    out[key] = count === undefined ? { offset, size } : { offset, size, count };
  return { name, size, fields: out };
}

export const IOMMU_DESTROY_STRUCT: IommufdStruct = struct('iommu_destroy', 8, { size: [0, 4], id: [4, 4] });
export const IOMMU_IOAS_ALLOC_STRUCT: IommufdStruct = struct('iommu_ioas_alloc', 12, {
  size: [0, 4],
  flags: [4, 4],
  out_ioas_id: [8, 4],
});
export const IOMMU_IOVA_RANGE_STRUCT: IommufdStruct = struct('iommu_iova_range', 16, {
  start: [0, 8],
  last: [8, 8],
});
export const IOMMU_IOAS_IOVA_RANGES_STRUCT: IommufdStruct = struct('iommu_ioas_iova_ranges', 32, {
  size: [0, 4],
  ioas_id: [4, 4],
  num_iovas: [8, 4],
  __reserved: [12, 4],
  allowed_iovas: [16, 8],
  out_iova_alignment: [24, 8],
});
export const IOMMU_IOAS_ALLOW_IOVAS_STRUCT: IommufdStruct = struct('iommu_ioas_allow_iovas', 24, {
  size: [0, 4],
  ioas_id: [4, 4],
  num_iovas: [8, 4],
  __reserved: [12, 4],
  allowed_iovas: [16, 8],
});
export const IOMMU_IOAS_MAP_STRUCT: IommufdStruct = struct('iommu_ioas_map', 40, {
  size: [0, 4],
  flags: [4, 4],
  ioas_id: [8, 4],
  __reserved: [12, 4],
  user_va: [16, 8],
  length: [24, 8],
  iova: [32, 8],
});
export const IOMMU_IOAS_COPY_STRUCT: IommufdStruct = struct('iommu_ioas_copy', 40, {
  size: [0, 4],
  flags: [4, 4],
  dst_ioas_id: [8, 4],
  src_ioas_id: [12, 4],
  length: [16, 8],
  dst_iova: [24, 8],
  src_iova: [32, 8],
});
export const IOMMU_IOAS_UNMAP_STRUCT: IommufdStruct = struct('iommu_ioas_unmap', 24, {
  size: [0, 4],
  ioas_id: [4, 4],
  iova: [8, 8],
  length: [16, 8],
});
export const IOMMU_OPTION_STRUCT: IommufdStruct = struct('iommu_option', 24, {
  size: [0, 4],
  option_id: [4, 4],
  op: [8, 2],
  __reserved: [10, 2],
  object_id: [12, 4],
  val64: [16, 8],
});
export const IOMMU_VFIO_IOAS_STRUCT: IommufdStruct = struct('iommu_vfio_ioas', 12, {
  size: [0, 4],
  ioas_id: [4, 4],
  op: [8, 2],
  __reserved: [10, 2],
});
export const IOMMU_HWPT_SET_DIRTY_TRACKING_STRUCT: IommufdStruct = struct(
  'iommu_hwpt_set_dirty_tracking',
  16,
  {
    size: [0, 4],
    flags: [4, 4],
    hwpt_id: [8, 4],
    __reserved: [12, 4],
  },
);
export const IOMMU_HWPT_GET_DIRTY_BITMAP_STRUCT: IommufdStruct = struct('iommu_hwpt_get_dirty_bitmap', 48, {
  size: [0, 4],
  hwpt_id: [4, 4],
  flags: [8, 4],
  __reserved: [12, 4],
  iova: [16, 8],
  length: [24, 8],
  page_size: [32, 8],
  data: [40, 8],
});
export const IOMMU_HWPT_INVALIDATE_STRUCT: IommufdStruct = struct('iommu_hwpt_invalidate', 32, {
  size: [0, 4],
  hwpt_id: [4, 4],
  data_uptr: [8, 8],
  data_type: [16, 4],
  entry_len: [20, 4],
  entry_num: [24, 4],
  __reserved: [28, 4],
});
export const IOMMU_HWPT_ALLOC_STRUCT: IommufdStruct = struct('iommu_hwpt_alloc', 48, {
  size: [0, 4],
  flags: [4, 4],
  dev_id: [8, 4],
  pt_id: [12, 4],
  out_hwpt_id: [16, 4],
  __reserved: [20, 4],
  data_type: [24, 4],
  data_len: [28, 4],
  data_uptr: [32, 8],
  fault_id: [40, 4],
  __reserved2: [44, 4],
});
export const IOMMU_HW_INFO_STRUCT: IommufdStruct = struct('iommu_hw_info', 40, {
  size: [0, 4],
  flags: [4, 4],
  dev_id: [8, 4],
  data_len: [12, 4],
  data_uptr: [16, 8],
  out_data_type: [24, 4],
  out_max_pasid_log2: [28, 1],
  __reserved: [29, 1, 3],
  out_capabilities: [32, 8],
});

/** Every modelled struct by its header name. */
export const IOMMUFD_STRUCTS: Readonly<Record<string, IommufdStruct>> = Object.fromEntries(
  [
    IOMMU_DESTROY_STRUCT,
    IOMMU_IOAS_ALLOC_STRUCT,
    IOMMU_IOVA_RANGE_STRUCT,
    IOMMU_IOAS_IOVA_RANGES_STRUCT,
    IOMMU_IOAS_ALLOW_IOVAS_STRUCT,
    IOMMU_IOAS_MAP_STRUCT,
    IOMMU_IOAS_COPY_STRUCT,
    IOMMU_IOAS_UNMAP_STRUCT,
    IOMMU_OPTION_STRUCT,
    IOMMU_VFIO_IOAS_STRUCT,
    IOMMU_HWPT_ALLOC_STRUCT,
    IOMMU_HW_INFO_STRUCT,
    IOMMU_HWPT_SET_DIRTY_TRACKING_STRUCT,
    IOMMU_HWPT_GET_DIRTY_BITMAP_STRUCT,
    IOMMU_HWPT_INVALIDATE_STRUCT,
  ].map((s) => [s.name, s]),
);

/** Encodes `values` (missing members are 0; `size` defaults to the struct's size) little-endian. */
export function encodeStruct(
  s: IommufdStruct,
  values: Readonly<Record<string, number | bigint>>,
): Uint8Array {
  const bytes = new Uint8Array(s.size);
  const view = new DataView(bytes.buffer);
  for (const [name, value] of Object.entries(values)) {
    const field = s.fields[name];
    if (field === undefined || field.count !== undefined)
      throw new TypeError(`struct ${s.name} has no scalar ${name}`);
    writeField(view, field, BigInt(value));
  }
  if (!('size' in values) && s.fields.size !== undefined) writeField(view, s.fields.size, BigInt(s.size));
  return bytes;
}

/** Decodes every scalar member as a bigint. */
export function decodeStruct(s: IommufdStruct, bytes: Uint8Array): Record<string, bigint> {
  if (bytes.length < s.size)
    throw new RangeError(`struct ${s.name} needs ${s.size} bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, bigint> = {};
  for (const [name, field] of Object.entries(s.fields)) {
    if (field.count !== undefined) continue;
    out[name] = readField(view, field);
  }
  return out;
}

function writeField(view: DataView, field: IommufdField, value: bigint): void {
  const max = (1n << BigInt(field.size * 8)) - 1n;
  if (value < 0n || value > max) throw new RangeError(`${value} does not fit ${field.size} bytes`);
  if (field.size === 8) view.setBigUint64(field.offset, value, true);
  else if (field.size === 4) view.setUint32(field.offset, Number(value), true);
  else if (field.size === 2) view.setUint16(field.offset, Number(value), true);
  else view.setUint8(field.offset, Number(value));
}

function readField(view: DataView, field: IommufdField): bigint {
  if (field.size === 8) return view.getBigUint64(field.offset, true);
  if (field.size === 4) return BigInt(view.getUint32(field.offset, true));
  if (field.size === 2) return BigInt(view.getUint16(field.offset, true));
  return BigInt(view.getUint8(field.offset));
}
