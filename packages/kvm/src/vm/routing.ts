import { KernelError } from '@vfiokit/core';
import {
  KVM_UAPI_CONSTANTS as K,
  KVM_IRQ_ROUTING_IRQCHIP_PPI,
  KVM_IRQCHIP_NUM_PINS,
  KVM_MAX_IRQ_ROUTES,
} from '../uapi/constants.js';

/** An IRQCHIP route: GSI → vGIC pin (SPI INTID = pin + 32). */
export interface IrqchipRoute {
  readonly gsi: number;
  readonly type: typeof K.KVM_IRQ_ROUTING_IRQCHIP;
  readonly flags?: number;
  readonly irqchip: number;
  readonly pin: number;
}

/** An MSI route: translated by the VM's vITS (`KVM_MSI_VALID_DEVID` in flags gives `devid`). */
export interface MsiRoute {
  readonly gsi: number;
  readonly type: typeof K.KVM_IRQ_ROUTING_MSI;
  readonly flags?: number;
  readonly addressLo: number;
  readonly addressHi: number;
  readonly data: number;
  readonly devid?: number;
}

/**
 * NOT IN LINUX — vfiokit opt-in extension (seed 003's `KVM_IRQ_ROUTING_IRQCHIP_PPI`): GSI →
 * PPI `pin` (INTID pin + 16, pin 0..15) of vCPU `vcpu`. Accepted only by a VM created with
 * `{ ppiRouting: true }`; upstream type 3 is `KVM_IRQ_ROUTING_S390_ADAPTER`, EINVAL on arm64.
 */
export interface IrqchipPpiRoute {
  readonly gsi: number;
  readonly type: typeof KVM_IRQ_ROUTING_IRQCHIP_PPI;
  readonly flags?: number;
  readonly irqchip: number;
  readonly vcpu: number;
  readonly pin: number;
}

/** Any other type number: kept so the kernel's EINVAL can be reproduced. */
export interface OtherRoute {
  readonly gsi: number;
  readonly type: number;
  readonly flags?: number;
}

export type RoutingEntry = IrqchipRoute | MsiRoute | IrqchipPpiRoute | OtherRoute;
/** A validated entry as the kernel keeps it (`struct kvm_kernel_irq_routing_entry`). */
export type KernelRoute = (IrqchipRoute | MsiRoute | IrqchipPpiRoute) & { readonly flags: number };

/** The routing table (`struct kvm_irq_routing_table`): GSI → entries, and chip pin → GSI. */
export interface RoutingTable {
  readonly map: ReadonlyMap<number, readonly KernelRoute[]>;
  /** `chip[irqchip][pin]`: the GSI a pin's ack notification is reported for (last entry wins). */
  readonly chip: ReadonlyMap<number, number>;
  /** PPI routes (extension): `vcpu:pin` → GSI. */
  readonly ppiChip: ReadonlyMap<string, number>;
}

export interface RoutingContext {
  readonly ppiRouting: boolean;
  readonly nrVcpus: number;
}

function isIrqchip(e: RoutingEntry): e is IrqchipRoute {
  return e.type === K.KVM_IRQ_ROUTING_IRQCHIP;
}
function isMsi(e: RoutingEntry): e is MsiRoute {
  return e.type === K.KVM_IRQ_ROUTING_MSI;
}

/**
 * Builds a table as virt/kvm/irqchip.c kvm_set_irq_routing + setup_routing_entry and
 * arch/arm64/kvm/vgic/vgic-irqfd.c kvm_set_routing_entry do, in their order:
 * any gsi ≥ KVM_MAX_IRQ_ROUTES → EINVAL; per entry: flags other than KVM_MSI_VALID_DEVID on an
 * MSI entry, or any flags on another type → EINVAL; a GSI already holding a non-IRQCHIP entry,
 * or an IRQCHIP entry for the same irqchip → EINVAL; IRQCHIP pin ≥ KVM_IRQCHIP_NUM_PINS or
 * irqchip ≥ KVM_NR_IRQCHIPS → EINVAL; any type but IRQCHIP and MSI → EINVAL. Note that the
 * pin is checked against 988, not the VM's SPI count: a route to a missing SPI is accepted
 * and fails (silently, for irqfd) at injection, in vgic_irqfd_set_irq.
 */
export function buildRoutingTable(entries: readonly RoutingEntry[], ctx: RoutingContext): RoutingTable {
  for (const e of entries)
    if (!Number.isInteger(e.gsi) || e.gsi < 0 || e.gsi >= KVM_MAX_IRQ_ROUTES)
      throw new KernelError('EINVAL', `gsi ${String(e.gsi)} ≥ KVM_MAX_IRQ_ROUTES`);
  const map = new Map<number, KernelRoute[]>();
  const chip = new Map<number, number>();
  const ppiChip = new Map<string, number>();
  for (const e of entries) {
    const flags = e.flags ?? 0;
    if (isMsi(e) ? (flags & ~K.KVM_MSI_VALID_DEVID) !== 0 : flags !== 0)
      throw new KernelError(
        'EINVAL',
        `gsi ${e.gsi}: routing entry flags 0x${flags.toString(16)} not allowed for type ${e.type}`,
      );
    const existing = map.get(e.gsi) ?? [];
    for (const ei of existing)
      if (
        ei.type !== K.KVM_IRQ_ROUTING_IRQCHIP ||
        !isIrqchip(e) ||
        e.irqchip === (ei as IrqchipRoute).irqchip
      )
        throw new KernelError('EINVAL', `gsi ${e.gsi} is already routed (setup_routing_entry)`);
    let route: KernelRoute;
    if (isIrqchip(e)) {
      if (!(e.pin >= 0 && e.pin < KVM_IRQCHIP_NUM_PINS) || !(e.irqchip >= 0 && e.irqchip < K.KVM_NR_IRQCHIPS))
        throw new KernelError('EINVAL', `gsi ${e.gsi}: irqchip ${e.irqchip} pin ${e.pin} out of range`);
      route = { ...e, flags };
      chip.set(e.pin, e.gsi);
    } else if (isMsi(e)) {
      route = { ...e, flags };
    } else if (e.type === KVM_IRQ_ROUTING_IRQCHIP_PPI && ctx.ppiRouting) {
      const p = e as IrqchipPpiRoute;
      if (!(p.pin >= 0 && p.pin < 16) || p.irqchip !== 0 || !(p.vcpu >= 0 && p.vcpu < ctx.nrVcpus))
        throw new KernelError(
          'EINVAL',
          `gsi ${e.gsi}: PPI route vcpu ${p.vcpu} pin ${p.pin} out of range (extension)`,
        );
      route = { ...p, flags };
      ppiChip.set(`${p.vcpu}:${p.pin}`, e.gsi);
    } else {
      throw new KernelError('EINVAL', `gsi ${e.gsi}: routing type ${e.type} not supported on arm64`);
    }
    existing.push(route);
    map.set(e.gsi, existing);
  }
  return { map, chip, ppiChip };
}

/** `kvm_vgic_setup_default_irq_routing`: GSI i → IRQCHIP 0 pin i for every SPI. */
export function defaultRouting(nrSpis: number): IrqchipRoute[] {
  const entries: IrqchipRoute[] = [];
  for (let i = 0; i < nrSpis; i++)
    entries.push({ gsi: i, type: K.KVM_IRQ_ROUTING_IRQCHIP, irqchip: 0, pin: i });
  return entries;
}
