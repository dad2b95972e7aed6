import { VFIO_IRQ_SET_DATA_BOOL, VFIO_IRQ_SET_DATA_EVENTFD } from './flags.js';
import { field, StructCodec } from './layout.js';
import { UapiError } from './uapi-error.js';

// Interrupt structs of include/uapi/linux/vfio.h (v6.18).

/** `struct vfio_irq_info` (16). */
export const vfioIrqInfo: StructCodec<{ argsz: 'u32'; flags: 'u32'; index: 'u32'; count: 'u32' }> =
  new StructCodec('vfio_irq_info', 16, {
    argsz: field('u32', 0),
    flags: field('u32', 4),
    index: field('u32', 8),
    count: field('u32', 12),
  });

/** `struct vfio_irq_set` (20, then `__u8 data[]`). */
export const vfioIrqSet: StructCodec<{
  argsz: 'u32';
  flags: 'u32';
  index: 'u32';
  start: 'u32';
  count: 'u32';
}> = new StructCodec(
  'vfio_irq_set',
  20,
  {
    argsz: field('u32', 0),
    flags: field('u32', 4),
    index: field('u32', 8),
    start: field('u32', 12),
    count: field('u32', 16),
  },
  undefined,
  {
    // BOOL: one byte per vector; EVENTFD: one __s32 per vector.
    data: { element: 'u8', offset: 20, elementSize: 1, count: 'flex' },
  },
);

/** A `vfio_irq_set` with its payload: none, one byte per IRQ (BOOL) or one `__s32` fd per IRQ (EVENTFD). */
export interface IrqSetRequest {
  readonly flags: number;
  readonly index: number;
  readonly start: number;
  readonly count: number;
  /** BOOL: 0/1 per IRQ; EVENTFD: an fd per IRQ (−1 deassigns). Omitted for DATA_NONE. */
  readonly data?: readonly number[];
}

/** Encodes a `vfio_irq_set` with its data, `argsz` = 20 + payload, as userspace builds it. */
export function encodeIrqSet(request: IrqSetRequest): Uint8Array {
  const data = request.data ?? [];
  const width =
    (request.flags & VFIO_IRQ_SET_DATA_EVENTFD) !== 0
      ? 4
      : (request.flags & VFIO_IRQ_SET_DATA_BOOL) !== 0
        ? 1
        : 0;
  if (width === 0 && data.length > 0) throw new UapiError('DATA_NONE takes no payload');
  const bytes = new Uint8Array(vfioIrqSet.size + width * data.length);
  vfioIrqSet.encode(
    {
      argsz: bytes.length,
      flags: request.flags,
      index: request.index,
      start: request.start,
      count: request.count,
    },
    bytes,
  );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  data.forEach((value, i) => {
    if (width === 4) view.setInt32(vfioIrqSet.size + 4 * i, value, true);
    else view.setUint8(vfioIrqSet.size + i, value);
  });
  return bytes;
}
