import { EventFd, KernelError } from '@vfiokit/core';
import { type HostIrqChip, type IrqReturn, isLevel } from '../irq/host-irq-chip.js';
import { Virqfd } from '../irq/virqfd.js';
import {
  VFIO_IRQ_INFO_AUTOMASKED,
  VFIO_IRQ_INFO_EVENTFD,
  VFIO_IRQ_INFO_MASKABLE,
  VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_TYPE_MASK,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
} from '../uapi/flags.js';
import type { Task } from '../user/task.js';

/** `struct vfio_platform_irq` (drivers/vfio/platform/vfio_platform_private.h). */
export interface PlatformIrq {
  readonly index: number;
  readonly hwirq: number;
  readonly flags: number;
  readonly count: 1;
  /** `request_irq` failed at open: every SET_IRQS on this index returns this error. */
  requestError: KernelError | undefined;
  readonly name: string;
  masked: boolean;
  trigger: EventFd | null;
  mask: Virqfd | null;
  unmask: Virqfd | null;
}

/** What SET_IRQS carries after validation. */
export interface PlatformSetIrqs {
  readonly flags: number;
  readonly index: number;
  readonly start: number;
  readonly count: number;
  readonly data: Uint8Array;
}

// eventfd_ctx_fdget: EBADF for a closed fd, EINVAL for a file that is not an eventfd.
function eventfdFromFd(current: Task, fd: number): EventFd {
  const file = current.fdget(fd);
  if (!(file instanceof EventFd)) throw new KernelError('EINVAL', `fd ${fd} is not an eventfd`);
  return file;
}

/**
 * The IRQ half of vfio-platform (drivers/vfio/platform/vfio_platform_irq.c). One index per
 * interrupt; level interrupts are MASKABLE|AUTOMASKED. Handlers are installed once at open
 * with `IRQF_NO_AUTOEN` and kept across trigger changes (the CVE-2024-26813 fix): a trigger
 * change disables the line synchronously, swaps the eventfd and re-enables it, so an
 * interrupt is neither lost nor signalled to a released eventfd.
 */
export class PlatformIrqs {
  private readonly chip: HostIrqChip;
  private readonly deviceName: string;
  private irqs: PlatformIrq[] = [];

  constructor(chip: HostIrqChip, deviceName: string) {
    this.chip = chip;
    this.deviceName = deviceName;
  }

  get count(): number {
    return this.irqs.length;
  }

  irq(index: number): PlatformIrq {
    const irq = this.irqs[index];
    if (irq === undefined) throw new KernelError('EINVAL', `IRQ index ${index} ≥ ${this.irqs.length}`);
    return irq;
  }

  /** `vfio_platform_irq_init`: the leading non-negative `getIrq(i)` become indexes 0..n−1. */
  init(getIrq: (index: number) => number): void {
    const irqs: PlatformIrq[] = [];
    for (let i = 0; getIrq(i) >= 0; i++) {
      const hwirq = getIrq(i);
      const level = isLevel(this.chip.triggerType(hwirq));
      const irq: PlatformIrq = {
        index: i,
        hwirq,
        flags: VFIO_IRQ_INFO_EVENTFD | (level ? VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED : 0),
        count: 1,
        requestError: undefined,
        name: `vfio-irq[${hwirq}](${this.deviceName})`,
        masked: false,
        trigger: null,
        mask: null,
        unmask: null,
      };
      try {
        this.chip.requestIrq(hwirq, this.handlerOf(irq), { name: irq.name, noAutoEn: true });
      } catch (error) {
        // "errors from request_irq() are local to the SET_IRQS path and reflected in the name pointer"
        irq.requestError =
          error instanceof KernelError
            ? error
            : new KernelError('EINVAL', 'request_irq failed', { cause: error });
      }
      irqs.push(irq);
    }
    this.irqs = irqs;
  }

  /** `vfio_platform_irq_cleanup`: virqfds off, handler freed, trigger released. */
  cleanup(): void {
    for (const irq of this.irqs) {
      irq.mask?.disable();
      irq.unmask?.disable();
      irq.mask = null;
      irq.unmask = null;
      if (irq.requestError === undefined) this.chip.freeIrq(irq.hwirq);
      irq.trigger = null;
    }
    this.irqs = [];
  }

  /** `vfio_platform_set_irqs_ioctl`. */
  setIrqs(current: Task, request: PlatformSetIrqs): void {
    const irq = this.irq(request.index);
    if (irq.requestError !== undefined) throw irq.requestError;
    switch (request.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) {
      case VFIO_IRQ_SET_ACTION_MASK:
        this.setMask(current, irq, request, true);
        return;
      case VFIO_IRQ_SET_ACTION_UNMASK:
        this.setMask(current, irq, request, false);
        return;
      case VFIO_IRQ_SET_ACTION_TRIGGER:
        this.setTrigger(current, irq, request);
        return;
      default:
        throw new KernelError('ENOTTY', 'SET_IRQS needs exactly one ACTION');
    }
  }

