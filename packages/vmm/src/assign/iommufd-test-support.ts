// Test helpers for the iommufd back end (used by the assign tests only; not exported).
import { iommufdTaskOf } from '@vfiokit/vfio';
import type { GuestVm } from './guest-vm.js';

/** `hostState` plus what iommufd charges: the user's locked_vm (IOPT_PAGES_ACCOUNT_USER). */
export function iommufdState(hostState: string, vm: GuestVm): string {
  return `${hostState} userLockedVm=${iommufdTaskOf(vm.process).user.lockedVm}`;
}
