// A failed assignment names the step that failed and carries the kernel's errno of the call
// that failed there (or of the VMM's own check), after every earlier step was undone.
import { type ErrnoName, isKernelError, KernelError } from '@vfiokit/core';

/** The steps of {@link assignDevice} on the legacy back end (container + group), in order. */
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

/**
 * The steps on the iommufd back end (device cdev + `/dev/iommu`), in QEMU's order
 * (hw/vfio/iommufd.c iommufd_cdev_attach → iommufd_cdev_connect_and_bind: open /dev/iommu,
 * KVM_DEV_VFIO_FILE_ADD of the cdev fd, then BIND — KVM must come first: the bind takes the
 * kvm the file holds, drivers/vfio/device_cdev.c vfio_df_ioctl_bind_iommufd →
 * vfio_df_get_kvm_safe; then the IOAS, ATTACH_IOMMUFD_PT, the listener's IOAS_MAP of RAM).
 */
export const IOMMUFD_ASSIGN_STEPS = [
  'driver_override',
  'unbind',
  'bind',
  'open_iommufd',
  'open_cdev',
  'kvm_vfio_add',
  'bind_iommufd',
  'ioas_alloc',
  'attach_ioas',
  'ioas_map',
  'device_info',
  'place',
  'map_regions',
  'wire_irqs',
  'guest_node',
] as const;

/** Which kernel interface assignDevice drives: the VFIO container (type1/no-IOMMU) or iommufd. */
export type AssignBackend = 'legacy' | 'iommufd';

export type LegacyAssignStep = (typeof ASSIGN_STEPS)[number];
export type IommufdAssignStep = (typeof IOMMUFD_ASSIGN_STEPS)[number];
export type AssignStep = LegacyAssignStep | IommufdAssignStep;

/** The steps of `backend`, in order. */
export function assignStepsOf(backend: AssignBackend): readonly AssignStep[] {
  return backend === 'iommufd' ? IOMMUFD_ASSIGN_STEPS : ASSIGN_STEPS;
}

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
