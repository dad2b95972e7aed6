import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import {
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
} from '../uapi/flags.js';
import { type IrqSetHeader, vfioSetIrqsValidateAndPrepare } from './set-irqs-validate.js';

// vfio_set_irqs_validate_and_prepare (drivers/vfio/vfio_main.c) is exported for bus drivers
// that validate their own SET_IRQS: each boundary below is one of its comparisons, checked on
// both sides (minsz = offsetofend(struct vfio_irq_set, count) = 20).
const NONE = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
const BOOL = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER;
const EVENTFD = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;

function validate(fields: Partial<IrqSetHeader>, numIrqs = 4, maxIrqType = 3): number | string {
  const hdr: IrqSetHeader = { argsz: 20, flags: NONE, index: 0, start: 0, count: 1, ...fields };
  let size: number | undefined;
  const errno = thrownErrno(() => {
    size = vfioSetIrqsValidateAndPrepare(hdr, numIrqs, maxIrqType);
  });
  return errno ?? size ?? -1;
}

describe('vfio_set_irqs_validate_and_prepare boundaries', () => {
  it('argsz: 19 is EINVAL, 20 (minsz) is enough for DATA_NONE', () => {
    expect(validate({ argsz: 19 })).toBe('EINVAL');
    expect(validate({ argsz: 20 })).toBe(0);
  });

  it('index: max_irq_type is EINVAL, max_irq_type - 1 passes', () => {
    expect(validate({ index: 3 })).toBe('EINVAL');
    expect(validate({ index: 2 })).toBe(0);
  });

  it('start: num_irqs is EINVAL even with count 0; start + count may reach num_irqs but not pass it', () => {
    expect(validate({ start: 4, count: 0 })).toBe('EINVAL');
    expect(validate({ start: 3, count: 1 })).toBe(0);
    expect(validate({ start: 0, count: 4 })).toBe(0);
    expect(validate({ start: 3, count: 2 })).toBe('EINVAL');
  });

  it("flags: only unknown bits and the data type are checked here (no action is the bus driver's ENOTTY)", () => {
    expect(validate({ flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK })).toBe(0);
    expect(validate({ flags: VFIO_IRQ_SET_DATA_NONE })).toBe(0);
    expect(validate({ flags: NONE | 0x40 })).toBe('EINVAL');
    expect(validate({ flags: VFIO_IRQ_SET_ACTION_TRIGGER })).toBe('EINVAL');
  });

  it('returns the payload size: count × 0, 1 or 4 bytes, and argsz must cover exactly that', () => {
    expect(validate({ count: 3, flags: NONE })).toBe(0);
    expect(validate({ count: 3, flags: BOOL, argsz: 23 })).toBe(3);
    expect(validate({ count: 3, flags: BOOL, argsz: 22 })).toBe('EINVAL');
    expect(validate({ count: 3, flags: EVENTFD, argsz: 32 })).toBe(12);
    expect(validate({ count: 3, flags: EVENTFD, argsz: 31 })).toBe('EINVAL');
    // DATA_NONE has no payload: argsz may be anything from minsz up.
    expect(validate({ count: 3, flags: NONE, argsz: 20 })).toBe(0);
  });
});
