import { KernelError } from '@vfiokit/core';
import { KVM_UAPI_CONSTANTS as K, KVM_MAX_IRQ_ROUTES, type Vm } from '@vfiokit/kvm';
import type { HostKvmInfo } from './host-kvm.js';

/** The highest `KVM_CAP_*` of Linux 6.12's <linux/kvm.h> (KVM_CAP_X86_GUEST_MODE). */
const LAST_CAP_612 = 238;

/**
 * `KVM_CHECK_EXTENSION` on `/dev/kvm` (`vm` undefined) or a VM fd: kvm_main.c
 * kvm_vm_ioctl_check_extension_generic, then arm64's kvm_vm_ioctl_check_extension (arm.c,
 * Linux 6.12) — for the interrupt and device capabilities this model has. A number no 6.12
 * capability has answers 0 (the `default:`); another 6.12 capability (ONE_REG, PSCI, …) is not
 * modelled and throws EINVAL saying so rather than guess.
 */
export function kvmCheckExtension(info: HostKvmInfo, vm: Vm | undefined, cap: number): number {
  switch (cap) {
    case K.KVM_CAP_IRQCHIP:
      return info.vgicVersions.length > 0 ? 1 : 0; // vgic_present
    case K.KVM_CAP_USER_MEMORY:
    case K.KVM_CAP_IRQFD:
    case K.KVM_CAP_SIGNAL_MSI:
    case K.KVM_CAP_IRQFD_RESAMPLE:
    case K.KVM_CAP_DEVICE_CTRL:
    case K.KVM_CAP_ARM_IRQ_LINE_LAYOUT_2:
    case K.KVM_CAP_ARM_SET_DEVICE_ADDR:
    case K.KVM_CAP_ARM_USER_IRQ:
      return 1;
    case K.KVM_CAP_IRQ_ROUTING:
      return KVM_MAX_IRQ_ROUTES;
    case K.KVM_CAP_NR_VCPUS:
      // min(num_online_cpus(), kvm_arm_default_max_vcpus())
      return Math.min(info.cpus, defaultMaxVcpus(info));
    case K.KVM_CAP_MAX_VCPUS:
    case K.KVM_CAP_MAX_VCPU_ID:
      return vm === undefined ? defaultMaxVcpus(info) : vm.maxVcpus;
    case K.KVM_CAP_MSI_DEVID:
      // msis_require_devid is set by a vITS, which this model never creates.
      if (vm === undefined) throw new KernelError('EINVAL', 'KVM_CAP_MSI_DEVID needs a VM');
      return 0;
  }
  if (!Number.isInteger(cap) || cap < 0 || cap > LAST_CAP_612) return 0;
  throw new KernelError('EINVAL', `KVM_CHECK_EXTENSION ${cap}: capability not modelled`);
}

// kvm_arm_default_max_vcpus: the host GIC's max_gic_vcpus.
function defaultMaxVcpus(info: HostKvmInfo): number {
  return info.vgicVersions.includes(3) ? 512 : 8;
}
