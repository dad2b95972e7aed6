export {
  compareLevelIrqStrategies,
  LEVEL_IRQ_STRATEGIES,
  type LevelIrqReport,
  type LevelIrqScenario,
  type LevelIrqStrategy,
  runLevelIrqStrategy,
} from './loop/strategies.js';
export {
  type Gicv2mDelivery,
  Gicv2mFrame,
  type Gicv2mFrameOptions,
  V2M_MAX_SPI,
  V2M_MIN_SPI,
  V2M_MSI_IIDR,
  V2M_MSI_SETSPI_NS,
  V2M_MSI_TYPER,
} from './msi/gicv2m.js';
export {
  checkMsiFrameViability,
  controllerIsolatesMsi,
  type MsiController,
  type MsiDeviceBinding,
  type MsiFrameVerdict,
  type MsiIsolatedOptions,
  type MsiIsolationAnswers,
  type MsiMaster,
  MsiTopology,
  type MsiTopologyOptions,
  msiFrameViability,
  msiIsolated,
  msiIsolation,
} from './msi/isolation.js';
export {
  decodeItsCommand,
  encodeItsCommand,
  GITS_CMD,
  GITS_TRANSLATER,
  GicIts,
  type GicItsOptions,
  type ItsCommand,
  type ItsDelivery,
  type ItsError,
  LPI_BASE,
} from './msi/its.js';
export {
  iommuDmaPrepareMsi,
  MSI_IOVA_BASE,
  MSI_IOVA_LENGTH,
  MsiCookie,
  type MsiCookieOptions,
} from './msi/msi-cookie.js';
export {
  GIC_SPURIOUS_INTID,
  ioc,
  KVM_IRQ_ROUTING_IRQCHIP_PPI,
  KVM_IRQCHIP_NUM_PINS,
  KVM_MAX_IRQ_ROUTES,
  KVM_UAPI_CONSTANTS,
  type KvmUapiConstant,
  VGIC_MAX_SPI,
  VGIC_NR_PRIVATE_IRQS,
  VGIC_NR_SGIS,
} from './uapi/constants.js';
export {
  decodeIrqLine,
  encodeIrqLine,
  type KvmIrqLineFields,
  type KvmIrqLineRequest,
  type KvmIrqType,
} from './uapi/irq-line.js';
export { decodeGsiRouting, encodeGsiRouting } from './uapi/routing-codec.js';
export {
  decodeKvmStruct,
  encodeKvmStruct,
  KVM_UAPI_STRUCTS,
  type KvmFieldSpec,
  type KvmStructName,
  type KvmStructSpec,
  type KvmStructValues,
} from './uapi/struct.js';
export type { VgicIrq, VgicIrqConfig } from './vgic/irq.js';
export {
  type DeactivationListener,
  type GicVersion,
  IDLE_PRIORITY,
  VGIC_PRI_MASK,
  Vgic,
  VgicCpuInterface,
} from './vgic/vgic.js';
export type { IrqfdArgs, KvmStats } from './vm/irqfd.js';
export { type KvmVfioAttr, KvmVfioDevice, type KvmVfioFile } from './vm/kvm-vfio.js';
export {
  KVM_USER_MEM_SLOTS,
  type Memslot,
  Memslots,
  type MemslotsOptions,
  type UserspaceMemoryRegion,
} from './vm/memslots.js';
export {
  buildRoutingTable,
  defaultRouting,
  type IrqchipPpiRoute,
  type IrqchipRoute,
  type KernelRoute,
  type MsiRoute,
  type OtherRoute,
  type RoutingEntry,
  type RoutingTable,
} from './vm/routing.js';
export { type DeviceAttr, KVM_MAX_VCPUS, type KvmDevice, Vm, type VmOptions } from './vm/vm.js';
