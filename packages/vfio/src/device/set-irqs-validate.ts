import { KernelError } from '@vfiokit/core';
import {
  VFIO_IRQ_SET_ACTION_TYPE_MASK,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_IRQ_SET_DATA_TYPE_MASK,
} from '../uapi/flags.js';
import { vfioIrqSet } from '../uapi/structs-irq.js';

const U32_MAX = 0xffff_ffff;

/** A `vfio_irq_set` header as decoded from user memory. */
export interface IrqSetHeader {
  readonly argsz: number;
  readonly flags: number;
  readonly index: number;
  readonly start: number;
  readonly count: number;
}

/**
 * `vfio_set_irqs_validate_and_prepare` (drivers/vfio/vfio_main.c): returns the payload size
 * (`count × 0|1|4`). `EINVAL` when argsz < 20, index ≥ `maxIrqType`, count ≥ U32_MAX − start,
 * unknown flags; start ≥ `numIrqs` or start + count > `numIrqs`; not exactly one data type;
 * payload shorter than argsz says.
 */
export function vfioSetIrqsValidateAndPrepare(
  hdr: IrqSetHeader,
  numIrqs: number,
  maxIrqType: number,
): number {
  const minsz = vfioIrqSet.offsetofend('count');
  if (
    hdr.argsz < minsz ||
    hdr.index >= maxIrqType ||
    hdr.count >= U32_MAX - hdr.start ||
    (hdr.flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK)) !== 0
  ) {
    throw new KernelError(
      'EINVAL',
      `vfio_irq_set argsz ${hdr.argsz} index ${hdr.index} count ${hdr.count} flags 0x${hdr.flags.toString(16)}`,
    );
  }
  if (hdr.start >= numIrqs || hdr.start + hdr.count > numIrqs) {
    throw new KernelError('EINVAL', `vfio_irq_set start ${hdr.start} count ${hdr.count} outside ${numIrqs}`);
  }
  let size: number;
  switch (hdr.flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
    case VFIO_IRQ_SET_DATA_NONE:
      size = 0;
      break;
    case VFIO_IRQ_SET_DATA_BOOL:
      size = 1;
      break;
    case VFIO_IRQ_SET_DATA_EVENTFD:
      size = 4;
      break;
    default:
      throw new KernelError('EINVAL', 'vfio_irq_set needs exactly one DATA type');
  }
  if (size > 0 && hdr.argsz - minsz < hdr.count * size) {
    throw new KernelError(
      'EINVAL',
      `vfio_irq_set argsz ${hdr.argsz} too small for ${hdr.count} × ${size} bytes`,
    );
  }
  return hdr.count * size;
}
