// Test helpers for the iommufd back end (used by the assign tests only; not exported).
import { iommufdTaskOf } from '@vfiokit/vfio';
import type { AssignStep } from './assign-error.js';
import type { GuestVm } from './guest-vm.js';

/**
 * Stand-in for `iommufd.allow_unsafe_interrupts=1` (drivers/iommu/iommufd/device.c), which the
 * host model does not take on its command line yet: before BIND_IOMMUFD, the flag of every
 * `/dev/iommu` context the VMM holds is set, as the module parameter would have it.
 */
export function allowUnsafeIommufd(vm: GuestVm): (step: AssignStep) => void {
  return (step) => {
    if (step !== 'bind_iommufd') return;
    for (const fd of vm.process.openFds) {
      const file: object = vm.process.fdget(fd);
      if (!('iommufd' in file)) continue;
      const ctx = file.iommufd as { allowUnsafeInterrupts?: boolean };
      if (typeof ctx === 'object' && ctx !== null && 'allowUnsafeInterrupts' in ctx)
        ctx.allowUnsafeInterrupts = true;
    }
  };
}

/** `hostState` plus what iommufd charges: the user's locked_vm (IOPT_PAGES_ACCOUNT_USER). */
export function iommufdState(hostState: string, vm: GuestVm): string {
  return `${hostState} userLockedVm=${iommufdTaskOf(vm.process).user.lockedVm}`;
}
