import { KernelError } from '@vfiokit/core';
import type { RoutingEntry } from '../vm/routing.js';
import { KVM_UAPI_CONSTANTS as K, KVM_IRQ_ROUTING_IRQCHIP_PPI } from './constants.js';
import { decodeKvmStruct, encodeKvmStruct, KVM_UAPI_STRUCTS } from './struct.js';

const ENTRY = KVM_UAPI_STRUCTS.kvm_irq_routing_entry.size;
const HEADER = KVM_UAPI_STRUCTS.kvm_irq_routing.size;

/**
 * Encodes `struct kvm_irq_routing` with its flexible `entries[]` (the KVM_SET_GSI_ROUTING
 * argument). A PPI route (NOT IN LINUX) puts `vcpu` in the union's third word, after the
 * irqchip/pin pair's place, as seed 003 sketched (`{ irqchip, vcpu, pin }` reordered so that
 * irqchip and pin keep the IRQCHIP offsets).
 */
export function encodeGsiRouting(entries: readonly RoutingEntry[], flags = 0): Uint8Array {
  const bytes = new Uint8Array(HEADER + entries.length * ENTRY);
  bytes.set(encodeKvmStruct('kvm_irq_routing', { nr: entries.length, flags }));
  entries.forEach((e, i) => {
    const values: Record<string, number> = { gsi: e.gsi, type: e.type, flags: e.flags ?? 0 };
    if ('pin' in e) {
      values['u.irqchip.irqchip'] = e.irqchip;
      values['u.irqchip.pin'] = e.pin;
      if (e.type === KVM_IRQ_ROUTING_IRQCHIP_PPI && 'vcpu' in e) values['u.msi.data'] = e.vcpu;
    } else if ('addressLo' in e) {
      values['u.msi.address_lo'] = e.addressLo;
      values['u.msi.address_hi'] = e.addressHi;
      values['u.msi.data'] = e.data;
      values['u.msi.devid'] = e.devid ?? 0;
    }
    bytes.set(encodeKvmStruct('kvm_irq_routing_entry', values), HEADER + i * ENTRY);
  });
  return bytes;
}

/** Decodes a KVM_SET_GSI_ROUTING argument; fewer bytes than `nr` entries need is `EFAULT`. */
export function decodeGsiRouting(bytes: Uint8Array): { entries: RoutingEntry[]; flags: number } {
  const head = decodeKvmStruct('kvm_irq_routing', bytes);
  const nr = Number(head.nr);
  if (bytes.length < HEADER + nr * ENTRY)
    throw new KernelError('EFAULT', `kvm_irq_routing: ${nr} entries need ${HEADER + nr * ENTRY} bytes`);
  const entries: RoutingEntry[] = [];
  for (let i = 0; i < nr; i++) {
    const d = decodeKvmStruct('kvm_irq_routing_entry', bytes, HEADER + i * ENTRY);
    const gsi = Number(d.gsi);
    const type = Number(d.type);
    const flags = Number(d.flags);
    if (type === K.KVM_IRQ_ROUTING_IRQCHIP)
      entries.push({
        gsi,
        type,
        flags,
        irqchip: Number(d['u.irqchip.irqchip']),
        pin: Number(d['u.irqchip.pin']),
      });
    else if (type === K.KVM_IRQ_ROUTING_MSI)
      entries.push({
        gsi,
        type,
        flags,
        addressLo: Number(d['u.msi.address_lo']),
        addressHi: Number(d['u.msi.address_hi']),
        data: Number(d['u.msi.data']),
        devid: Number(d['u.msi.devid']),
      });
    else if (type === KVM_IRQ_ROUTING_IRQCHIP_PPI)
      // Type 3 is KVM_IRQ_ROUTING_S390_ADAPTER upstream; decoded as the opt-in PPI layout, which
      // a VM without { ppiRouting: true } rejects with EINVAL exactly as arm64 rejects type 3.
      entries.push({
        gsi,
        type,
        flags,
        irqchip: Number(d['u.irqchip.irqchip']),
        pin: Number(d['u.irqchip.pin']),
        vcpu: Number(d['u.msi.data']),
      });
    else entries.push({ gsi, type, flags });
  }
  return { entries, flags: Number(head.flags) };
}
