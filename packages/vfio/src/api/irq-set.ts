import {
  VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
} from '../uapi/flags.js';
import type { IrqSetRequest } from '../uapi/structs-irq.js';

/** `VFIO_IRQ_SET_ACTION_*`. */
export type IrqAction = 'mask' | 'unmask' | 'trigger';

/**
 * A typed `VFIO_DEVICE_SET_IRQS` (rust-vmm `enable_irq` / `unmask_irq` style): the payload's
 * kind picks the DATA flag, and `count` is the payload's length, so flags and data cannot
 * disagree. `count` alone is DATA_NONE (`count: 0` with `trigger` tears the trigger down).
 */
export type IrqSet =
  | { readonly action: IrqAction; readonly index: number; readonly start?: number; readonly count: number }
  | {
      readonly action: IrqAction;
      readonly index: number;
      readonly start?: number;
      readonly bools: readonly boolean[];
    }
  | {
      readonly action: IrqAction;
      readonly index: number;
      readonly start?: number;
      /** Eventfd numbers; `null` is −1, which de-assigns that vector's eventfd. */
      readonly eventfds: readonly (number | null)[];
    };

const ACTIONS: Readonly<Record<IrqAction, number>> = {
  mask: VFIO_IRQ_SET_ACTION_MASK,
  unmask: VFIO_IRQ_SET_ACTION_UNMASK,
  trigger: VFIO_IRQ_SET_ACTION_TRIGGER,
};

/** The raw `vfio_irq_set` fields of a typed request. */
export function irqSetRequest(set: IrqSet): IrqSetRequest {
  const base = { index: set.index, start: set.start ?? 0 };
  const action = ACTIONS[set.action];
  if ('eventfds' in set) {
    return {
      ...base,
      flags: action | VFIO_IRQ_SET_DATA_EVENTFD,
      count: set.eventfds.length,
      data: set.eventfds.map((fd) => fd ?? -1),
    };
  }
  if ('bools' in set) {
    return {
      ...base,
      flags: action | VFIO_IRQ_SET_DATA_BOOL,
      count: set.bools.length,
      data: set.bools.map((b) => (b ? 1 : 0)),
    };
  }
  return { ...base, flags: action | VFIO_IRQ_SET_DATA_NONE, count: set.count };
}