  /** `vfio_platform_mask`: disables the line once (`masked` makes it idempotent). */
  maskIrq(irq: PlatformIrq): void {
    if (irq.masked) return;
    this.chip.disableIrqNosync(irq.hwirq);
    irq.masked = true;
  }

  /**
   * `vfio_platform_unmask`: re-enables a masked line. The UNMASK virqfd
   * (`vfio_platform_unmask_handler`) calls it inside the eventfd wakeup; `enable_irq` takes
   * effect at once, but a line still asserted is taken by the chip through its scheduler,
   * after the wakeup, so the handler's signal of TRIGGER is not inside `in_eventfd`.
   */
  unmaskIrq(irq: PlatformIrq): void {
    if (!irq.masked) return;
    irq.masked = false;
    this.chip.enableIrq(irq.hwirq);
  }

  // vfio_platform_set_irq_mask / _unmask.
  private setMask(current: Task, irq: PlatformIrq, request: PlatformSetIrqs, mask: boolean): void {
    if (request.start !== 0 || request.count !== 1)
      throw new KernelError('EINVAL', 'MASK/UNMASK takes start 0, count 1');
    if ((irq.flags & VFIO_IRQ_INFO_MASKABLE) === 0)
      throw new KernelError('EINVAL', `IRQ ${irq.index} is not maskable`);
    const slot = mask ? 'mask' : 'unmask';
    const act = mask ? () => this.maskIrq(irq) : () => this.unmaskIrq(irq);
    if ((request.flags & VFIO_IRQ_SET_DATA_EVENTFD) !== 0) {
      const fd = new DataView(request.data.buffer, request.data.byteOffset, 4).getInt32(0, true);
      if (fd >= 0) {
        const eventfd = eventfdFromFd(current, fd);
        // vfio_virqfd_enable: one virqfd per slot (EBUSY while one is active).
        if (irq[slot]?.isActive === true)
          throw new KernelError('EBUSY', `IRQ ${irq.index} has a ${slot} eventfd already`);
        irq[slot] = new Virqfd(eventfd, act);
      } else {
        irq[slot]?.disable();
        irq[slot] = null;
      }
      return;
    }
    if ((request.flags & VFIO_IRQ_SET_DATA_NONE) !== 0) act();
    else if ((request.flags & VFIO_IRQ_SET_DATA_BOOL) !== 0 && request.data[0] !== 0) act();
  }

  // vfio_platform_set_irq_trigger.
  private setTrigger(current: Task, irq: PlatformIrq, request: PlatformSetIrqs): void {
    if (request.count === 0 && (request.flags & VFIO_IRQ_SET_DATA_NONE) !== 0) {
      this.setEventfdTrigger(current, irq, -1);
      return;
    }
    if (request.start !== 0 || request.count !== 1)
      throw new KernelError('EINVAL', 'TRIGGER takes start 0, count 1');
    const handler = this.handlerOf(irq);
    if ((request.flags & VFIO_IRQ_SET_DATA_EVENTFD) !== 0) {
      this.setEventfdTrigger(
        current,
        irq,
        new DataView(request.data.buffer, request.data.byteOffset, 4).getInt32(0, true),
      );
    } else if ((request.flags & VFIO_IRQ_SET_DATA_NONE) !== 0) {
      handler(); // loopback: as if the interrupt fired
    } else if ((request.flags & VFIO_IRQ_SET_DATA_BOOL) !== 0 && request.data[0] !== 0) {
      handler();
    }
  }

  // vfio_set_trigger (post-CVE-2024-26813): disable_irq, swap, enable_irq; the handler stays.
  private setEventfdTrigger(current: Task, irq: PlatformIrq, fd: number): void {
    if (irq.trigger !== null) {
      this.chip.disableIrq(irq.hwirq);
      irq.trigger = null;
    }
    if (fd < 0) return;
    irq.trigger = eventfdFromFd(current, fd);
    this.chip.enableIrq(irq.hwirq);
  }

  private handlerOf(irq: PlatformIrq): () => IrqReturn {
    return (irq.flags & VFIO_IRQ_INFO_AUTOMASKED) !== 0
      ? () => this.automaskedHandler(irq)
      : () => this.edgeHandler(irq);
  }

  // vfio_send_eventfd: a handler may run with no trigger set (loopback before SET_IRQS).
  private send(irq: PlatformIrq): void {
    if (irq.trigger?.isOpen === true) irq.trigger.signal();
  }

  // vfio_irq_handler: edges always signal.
  private edgeHandler(irq: PlatformIrq): IrqReturn {
    this.send(irq);
    return 'handled';
  }

  // vfio_automasked_irq_handler: mask and signal once; while masked, IRQ_NONE.
  private automaskedHandler(irq: PlatformIrq): IrqReturn {
    if (irq.masked) return 'none';
    this.chip.disableIrqNosync(irq.hwirq);
    irq.masked = true;
    this.send(irq);
    return 'handled';
  }
}
