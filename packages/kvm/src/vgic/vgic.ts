import { KernelError } from '@vfiokit/core';
import { GIC_SPURIOUS_INTID, VGIC_NR_PRIVATE_IRQS, VGIC_NR_SGIS } from '../uapi/constants.js';
import { irqIsPending, newIrq, type VgicIrq, type VgicIrqConfig } from './irq.js';

/** GIC architecture version of the emulated distributor. */
export type GicVersion = 2 | 3;

/** `VGIC_PRI_BITS`: KVM keeps the top 5 bits of a priority (vgic-mmio.c vgic_mmio_write_priority). */
export const VGIC_PRI_MASK = 0xf8;
/** The running priority of a CPU interface with nothing active ("idle priority"). */
export const IDLE_PRIORITY = 0x100;

/** Called when the guest deactivates a level-configured interrupt (EOI maintenance interrupt). */
export type DeactivationListener = (intid: number, vcpu: number) => void;

/**
 * The state of a vGIC (arch/arm64/kvm/vgic/): SGIs and PPIs per vCPU, SPIs shared, each with
 * enable/pending/active, edge or level, priority and target. The guest side (distributor
 * register writes and the per-vCPU CPU interface) is {@link Vgic.cpu}; the KVM side is
 * {@link Vgic.injectIrq} (kvm_vgic_inject_irq).
 *
 * Simplifications, each stated: one interrupt group (group enables are not modelled), binary
 * point 0 (a priority preempts iff it is numerically lower than the running priority), SPIs
 * target one vCPU (GICD_ITARGETSR/IROUTER reduced to an index), no LPIs.
 */
export class Vgic {
  readonly version: GicVersion;
  readonly nrSpis: number;
  readonly nrVcpus: number;
  private readonly privates: VgicIrq[][] = [];
  private readonly spis: VgicIrq[] = [];
  private readonly interfaces: VgicCpuInterface[] = [];
  // IRQs that are pending, not active and enabled, per vCPU: what IAR chooses from.
  private readonly candidates: Set<VgicIrq>[] = [];
  private readonly deactivationListeners: DeactivationListener[] = [];

  constructor(version: GicVersion, nrVcpus: number, nrSpis: number) {
    this.version = version;
    this.nrVcpus = nrVcpus;
    this.nrSpis = nrSpis;
    for (let v = 0; v < nrVcpus; v++) {
      // vgic_allocate_private_irqs_locked: SGIs enabled and edge, PPIs level.
      const irqs: VgicIrq[] = [];
      for (let i = 0; i < VGIC_NR_PRIVATE_IRQS; i++)
        irqs.push(newIrq(i, v, i < VGIC_NR_SGIS ? 'edge' : 'level', i < VGIC_NR_SGIS));
      this.privates.push(irqs);
      this.candidates.push(new Set());
      this.interfaces.push(new VgicCpuInterface(this, v));
    }
    // kvm_vgic_dist_init: SPIs target vCPU 0, config 0 = VGIC_CONFIG_EDGE, disabled.
    for (let i = 0; i < nrSpis; i++) this.spis.push(newIrq(i + VGIC_NR_PRIVATE_IRQS, 0, 'edge', false));
  }

  /** The guest's CPU interface of vCPU `index`. */
  cpu(index: number): VgicCpuInterface {
    const c = this.interfaces[index];
    if (c === undefined) throw new KernelError('EINVAL', `vCPU ${index} does not exist`);
    return c;
  }

  /** Subscribes to EOI-maintenance notifications (KVM sets LR EOI for level IRQs only). */
  onDeactivate(listener: DeactivationListener): void {
    this.deactivationListeners.push(listener);
  }

  /** `vgic_get_irq`: the IRQ, or undefined for an INTID the VM does not have. */
  irq(intid: number, vcpu = 0): VgicIrq | undefined {
    if (!Number.isInteger(intid) || intid < 0) return undefined;
    if (intid < VGIC_NR_PRIVATE_IRQS) return this.privates[vcpu]?.[intid];
    return this.spis[intid - VGIC_NR_PRIVATE_IRQS];
  }

  /** A snapshot of an IRQ's state (for tests and debuggers). */
  state(intid: number, vcpu = 0): Readonly<VgicIrq> {
    return { ...this.get(intid, vcpu) };
  }

  /** Whether `intid` is pending (latched or line high). */
  isPending(intid: number, vcpu = 0): boolean {
    return irqIsPending(this.get(intid, vcpu));
  }

