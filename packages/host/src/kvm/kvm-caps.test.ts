import { KVM_UAPI_CONSTANTS as K, Vm } from '@vfiokit/kvm';
import { describe, expect, it } from 'vitest';
import { errnoOf } from '../test-support.js';
import type { HostKvmInfo } from './host-kvm.js';
import { kvmCheckExtension } from './kvm-caps.js';

// arm.c kvm_vm_ioctl_check_extension (6.12); the GICv3 answers are pinned by the oracle's
// kvm-check-extension, these are the branches a GICv3 QEMU guest cannot show.
const gicv2Host: HostKvmInfo = { available: true, gic: 2, vgicVersions: [2], ipaLimit: 44, cpus: 6 };
const gicv3Host: HostKvmInfo = { available: true, gic: 3, vgicVersions: [3], ipaLimit: 44, cpus: 16 };

describe('KVM_CHECK_EXTENSION', () => {
  it('max_vcpus follows the host GIC (8 for GICv2, 512 for GICv3) and a GICv2 vGIC', () => {
    expect(kvmCheckExtension(gicv2Host, undefined, K.KVM_CAP_MAX_VCPUS)).toBe(8);
    expect(kvmCheckExtension(gicv3Host, undefined, K.KVM_CAP_MAX_VCPU_ID)).toBe(512);
    const vm = new Vm({ vcpus: 0, vgicVersions: [2, 3] });
    vm.createDevice(K.KVM_DEV_TYPE_ARM_VGIC_V2);
    expect(kvmCheckExtension(gicv3Host, vm, K.KVM_CAP_MAX_VCPUS)).toBe(8);
  });

  it('NR_VCPUS is min(online CPUs, max); IRQCHIP is whether any vGIC can be emulated', () => {
    expect(kvmCheckExtension(gicv2Host, undefined, K.KVM_CAP_NR_VCPUS)).toBe(6);
    expect(kvmCheckExtension(gicv3Host, undefined, K.KVM_CAP_NR_VCPUS)).toBe(16);
    expect(kvmCheckExtension({ ...gicv3Host, vgicVersions: [] }, undefined, K.KVM_CAP_IRQCHIP)).toBe(0);
  });

  it('a number no 6.12 capability has is 0; a 6.12 capability outside the model is an explicit EINVAL', () => {
    expect(kvmCheckExtension(gicv3Host, undefined, 239)).toBe(0);
    expect(errnoOf(() => kvmCheckExtension(gicv3Host, undefined, 76 /* KVM_CAP_ONE_REG */))).toBe('EINVAL');
    expect(errnoOf(() => kvmCheckExtension(gicv3Host, undefined, K.KVM_CAP_MSI_DEVID))).toBe('EINVAL');
  });
});
