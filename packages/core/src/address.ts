import { KernelError } from './kernel-error.js';

declare const ADDRESS_SPACE: unique symbol;

/**
 * A byte address in one named address space. The brand keeps spaces apart at compile time:
 * an IOVA cannot be passed where a physical address is expected without an explicit,
 * checked conversion (a translation). The value is a plain number, a non-negative safe
 * integer: arm64 physical, IOVA and guest-physical spaces (at most 52 bits) fit below 2^53.
 */
export type Address<Space extends string> = number & { readonly [ADDRESS_SPACE]: Space };

/** A CPU physical address (what an SMMU translates to, what `reg` describes after `ranges`). */
export type PhysAddr = Address<'phys'>;
/** An I/O virtual address: what a device puts on the bus behind an IOMMU. */
export type Iova = Address<'iova'>;
/** A guest physical address (IPA on arm64): what the VM sees. */
export type GuestPhysAddr = Address<'guest-phys'>;

/** Any of the address types. */
export type AnyAddress = PhysAddr | Iova | GuestPhysAddr;

function checkAddress(kind: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new KernelError('EINVAL', `${kind} ${String(value)} is not a non-negative safe integer`);
  }
}

/** A checked {@link PhysAddr}: `EINVAL` unless `value` is a non-negative safe integer. */
export function physAddr(value: number): PhysAddr {
  checkAddress('physical address', value);
  return value as PhysAddr;
}

/** A checked {@link Iova}: `EINVAL` unless `value` is a non-negative safe integer. */
export function iova(value: number): Iova {
  checkAddress('IOVA', value);
  return value as Iova;
}

/** A checked {@link GuestPhysAddr}: `EINVAL` unless `value` is a non-negative safe integer. */
export function guestPhysAddr(value: number): GuestPhysAddr {
  checkAddress('guest physical address', value);
  return value as GuestPhysAddr;
}

/**
 * A checked conversion from a raw 64-bit value (a device-tree cell pair, a UAPI `__u64`)
 * to a number: `EOVERFLOW` when it does not fit below 2^53, `EINVAL` when negative.
 */
export function toSafeNumber(value: bigint, what = 'value'): number {
  if (value < 0n) throw new KernelError('EINVAL', `${what} ${value} is negative`);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new KernelError('EOVERFLOW', `${what} 0x${value.toString(16)} does not fit below 2^53`);
  }
  return Number(value);
}
