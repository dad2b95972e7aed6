/**
 * @vfiokit/vfio — VFIO containers, groups and device fds with the kernel's semantics, the
 * type1 IOMMU backend over core's IommuDomain, the vfio-platform / vfio-amba meta drivers on
 * platform-bus. The `<linux/vfio.h>` UAPI (ioctl numbers, flags, struct codecs) is the separate
 * entry `@vfiokit/vfio/uapi`.
 */

// --- the user side: the syscall seam, a process, typed handles ---
export { type DmaMapping, type IommuInfo, VfioContainerHandle } from './api/container-handle.js';
export { type DeviceInfo, type IrqInfo, type RegionInfo, VfioDeviceHandle } from './api/device-handle.js';
export { type GroupStatus, VfioGroupHandle } from './api/group-handle.js';
export { type IrqAction, type IrqSet, irqSetRequest } from './api/irq-set.js';
// --- the device cdev (/dev/vfio/devices/vfioX) over an iommufd back end ---
export { type CdevBinding, cdevBinding, cdevDeviceOpenCount } from './cdev/cdev-binding.js';
export { VfioDeviceCdevFile } from './cdev/device-cdev-file.js';
export {
  type IommufdAccessRef,
  type IommufdCtx,
  type IommufdDeviceRef,
  type IommufdFileLike,
  iommufdCtxFromFd,
  iommufdTaskOf,
} from './cdev/iommufd-ctx.js';
export { openDeviceCdev } from './cdev/open-cdev.js';
// --- the kernel side: core, groups, containers, type1 ---
export { type ContainerDriver, VfioContainer } from './container/container.js';
export { VfioDeviceFile } from './device/device-file.js';
export { type IrqSetHeader, vfioSetIrqsValidateAndPrepare } from './device/set-irqs-validate.js';
export { VfioDevice, type VfioDeviceOps, type VfioDeviceSpec } from './device/vfio-device.js';
export { VfioGroupFile } from './group/group-file.js';
export { VfioGroup, type VfioGroupKind } from './group/vfio-group.js';
// --- interrupts ---
export {
  type HostIrqChip,
  type IrqReturn,
  type IrqTriggerType,
  isLevel,
  type RequestIrqOptions,
} from './irq/host-irq-chip.js';
export { SimpleIrqChip } from './irq/simple-irq-chip.js';
export { Virqfd } from './irq/virqfd.js';
export type { ModuleParamValue } from './kernel/module-params.js';
export { TAINT_USER } from './kernel/taint.js';
// --- vfio-platform / vfio-amba ---
export type { PlatformResource, VfioPlatformBinder } from './platform/binder.js';
export {
  VfioPlatformDevice,
  type VfioPlatformEnvironment,
  type VfioPlatformEvent,
} from './platform/common.js';
export type { DmaCapabilityPolicy, DmaVerdict } from './platform/dma-policy.js';
export { type PlatformIrq, PlatformIrqs } from './platform/irq.js';
export {
  type BinderFactory,
  type VfioMetaDriverData,
  type VfioMetaDriverOptions,
  vfioMetaDriver,
  vfioMetaDriverData,
} from './platform/meta-driver.js';
export type { PlatformRegion } from './platform/regions.js';
export {
  AMBA_NR_IRQS,
  VFIO_AMBA_DEPRECATION,
  vfioAmbaDeprecation,
  vfioAmbaDriver,
} from './platform/vfio-amba.js';
export { type VfioPlatformDriverOptions, vfioPlatformDriver } from './platform/vfio-platform.js';
export {
  bindReportsProbeError,
  KERNEL_V6_18,
  type KernelProfile,
  kernelAtLeast,
  perDeviceMsiIsolation,
  viabilityByDmaOwnership,
} from './profile.js';
export { type MsiIsolation, NO_ISOLATED_MSI } from './type1/msi-isolation.js';
export { Type1Iommu, type Type1Params } from './type1/type1-iommu.js';
// --- UAPI names live in `@vfiokit/vfio/uapi` (ioctl numbers, flags, struct codecs). The main
// entry keeps only what its own API needs. Types: KernelProfile.version is a KernelVersion and
// irqSetRequest() returns an IrqSetRequest.
export type { KernelVersion } from './uapi/layout.js';
export type { IrqSetRequest } from './uapi/structs-irq.js';
// UapiError is what the handles throw before any ioctl (encoding a payload, a u64 past 2^53, a
// GET_INFO that never settles); the packages build without code splitting, so the /uapi
// bundle's class is a different object and `instanceof` on a handle's error needs this one.
export { UapiError } from './uapi/uapi-error.js';
// --- the user side, continued: address spaces, files, processes ---
export { type PinnedChunk, UserAddressSpace, type UserTarget } from './user/address-space.js';
export type { IoctlArg, MmapRequest, MmapResult, VfioFile } from './user/file.js';
export { UserProcess, type UserProcessOptions } from './user/process.js';
export type { VfioSyscalls } from './user/syscalls.js';
export type { Capability, Mm, Task } from './user/task.js';
export {
  type FakeIommuGroup,
  Vfio,
  type VfioGroupDeviceSpec,
  type VfioOptions,
  type VfioParams,
} from './vfio.js';
