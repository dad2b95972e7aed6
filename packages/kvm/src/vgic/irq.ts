/** `enum vgic_irq_config` (include/kvm/arm_vgic.h). */
export type VgicIrqConfig = 'edge' | 'level';

/**
 * One interrupt's state, as `struct vgic_irq` keeps it (include/kvm/arm_vgic.h): the pending
 * latch (edge, or set by GICD_ISPENDR) and the input line level (level) are separate, so a
 * level interrupt is pending while its line is high (`irq_is_pending`).
 */
export interface VgicIrq {
  readonly intid: number;
  /** The vCPU a private IRQ belongs to, or the target vCPU of an SPI. */
  vcpu: number;
  enabled: boolean;
  pendingLatch: boolean;
  lineLevel: boolean;
  active: boolean;
  config: VgicIrqConfig;
  /** 8-bit priority, of which KVM keeps VGIC_PRI_BITS = 5 (vgic_mmio_write_priority). */
  priority: number;
  /** GICv2 SGIs: the CPUs that sent a still-pending SGI (bit n = vCPU n). */
  sgiSources: number;
  /** The source CPU of an active GICv2 SGI (`active_source`). */
  activeSource: number;
}

/** `irq_is_pending()` of arch/arm64/kvm/vgic/vgic.h. */
export function irqIsPending(irq: VgicIrq): boolean {
  return irq.config === 'edge' ? irq.pendingLatch : irq.pendingLatch || irq.lineLevel;
}

export function newIrq(intid: number, vcpu: number, config: VgicIrqConfig, enabled: boolean): VgicIrq {
  return {
    intid,
    vcpu,
    enabled,
    pendingLatch: false,
    lineLevel: false,
    active: false,
    config,
    priority: 0,
    sgiSources: 0,
    activeSource: 0,
  };
}
