// Constants of arm64 <linux/kvm.h> (include/uapi/linux/kvm.h + arch/arm64/include/uapi/asm/kvm.h,
// Linux 6.12) that the model uses. c-header.test.ts compiles the real headers with gcc and
// checks every name and value listed here, so a typo or a changed value fails a test.

/** `_IOC_WRITE` / `_IOC_READ` and KVM's ioctl type `KVMIO`. */
export const IOC_WRITE = 1;
export const IOC_READ = 2;
export const KVMIO = 0xae;

/** `_IOC(dir, type, nr, size)` of include/uapi/asm-generic/ioctl.h (arm64 uses the generic layout). */
export function ioc(dir: number, type: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (type << 8) | nr) >>> 0;
}

/** Object-like #defines (and enum constants the header re-#defines) with their values. */
export const KVM_UAPI_CONSTANTS = {
  // arch/arm64/include/uapi/asm/kvm.h: KVM_IRQ_LINE's irq field
  KVM_ARM_IRQ_VCPU2_SHIFT: 28,
  KVM_ARM_IRQ_VCPU2_MASK: 0xf,
  KVM_ARM_IRQ_TYPE_SHIFT: 24,
  KVM_ARM_IRQ_TYPE_MASK: 0xf,
  KVM_ARM_IRQ_VCPU_SHIFT: 16,
  KVM_ARM_IRQ_VCPU_MASK: 0xff,
  KVM_ARM_IRQ_NUM_SHIFT: 0,
  KVM_ARM_IRQ_NUM_MASK: 0xffff,
  KVM_ARM_IRQ_TYPE_CPU: 0,
  KVM_ARM_IRQ_TYPE_SPI: 1,
  KVM_ARM_IRQ_TYPE_PPI: 2,
  KVM_ARM_IRQ_CPU_IRQ: 0,
  KVM_ARM_IRQ_CPU_FIQ: 1,
  KVM_ARM_IRQ_GIC_MAX: 127,
  KVM_NR_IRQCHIPS: 1,
  // vGIC device attributes
  KVM_VGIC_V2_ADDR_TYPE_DIST: 0,
  KVM_VGIC_V2_ADDR_TYPE_CPU: 1,
  KVM_VGIC_V2_DIST_SIZE: 0x1000,
  KVM_VGIC_V2_CPU_SIZE: 0x2000,
  KVM_VGIC_V3_ADDR_TYPE_DIST: 2,
  KVM_VGIC_V3_ADDR_TYPE_REDIST: 3,
  KVM_VGIC_ITS_ADDR_TYPE: 4,
  KVM_VGIC_V3_DIST_SIZE: 0x10000,
  KVM_VGIC_V3_REDIST_SIZE: 0x20000,
  KVM_VGIC_V3_ITS_SIZE: 0x20000,
  KVM_DEV_ARM_VGIC_GRP_ADDR: 0,
  KVM_DEV_ARM_VGIC_GRP_DIST_REGS: 1,
  KVM_DEV_ARM_VGIC_GRP_CPU_REGS: 2,
  KVM_DEV_ARM_VGIC_GRP_NR_IRQS: 3,
  KVM_DEV_ARM_VGIC_GRP_CTRL: 4,
  KVM_DEV_ARM_VGIC_CTRL_INIT: 0,
  // include/uapi/linux/kvm.h
  KVM_MEM_LOG_DIRTY_PAGES: 1,
  KVM_MEM_READONLY: 2,
  KVM_CAP_IRQCHIP: 0,
  KVM_CAP_USER_MEMORY: 3,
  KVM_CAP_NR_VCPUS: 9,
  KVM_CAP_IRQ_ROUTING: 25,
  KVM_CAP_IRQFD: 32,
  KVM_CAP_MAX_VCPUS: 66,
  KVM_CAP_SIGNAL_MSI: 77,
  KVM_CAP_IRQFD_RESAMPLE: 82,
  KVM_CAP_ARM_SET_DEVICE_ADDR: 88,
  KVM_CAP_DEVICE_CTRL: 89,
  KVM_CAP_MAX_VCPU_ID: 128,
  KVM_CAP_MSI_DEVID: 131,
  KVM_CAP_ARM_USER_IRQ: 144,
  KVM_CAP_ARM_IRQ_LINE_LAYOUT_2: 174,
  KVM_IRQ_ROUTING_IRQCHIP: 1,
  KVM_IRQ_ROUTING_MSI: 2,
  KVM_IRQ_ROUTING_S390_ADAPTER: 3,
  KVM_IRQ_ROUTING_HV_SINT: 4,
  KVM_IRQ_ROUTING_XEN_EVTCHN: 5,
  KVM_IRQFD_FLAG_DEASSIGN: 1,
  KVM_IRQFD_FLAG_RESAMPLE: 2,
  KVM_MSI_VALID_DEVID: 1,
  KVM_CREATE_DEVICE_TEST: 1,
  KVM_DEV_VFIO_FILE: 1,
  KVM_DEV_VFIO_FILE_ADD: 1,
  KVM_DEV_VFIO_FILE_DEL: 2,
  KVM_DEV_TYPE_VFIO: 4,
  KVM_DEV_TYPE_ARM_VGIC_V2: 5,
  KVM_DEV_TYPE_ARM_VGIC_V3: 7,
  KVM_DEV_TYPE_ARM_VGIC_ITS: 8,
  KVM_API_VERSION: 12,
  // ioctl numbers: _IO(KVMIO, nr) of /dev/kvm and the VM fd
  KVM_GET_API_VERSION: 0xae00,
  KVM_CREATE_VM: 0xae01,
  KVM_CHECK_EXTENSION: 0xae03,
  KVM_CREATE_VCPU: 0xae41,
  // ioctl numbers: _IOW/_IOWR(KVMIO, nr, struct) (uapi.test.ts recomputes them with ioc())
  KVM_SET_USER_MEMORY_REGION: 0x4020ae46,
  KVM_IRQ_LINE: 0x4008ae61,
  KVM_SET_GSI_ROUTING: 0x4008ae6a,
  KVM_IRQFD: 0x4020ae76,
  KVM_SIGNAL_MSI: 0x4020aea5,
  KVM_CREATE_DEVICE: 0xc00caee0,
  KVM_SET_DEVICE_ATTR: 0x4018aee1,
  KVM_GET_DEVICE_ATTR: 0x4018aee2,
  KVM_HAS_DEVICE_ATTR: 0x4018aee3,
} as const;