  /**
   * `kvm_vgic_inject_irq(kvm, vcpu, intid, level, NULL)` after the VM checked init: a private
   * IRQ needs a vCPU (`EINVAL` without), an INTID the VM lacks is `EINVAL`; then
   * vgic_validate_injection: a level IRQ follows the line (a repeated level is ignored), an edge
   * IRQ latches pending on level 1 and ignores 0.
   */
  injectIrq(intid: number, level: boolean, vcpu?: number): void {
    if (vcpu === undefined && intid < VGIC_NR_PRIVATE_IRQS)
      throw new KernelError('EINVAL', `private INTID ${intid} injected without a vCPU`);
    const irq = this.irq(intid, vcpu ?? 0);
    if (irq === undefined) throw new KernelError('EINVAL', `INTID ${intid} does not exist in this vGIC`);
    if (irq.config === 'level') {
      if (irq.lineLevel === level) return;
      irq.lineLevel = level;
    } else {
      if (!level) return;
      irq.pendingLatch = true;
    }
    this.refresh(irq);
  }

  // --- distributor, as the guest programs it (GICD_* / GICR_* writes) -----------------------

  /** GICD_ISENABLER / GICD_ICENABLER (GICR_ for private IRQs of `vcpu`). */
  setEnabled(intid: number, enabled: boolean, vcpu = 0): void {
    const irq = this.get(intid, vcpu);
    irq.enabled = enabled;
    this.refresh(irq);
  }

  /** GICD_ICFGR: SPIs only; writes for SGIs and PPIs are ignored as in vgic_mmio_write_config. */
  setConfig(intid: number, config: VgicIrqConfig, vcpu = 0): void {
    const irq = this.get(intid, vcpu);
    if (intid < VGIC_NR_PRIVATE_IRQS) return;
    irq.config = config;
    this.refresh(irq);
  }

  /** GICD_IPRIORITYR: KVM keeps 5 bits. */
  setPriority(intid: number, priority: number, vcpu = 0): void {
    if (!Number.isInteger(priority) || priority < 0 || priority > 0xff)
      throw new KernelError('EINVAL', `priority ${String(priority)} is not a byte`);
    const irq = this.get(intid, vcpu);
    irq.priority = priority & VGIC_PRI_MASK;
    this.refresh(irq);
  }

  /** GICD_ISPENDR / GICD_ICPENDR: set or clear the pending latch (a high level line stays pending). */
  setPendingLatch(intid: number, pending: boolean, vcpu = 0): void {
    const irq = this.get(intid, vcpu);
    irq.pendingLatch = pending;
    if (!pending) irq.sgiSources = 0;
    this.refresh(irq);
  }

  /** GICD_ITARGETSR / GICD_IROUTER, reduced to one target vCPU. */
  setTarget(intid: number, vcpu: number): void {
    if (intid < VGIC_NR_PRIVATE_IRQS) throw new KernelError('EINVAL', `INTID ${intid} is private`);
    if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= this.nrVcpus)
      throw new KernelError('EINVAL', `vCPU ${String(vcpu)} does not exist`);
    const irq = this.get(intid);
    this.candidates[irq.vcpu]?.delete(irq);
    irq.vcpu = vcpu;
    this.refresh(irq);
  }

  /** GICD_SGIR (v2) / ICC_SGI1R_EL1 (v3): SGI `intid` from `from` to each vCPU in `targets`. */
  sendSgi(from: number, intid: number, targets: readonly number[]): void {
    if (!Number.isInteger(intid) || intid < 0 || intid >= VGIC_NR_SGIS)
      throw new KernelError('EINVAL', `INTID ${String(intid)} is not an SGI`);
    for (const t of targets) {
      const irq = this.get(intid, t);
      irq.pendingLatch = true;
      if (this.version === 2) irq.sgiSources |= 1 << from;
      this.refresh(irq);
    }
  }

  // --- internals shared with the CPU interface -------------------------------------------

  /** @internal The highest-priority candidate of `vcpu` above `limit`, or undefined. */
  best(vcpu: number, limit: number): VgicIrq | undefined {
    let best: VgicIrq | undefined;
    for (const irq of this.candidates[vcpu] ?? []) {
      if (irq.priority >= limit) continue;
      if (
        best === undefined ||
        irq.priority < best.priority ||
        (irq.priority === best.priority && irq.intid < best.intid)
      )
        best = irq;
    }
    return best;
  }

  /** @internal Re-files `irq` after a state change. */
  refresh(irq: VgicIrq): void {
    const set = this.candidates[irq.vcpu];
    if (set === undefined) return;
    if (irq.enabled && !irq.active && irqIsPending(irq)) set.add(irq);
    else set.delete(irq);
  }

  /** @internal Deactivates `irq` and notifies listeners when it is a level interrupt. */
  deactivate(irq: VgicIrq, vcpu: number): void {
    irq.active = false;
    this.refresh(irq);
    // vgic_v{2,3}_populate_lr sets the LR EOI bit for level IRQs only; fold_lr_state then
    // calls kvm_notify_acked_irq for SPIs (the VM filters).
    if (irq.config === 'level') for (const l of this.deactivationListeners) l(irq.intid, vcpu);
  }

  private get(intid: number, vcpu = 0): VgicIrq {
    if (intid < VGIC_NR_PRIVATE_IRQS && (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= this.nrVcpus))
      throw new KernelError('EINVAL', `vCPU ${String(vcpu)} does not exist`);
    const irq = this.irq(intid, vcpu);
    if (irq === undefined)
      throw new KernelError('EINVAL', `INTID ${String(intid)} does not exist in this vGIC`);
    return irq;
  }
}

