import { KernelError } from '@vfiokit/core';

/** One scalar member of a UAPI struct: byte offset and size (little-endian, as on arm64). */
export interface KvmFieldSpec {
  readonly offset: number;
  readonly size: 1 | 4 | 8;
}

/** A UAPI struct: its `sizeof` and its scalar members by C path (`u.msi.devid`). */
export interface KvmStructSpec {
  readonly size: number;
  readonly fields: Readonly<Record<string, KvmFieldSpec>>;
  /** Array members (`pad[16]`, the flexible `entries[]`): offset and element size. */
  readonly arrays: Readonly<Record<string, { readonly offset: number; readonly elementSize: number }>>;
}

const u32 = (offset: number): KvmFieldSpec => ({ offset, size: 4 });
const u64 = (offset: number): KvmFieldSpec => ({ offset, size: 8 });

/** The struct layouts of include/uapi/linux/kvm.h (Linux 6.12, arm64) the model encodes. */
export type KvmStructName =
  | 'kvm_irq_level'
  | 'kvm_irqfd'
  | 'kvm_irq_routing_irqchip'
  | 'kvm_irq_routing_msi'
  | 'kvm_irq_routing_entry'
  | 'kvm_irq_routing'
  | 'kvm_msi'
  | 'kvm_device_attr'
  | 'kvm_create_device'
  | 'kvm_userspace_memory_region';

export const KVM_UAPI_STRUCTS: Readonly<Record<KvmStructName, KvmStructSpec>> = {
  kvm_irq_level: {
    size: 8,
    // `union { __u32 irq; __s32 status; }`: status is the same word, read back as signed.
    fields: { irq: u32(0), status: u32(0), level: u32(4) },
    arrays: {},
  },
  kvm_irqfd: {
    size: 32,
    fields: { fd: u32(0), gsi: u32(4), flags: u32(8), resamplefd: u32(12) },
    arrays: { pad: { offset: 16, elementSize: 1 } },
  },
  kvm_irq_routing_irqchip: { size: 8, fields: { irqchip: u32(0), pin: u32(4) }, arrays: {} },
  kvm_irq_routing_msi: {
    size: 16,
    fields: { address_lo: u32(0), address_hi: u32(4), data: u32(8), pad: u32(12), devid: u32(12) },
    arrays: {},
  },
  kvm_irq_routing_entry: {
    size: 48,
    fields: {
      gsi: u32(0),
      type: u32(4),
      flags: u32(8),
      pad: u32(12),
      'u.irqchip.irqchip': u32(16),
      'u.irqchip.pin': u32(20),
      'u.msi.address_lo': u32(16),
      'u.msi.address_hi': u32(20),
      'u.msi.data': u32(24),
      'u.msi.pad': u32(28),
      'u.msi.devid': u32(28),
    },
    arrays: { 'u.pad': { offset: 16, elementSize: 4 } },
  },
  kvm_irq_routing: {
    size: 8,
    fields: { nr: u32(0), flags: u32(4) },
    arrays: { entries: { offset: 8, elementSize: 48 } },
  },
  kvm_msi: {
    size: 32,
    fields: { address_lo: u32(0), address_hi: u32(4), data: u32(8), flags: u32(12), devid: u32(16) },
    arrays: { pad: { offset: 20, elementSize: 1 } },
  },
  kvm_device_attr: {
    size: 24,
    fields: { flags: u32(0), group: u32(4), attr: u64(8), addr: u64(16) },
    arrays: {},
  },
  kvm_create_device: { size: 12, fields: { type: u32(0), fd: u32(4), flags: u32(8) }, arrays: {} },
  kvm_userspace_memory_region: {
    size: 32,
    fields: {
      slot: u32(0),
      flags: u32(4),
      guest_phys_addr: u64(8),
      memory_size: u64(16),
      userspace_addr: u64(24),
    },
    arrays: {},
  },
};
/** Member values of a struct: u32 members as numbers, u64 members as bigints. */
export type KvmStructValues = Readonly<Record<string, number | bigint>>;

/**
 * Encodes `values` as the little-endian bytes of `struct name` (members not given are zero;
 * union members share bytes, the last one written wins). An unknown member or a value that
 * does not fit its member is `EINVAL`, as a malformed ioctl argument would be.
 */
export function encodeKvmStruct(name: KvmStructName, values: KvmStructValues, extra = 0): Uint8Array {
  const spec: KvmStructSpec = KVM_UAPI_STRUCTS[name];
  const bytes = new Uint8Array(spec.size + extra);
  const view = new DataView(bytes.buffer);
  for (const [member, value] of Object.entries(values)) {
    const field = spec.fields[member];
    if (field === undefined) throw new KernelError('EINVAL', `struct ${name} has no member ${member}`);
    if (field.size === 8) {
      const v = BigInt(value);
      if (v < 0n || v > 0xffff_ffff_ffff_ffffn)
        throw new KernelError('EINVAL', `struct ${name}.${member} = ${v} is not a __u64`);
      view.setBigUint64(field.offset, v, true);
    } else {
      const v = Number(value);
      if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff)
        throw new KernelError('EINVAL', `struct ${name}.${member} = ${String(value)} is not a __u32`);
      view.setUint32(field.offset, v, true);
    }
  }
  return bytes;
}

/** Decodes every scalar member of `struct name` from `bytes` (at `offset`). */
export function decodeKvmStruct(
  name: KvmStructName,
  bytes: Uint8Array,
  offset = 0,
): Record<string, number | bigint> {
  const spec: KvmStructSpec = KVM_UAPI_STRUCTS[name];
  if (bytes.length - offset < spec.size)
    throw new KernelError(
      'EFAULT',
      `struct ${name} needs ${spec.size} bytes, ${bytes.length - offset} given`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, spec.size);
  const out: Record<string, number | bigint> = {};
  for (const [member, field] of Object.entries(spec.fields))
    out[member] =
      field.size === 8 ? view.getBigUint64(field.offset, true) : view.getUint32(field.offset, true);
  if (name === 'kvm_irq_level') out.status = view.getInt32(0, true);
  return out;
}
