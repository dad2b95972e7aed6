import { KernelError } from '@vfiokit/core';
import { KVM_UAPI_CONSTANTS as K } from './constants.js';

/** `irq_type` of KVM_IRQ_LINE on arm64. */
export type KvmIrqType = 'cpu' | 'spi' | 'ppi';

/** The fields of `kvm_irq_level.irq` on arm64 (Documentation/virt/kvm/api.rst, KVM_IRQ_LINE). */
export interface KvmIrqLineFields {
  /** bits[31:28] `vcpu2_index` (KVM_CAP_ARM_IRQ_LINE_LAYOUT_2). */
  readonly vcpu2Index: number;
  /** bits[27:24] `irq_type`, as the raw number (0 CPU, 1 SPI, 2 PPI; others are EINVAL at the ioctl). */
  readonly irqType: number;
  /** bits[23:16] `vcpu_index`. */
  readonly vcpuIndex: number;
  /** bits[15:0] `irq_id`: the GIC INTID for SPI/PPI, 0 IRQ / 1 FIQ for CPU. */
  readonly irqId: number;
  /** `vcpu_index + vcpu2_index * 256`, the vCPU id arm.c kvm_vm_ioctl_irq_line looks up. */
  readonly vcpu: number;
}

const TYPE_NUMBERS: Readonly<Record<KvmIrqType, number>> = {
  cpu: K.KVM_ARM_IRQ_TYPE_CPU,
  spi: K.KVM_ARM_IRQ_TYPE_SPI,
  ppi: K.KVM_ARM_IRQ_TYPE_PPI,
};

/**
 * Decodes `kvm_irq_level.irq` exactly as arch/arm64/kvm/arm.c kvm_vm_ioctl_irq_line does
 * (shift then mask; the vCPU id is vcpu_index + vcpu2_index × (KVM_ARM_IRQ_VCPU_MASK + 1)).
 */
export function decodeIrqLine(irq: number): KvmIrqLineFields {
  if (!Number.isInteger(irq) || irq < 0 || irq > 0xffff_ffff)
    throw new KernelError('EINVAL', `kvm_irq_level.irq ${String(irq)} is not a __u32`);
  const vcpu2Index = (irq >>> K.KVM_ARM_IRQ_VCPU2_SHIFT) & K.KVM_ARM_IRQ_VCPU2_MASK;
  const irqType = (irq >>> K.KVM_ARM_IRQ_TYPE_SHIFT) & K.KVM_ARM_IRQ_TYPE_MASK;
  const vcpuIndex = (irq >>> K.KVM_ARM_IRQ_VCPU_SHIFT) & K.KVM_ARM_IRQ_VCPU_MASK;
  const irqId = (irq >>> K.KVM_ARM_IRQ_NUM_SHIFT) & K.KVM_ARM_IRQ_NUM_MASK;
  return {
    vcpu2Index,
    irqType,
    vcpuIndex,
    irqId,
    vcpu: vcpuIndex + vcpu2Index * (K.KVM_ARM_IRQ_VCPU_MASK + 1),
  };
}

/** What {@link encodeIrqLine} takes: a type, the INTID (or 0/1 for CPU) and, for PPI/CPU, a vCPU id. */
export interface KvmIrqLineRequest {
  readonly type: KvmIrqType;
  readonly irqId: number;
  /** The vCPU id (0..4095: 8 bits of vcpu_index + 4 bits of vcpu2_index); ignored by the kernel for SPIs. */
  readonly vcpu?: number;
}

/** Encodes `kvm_irq_level.irq`; a field that does not fit its bits is `EINVAL`. */
export function encodeIrqLine(request: KvmIrqLineRequest): number {
  const type = TYPE_NUMBERS[request.type];
  if (type === undefined)
    throw new KernelError('EINVAL', `unknown KVM_IRQ_LINE type ${String(request.type)}`);
  const vcpu = request.vcpu ?? 0;
  const max = (K.KVM_ARM_IRQ_VCPU2_MASK + 1) * (K.KVM_ARM_IRQ_VCPU_MASK + 1) - 1;
  if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu > max)
    throw new KernelError('EINVAL', `vCPU ${String(vcpu)} does not fit vcpu2_index:vcpu_index (0..${max})`);
  if (!Number.isInteger(request.irqId) || request.irqId < 0 || request.irqId > K.KVM_ARM_IRQ_NUM_MASK)
    throw new KernelError('EINVAL', `irq_id ${String(request.irqId)} does not fit 16 bits`);
  return (
    (((vcpu >>> 8) << K.KVM_ARM_IRQ_VCPU2_SHIFT) |
      (type << K.KVM_ARM_IRQ_TYPE_SHIFT) |
      ((vcpu & K.KVM_ARM_IRQ_VCPU_MASK) << K.KVM_ARM_IRQ_VCPU_SHIFT) |
      (request.irqId << K.KVM_ARM_IRQ_NUM_SHIFT)) >>>
    0
  );
}
