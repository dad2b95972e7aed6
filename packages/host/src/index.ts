/**
 * @vfiokit/host — a Linux host assembled from a device tree and a kernel command line:
 * devices populated onto platform-bus, the host drivers of the oracle's kernel, the reset
 * registry, vfio-platform / vfio-amba with the command line's module parameters, a
 * sysfs/proc/dev view and processes that talk to /dev/vfio.
 */

export { analyzeHost } from './analysis/analyze.js';
export { buildDemoSoc, DEMO_SOC_SOURCE } from './analysis/demo-soc.js';
export { EMULATED_DRIVERS } from './analysis/emulated-drivers.js';
export type {
  AnalysisDependency,
  AnalysisDma,
  AnalysisGroup,
  AnalysisIommu,
  AnalysisMsi,
  AnalysisReset,
  AnalysisSettings,
  AnalyzeOptions,
  AssignmentPath,
  DependencyKind,
  DependencyOwner,
  DeviceAnalysis,
  HostAnalysis,
  ResetProvider,
} from './analysis/types.js';
export { type CmdlineParam, kstrtobool, kstrtouint, normalizeParamName, splitCmdline } from './cmdline.js';
export { AddressMap } from './devices/address-map.js';
export { VirtualClock } from './devices/clock.js';
export { FwCfgModel, QEMU_VIRT_FW_CFG_FILES } from './devices/fw-cfg.js';
export { PL011_ID, Pl011Model } from './devices/pl011.js';
export { PL031_ID, Pl031Model, type Pl031Options } from './devices/pl031.js';
export { PL061_ID, Pl061Model, type Pl061Options } from './devices/pl061.js';
export { VIRTIO_MMIO_MAGIC, VIRTIO_MMIO_VENDOR, VirtioMmioSlotModel } from './devices/virtio-mmio.js';
export {
  type HostDriver,
  type HostDriverEnvironment,
  hostDrivers,
  simplePmBusDriver,
  virtioMmioDriver,
} from './drivers/host-drivers.js';
export {
  EMULATED_IOMMU_DRIVER_NAMES,
  type EmulatedIommuDriverName,
  emulatedIommuDriver,
  hostDmaPolicy,
  vfioMetaDrivers,
} from './emulated/emulated-drivers.js';
export {
  PL011_INT_TX,
  Pl011InterruptModel,
  type Pl011InterruptOptions,
} from './emulated/pl011-interrupts.js';
export { HostFs } from './fs/host-fs.js';
export { createHost, Host, TAINT_FLAGS_COUNT } from './host.js';
export { type HostDeviceIommu, HostIommu, type HostIommuOptions } from './iommu/host-iommu.js';
export { HostIrqLines } from './irq/host-irq.js';
export { HostScheduler } from './irq/host-scheduler.js';
export {
  HOST_KVM_IPA_LIMIT,
  type HostKvmInfo,
  type HostMsiModels,
  hostKvmInfo,
  hostMsiModels,
  type MsiVerdict,
  msiVerdict,
} from './kvm/host-kvm.js';
export {
  KvmDeviceFile,
  type KvmInstall,
  KvmSystemFile,
  KvmVcpuFile,
  KvmVmFile,
  kvmDeviceAttrArg,
  kvmDeviceAttrValue,
} from './kvm/kvm-files.js';
export { msiFrameViabilityOf, msiVerdictOf } from './kvm/msi-verdict.js';
export {
  checkHostOptions,
  HOST_OPTION_KEYS,
  type HostOptions,
  KERNEL_V6_12,
  ORACLE_RESET_MODULES,
  UPSTREAM_RESET_MODULES,
} from './options.js';
export { type BootParams, bootParams, type HostParams, parseDmaOverride } from './params.js';
export { HostEventFd } from './process/host-eventfd.js';
export { type HostMapping, HostProcess, type HostProcessOptions } from './process/host-process.js';