export type KvmUapiConstant = keyof typeof KVM_UAPI_CONSTANTS;

/**
 * NOT IN LINUX — a vfiokit opt-in extension: the routing entry type proposed in seed 003
 * (kvmarm list, 2014) for PPIs with a target vCPU (`KVM_CAP_IRQ_ROUTING_PPI`), with the value
 * the proposal gave it. Linux never merged it: upstream 3 is `KVM_IRQ_ROUTING_S390_ADAPTER`,
 * which arm64's kvm_set_routing_entry rejects with EINVAL. A VM accepts it only when created
 * with `{ ppiRouting: true }`.
 */
export const KVM_IRQ_ROUTING_IRQCHIP_PPI = 3;

/** `VGIC_NR_SGIS`, `VGIC_NR_PRIVATE_IRQS`, … of include/kvm/arm_vgic.h (kernel-internal). */
export const VGIC_NR_SGIS = 16;
export const VGIC_NR_PRIVATE_IRQS = 32;
export const VGIC_MAX_SPI = 1019;
export const VGIC_MAX_RESERVED = 1023;
export const VGIC_NR_IRQS_LEGACY = 256;
export const VGIC_V2_MAX_CPUS = 8;
export const VGIC_V3_MAX_CPUS = 512;
/** `KVM_IRQCHIP_NUM_PINS` (include/kvm/arm_vgic.h): 1020 − 32. */
export const KVM_IRQCHIP_NUM_PINS = 988;
/** `KVM_MAX_IRQ_ROUTES` (include/linux/kvm_host.h). */
export const KVM_MAX_IRQ_ROUTES = 4096;
/** The INTID a GIC CPU interface returns when nothing can be acknowledged. */
export const GIC_SPURIOUS_INTID = 1023;
