// A failed assignment names the step that failed and carries the kernel's errno of the call
// that failed there (or of the VMM's own check), after every earlier step was undone.
import { type ErrnoName, isKernelError, KernelError } from '@vfiokit/core';

/** The steps of {@link assignDevice}, in order. */
export const ASSIGN_STEPS = [
  'driver_override',
  'unbind',
  'bind',
  'open_container',
  'open_group',
  'set_container',
  'kvm_vfio_add',
  'set_iommu',
  'map_ram',
  'get_device',
  'device_info',
  'place',
  'map_regions',
  'wire_irqs',
  'guest_node',
] as const;

export type AssignStep = (typeof ASSIGN_STEPS)[number];

/** Why an assignment failed: the step, the errno (as `code`), and what undoing left behind. */
export class AssignError extends KernelError {
  readonly step: AssignStep;
  readonly device: string;
  /** Undo actions that failed themselves (empty when the host is back as it was). */
  readonly undoFailures: readonly string[];

  constructor(step: AssignStep, device: string, cause: unknown, undoFailures: readonly string[] = []) {
    const code: ErrnoName = isKernelError(cause) ? cause.code : 'EIO';
    const text = cause instanceof Error ? cause.message : String(cause);
    const left = undoFailures.length === 0 ? '' : `; undo failed: ${undoFailures.join('; ')}`;
    super(code, `assign ${device}: step ${step} failed: ${text}${left}`, { cause });
    this.step = step;
    this.device = device;
    this.undoFailures = undoFailures;
  }
}