/**
 * A guest vCPU's GIC CPU interface (GICC_* for v2, ICC_*_EL1 for v3): priority mask, EOI mode,
 * acknowledge (IAR), end of interrupt (EOIR) and deactivate (DIR).
 */
export class VgicCpuInterface {
  readonly index: number;
  /** GICC_PMR / ICC_PMR_EL1: interrupts of priority ≥ PMR are masked. Resets to 0 (all masked). */
  private pmrValue = 0;
  /** GICC_CTLR.EOImode / ICC_CTLR_EL1.EOImode. */
  eoiMode: 0 | 1 = 0;
  // Active priorities (GICC_APR): the priorities of acknowledged, not yet dropped interrupts.
  private readonly activePriorities: Array<{ intid: number; priority: number }> = [];
  private readonly vgic: Vgic;

  constructor(vgic: Vgic, index: number) {
    this.vgic = vgic;
    this.index = index;
  }

  get pmr(): number {
    return this.pmrValue;
  }

  /** Writes PMR (KVM keeps VGIC_PRI_BITS). */
  setPmr(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xff)
      throw new KernelError('EINVAL', `PMR ${String(value)} is not a byte`);
    this.pmrValue = value & VGIC_PRI_MASK;
  }

  /** The running priority (GICC_RPR): the highest active priority not yet dropped, or idle. */
  get runningPriority(): number {
    let p = IDLE_PRIORITY;
    for (const a of this.activePriorities) p = Math.min(p, a.priority);
    return p;
  }

  /** Whether the IRQ line to this vCPU is asserted (an IAR read would not be spurious). */
  get irqPending(): boolean {
    return this.vgic.best(this.index, Math.min(this.pmrValue, this.runningPriority)) !== undefined;
  }

  /**
   * GICC_IAR / ICC_IAR1_EL1: the highest-priority pending, enabled, inactive interrupt whose
   * priority beats both PMR and the running priority becomes active and is returned (for a
   * GICv2 SGI with the source CPU in bits[12:10]); otherwise 1023 (spurious).
   */
  ack(): number {
    const irq = this.vgic.best(this.index, Math.min(this.pmrValue, this.runningPriority));
    if (irq === undefined) return GIC_SPURIOUS_INTID;
    let value = irq.intid;
    if (this.vgic.version === 2 && irq.intid < VGIC_NR_SGIS && irq.sgiSources !== 0) {
      const source = 31 - Math.clz32(irq.sgiSources & -irq.sgiSources);
      irq.sgiSources &= ~(1 << source);
      irq.activeSource = source;
      irq.pendingLatch = irq.sgiSources !== 0;
      value |= source << 10;
    } else {
      irq.pendingLatch = false;
    }
    irq.active = true;
    this.vgic.refresh(irq);
    this.activePriorities.push({ intid: irq.intid, priority: irq.priority });
    return value;
  }

  /**
   * GICC_EOIR / ICC_EOIR1_EL1 with the value IAR returned: drops the running priority of that
   * interrupt and, in EOImode 0, deactivates it. An EOI of an interrupt this CPU has not
   * acknowledged is a guest programming error (UNPREDICTABLE in the GIC architecture): EINVAL.
   */
  eoi(value: number): void {
    const intid = value & 0x3ff;
    const at = this.activePriorities.findIndex((a) => a.intid === intid);
    if (at < 0)
      throw new KernelError('EINVAL', `EOI of INTID ${intid}, which vCPU ${this.index} has not acknowledged`);
    this.activePriorities.splice(at, 1);
    if (this.eoiMode === 0) this.deactivateIntid(intid);
  }

  /**
   * GICC_DIR / ICC_DIR_EL1: deactivates an interrupt whose priority was dropped (EOImode 1
   * only; with EOImode 0 the architecture makes the write UNPREDICTABLE: EINVAL here).
   */
  dir(value: number): void {
    const intid = value & 0x3ff;
    if (this.eoiMode === 0) throw new KernelError('EINVAL', 'DIR written with EOImode 0 (UNPREDICTABLE)');
    this.deactivateIntid(intid);
  }

  private deactivateIntid(intid: number): void {
    const irq = this.vgic.irq(intid, this.index);
    if (irq === undefined || !irq.active)
      throw new KernelError('EINVAL', `deactivation of INTID ${intid}, which is not active`);
    this.vgic.deactivate(irq, this.index);
  }
}
