// --- guest address map (platform-bus window allocator) ---
export {
  GuestAddressMap,
  type GuestAddressMapOptions,
  type GuestMmioAllocation,
  type GuestWindow,
  type MmioAlignment,
  naturalAlignment,
} from './address-map/guest-address-map.js';
// --- assign / release ---
export {
  type Assignment,
  type AssignOptions,
  assignDevice,
  releaseDevice,
  type StepRecord,
} from './assign/assign.js';
export {
  ASSIGN_STEPS,
  type AssignBackend,
  AssignError,
  type AssignStep,
  assignStepsOf,
  IOMMUFD_ASSIGN_STEPS,
  type IommufdAssignStep,
  type LegacyAssignStep,
} from './assign/assign-error.js';
export {
  GuestVm,
  type GuestVmKvm,
  type GuestVmOptions,
  type VmmKind,
  xenGuestMap,
} from './assign/guest-vm.js';
// --- guest device trees ---
export {
  type AssignedDeviceView,
  type AssignedIommu,
  type AssignedIrq,
  type AssignedRegion,
  type PlacementPolicy,
  placeDevice,
} from './guest-dt/assigned-device.js';
export { type ApplyOverlayOptions, applyOverlay } from './guest-dt/overlay.js';
export {
  DEVICE_ASSIGNMENT_ERROR_KINDS,
  type DeviceAssigningHypervisor,
  DeviceAssignmentError,
  type DeviceAssignmentErrorKind,
  placementHypervisor,
  type ValidatedDevice,
  type ValidateOptions,
  validateDeviceAssignment,
} from './guest-dt/pvmfw-validator.js';
export {
  GIC_FDT_IRQ_FLAGS_EDGE_LO_HI,
  GIC_FDT_IRQ_FLAGS_LEVEL_HI,
  GIC_FDT_IRQ_TYPE_SPI,
  QEMU_SYSBUS_FDT_BINDINGS,
  type QemuGuestTreeOptions,
  qemuPlatformBusNode,
  qemuPlatformBusTree,
  qemuXgbeNodes,
  qemuXgmacNode,
  sysfsToDtName,
} from './guest-dt/qemu-sysbus-fdt.js';
export { type RenderedTree, renderTree } from './guest-dt/render.js';
export {
  type CrosvmAssignment,
  crosvmGuestTree,
  type PvIommu,
  patchVmDtbo,
  pvIommuNode,
  type VmDtboDevice,
  type VmDtboIommu,
  vmDtboTemplate,
} from './guest-dt/vm-dtbo.js';
export { XEN_GUEST_PHANDLE_GIC, type XenPartialDtOptions, xenPartialDt } from './guest-dt/xen-partial-dt.js';
