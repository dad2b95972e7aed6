import type { EventFd } from '@vfiokit/core';

/** `struct kvm_irqfd` with the eventfds as objects (the model's file descriptors). */
export interface IrqfdArgs {
  /** The trigger eventfd (vfio's `VFIO_IRQ_SET_ACTION_TRIGGER` eventfd). */
  readonly fd: EventFd;
  readonly gsi: number;
  /** KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE. */
  readonly flags?: number;
  /** With KVM_IRQFD_FLAG_RESAMPLE: signalled when the guest EOIs (vfio's UNMASK eventfd). */
  readonly resamplefd?: EventFd;
}

/** `struct kvm_kernel_irqfd_resampler`: one per GSI, shared by the resample irqfds of that GSI. */
export interface Resampler {
  readonly gsi: number;
  readonly irqfds: Set<Irqfd>;
}

/** `struct kvm_kernel_irqfd` (virt/kvm/eventfd.c). */
export interface Irqfd {
  readonly eventfd: EventFd;
  readonly gsi: number;
  readonly resamplefd: EventFd | undefined;
  readonly resampler: Resampler | undefined;
  /** On `kvm->irqfds.items` (irqfd_is_active). */
  active: boolean;
  readonly onSignal: () => void;
  readonly onClose: () => void;
}

/** Counters a VM keeps about interrupt delivery (for benchmarks and strategy comparisons). */
export interface KvmStats {
  /** irqfd wakeups (each consumes the eventfd count: N signals before a wakeup inject once). */
  irqfdWakeups: number;
  /** Injections through KVM_IRQ_LINE. */
  irqLines: number;
  /** Resamplefd signals (guest EOIs of a resampled level GSI). */
  resamples: number;
  /** Injections that failed inside the kernel and were dropped (kvm_set_irq ignores errors). */
  droppedInjections: number;
}
