import { KernelError, type PhysAddr, type PhysicalMemory, rejectUnknownOptions } from '@vfiokit/core';
import { KVM_UAPI_CONSTANTS as K } from '../uapi/constants.js';

/** `struct kvm_userspace_memory_region` (KVM_SET_USER_MEMORY_REGION), numbers in bytes. */
export interface UserspaceMemoryRegion {
  /** bits[15:0] slot id, bits[31:16] address space id (arm64 has one: 0). */
  readonly slot: number;
  /** KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY. */
  readonly flags?: number;
  readonly guestPhysAddr: number;
  /** 0 deletes the slot. */
  readonly memorySize: number;
  /** Address in the VMM's address space ({@link MemslotsOptions.userMemory}). */
  readonly userspaceAddr: number;
}

/** A memslot as KVM keeps it (`struct kvm_memory_slot`), in bytes. */
export interface Memslot {
  readonly id: number;
  readonly flags: number;
  readonly guestPhysAddr: number;
  readonly memorySize: number;
  readonly userspaceAddr: number;
}

export interface MemslotsOptions {
  /** The VMM's (user space's) memory, where `userspaceAddr` points. */
  readonly userMemory: PhysicalMemory;
  /** The guest's IPA size in bits (`KVM_VM_TYPE_ARM_IPA_SIZE`; default 40, KVM's default). */
  readonly ipaBits?: number;
  /** The host PAGE_SIZE (4 KiB, 16 KiB or 64 KiB; default 4 KiB). */
  readonly pageSize?: number;
}

/** `KVM_USER_MEM_SLOTS` = `KVM_MEM_SLOTS_NUM` (SHRT_MAX) − 0 internal slots on arm64. */
export const KVM_USER_MEM_SLOTS = 0x7fff;
// KVM_MEM_MAX_NR_PAGES (include/linux/kvm_host.h).
const KVM_MEM_MAX_NR_PAGES = 2 ** 31 - 1;
const VALID_FLAGS = K.KVM_MEM_LOG_DIRTY_PAGES | K.KVM_MEM_READONLY;

/**
 * Guest memory as memslots over the VMM's memory: virt/kvm/kvm_main.c __kvm_set_memory_region
 * (Linux 6.12) with arm64's kvm_arch_prepare_memory_region, in the kernel's check order.
 */
export class Memslots {
  readonly userMemory: PhysicalMemory;
  readonly ipaBits: number;
  readonly pageSize: number;
  private readonly byId = new Map<number, Memslot>();

  constructor(options: MemslotsOptions) {
    rejectUnknownOptions(options, ['userMemory', 'ipaBits', 'pageSize'], 'Memslots');
    this.userMemory = options.userMemory;
    this.ipaBits = options.ipaBits ?? 40;
    this.pageSize = options.pageSize ?? 0x1000;
    if (![0x1000, 0x4000, 0x1_0000].includes(this.pageSize))
      throw new KernelError('EINVAL', `page size ${String(this.pageSize)} is not 4K, 16K or 64K`);
    if (!Number.isInteger(this.ipaBits) || this.ipaBits < 32 || this.ipaBits > 52)
      throw new KernelError('EINVAL', `IPA size ${String(this.ipaBits)} is not 32..52 bits`);
  }

  /** The slots, by guest address. */
  list(): Memslot[] {
    return [...this.byId.values()].sort((a, b) => a.guestPhysAddr - b.guestPhysAddr);
  }

  /** `KVM_SET_USER_MEMORY_REGION`: create, delete, move or change the flags of a slot. */
  setUserMemoryRegion(region: UserspaceMemoryRegion): void {
    rejectUnknownOptions(
      region,
      ['slot', 'flags', 'guestPhysAddr', 'memorySize', 'userspaceAddr'],
      'KVM_SET_USER_MEMORY_REGION',
    );
    const flags = region.flags ?? 0;
    const { slot, guestPhysAddr: gpa, memorySize: size, userspaceAddr: hva } = region;
    for (const [name, v] of Object.entries({ slot, flags, gpa, size, hva }))
      if (!Number.isSafeInteger(v) || v < 0)
        throw new KernelError('EINVAL', `${name} ${String(v)} is not an unsigned integer`);
    // kvm_set_memory_region: `(u16)mem->slot >= KVM_USER_MEM_SLOTS`.
    if ((slot & 0xffff) >= KVM_USER_MEM_SLOTS)
      throw new KernelError('EINVAL', `slot id ${slot & 0xffff} ≥ KVM_USER_MEM_SLOTS`);
    // check_memory_region_flags: arm64 has read-only memslots, no guest_memfd.
    if (flags & ~VALID_FLAGS)
      throw new KernelError('EINVAL', `memslot flags 0x${flags.toString(16)} not supported`);
    if (size % this.pageSize !== 0)
      throw new KernelError('EINVAL', `memory_size 0x${size.toString(16)} is not page aligned`);
    if (gpa % this.pageSize !== 0)
      throw new KernelError('EINVAL', `guest_phys_addr 0x${gpa.toString(16)} is not page aligned`);
    // access_ok(): the user range must lie inside the VMM's address space.
    if (hva % this.pageSize !== 0 || hva + size > this.userMemory.limit)
      throw new KernelError(
        'EINVAL',
        `userspace_addr 0x${hva.toString(16)} is not page aligned or not accessible`,
      );
    if (slot >>> 16 >= 1)
      throw new KernelError('EINVAL', `address space ${slot >>> 16} does not exist on arm64`);
    if (gpa + size >= 2 ** 64) throw new KernelError('EINVAL', 'guest_phys_addr + memory_size wraps');
    if (size / this.pageSize > KVM_MEM_MAX_NR_PAGES)
      throw new KernelError('EINVAL', 'memory_size exceeds KVM_MEM_MAX_NR_PAGES');
    const id = slot & 0xffff;
    const old = this.byId.get(id);
    if (size === 0) {
      if (old === undefined) throw new KernelError('EINVAL', `slot ${id} does not exist (delete)`);
      this.byId.delete(id);
      return;
    }
    let change: 'create' | 'move' | 'flags';
    if (old === undefined) change = 'create';
    else {
      if (hva !== old.userspaceAddr || size !== old.memorySize || (flags ^ old.flags) & K.KVM_MEM_READONLY)
        throw new KernelError(
          'EINVAL',
          `slot ${id}: only the guest address or the dirty-log flag can change`,
        );
      if (gpa !== old.guestPhysAddr) change = 'move';
      else if (flags !== old.flags) change = 'flags';
      else return; // "Nothing to change."
    }
    if (change !== 'flags') {
      for (const other of this.byId.values())
        if (
          other.id !== id &&
          gpa < other.guestPhysAddr + other.memorySize &&
          other.guestPhysAddr < gpa + size
        )
          throw new KernelError('EEXIST', `slot ${id} overlaps slot ${other.id} (kvm_check_memslot_overlap)`);
    }
    // arm64 kvm_arch_prepare_memory_region: beyond the IPA space → EFAULT.
    if (gpa + size > 2 ** this.ipaBits)
      throw new KernelError('EFAULT', `slot ${id} ends beyond the ${this.ipaBits}-bit IPA space`);
    this.byId.set(id, { id, flags, guestPhysAddr: gpa, memorySize: size, userspaceAddr: hva });
  }

  /** The slot holding `gpa`, or undefined (an access there is an MMIO exit). */
  find(gpa: number): Memslot | undefined {
    for (const s of this.byId.values())
      if (gpa >= s.guestPhysAddr && gpa < s.guestPhysAddr + s.memorySize) return s;
    return undefined;
  }

  /** A guest read: `EFAULT` outside every slot (KVM would exit to user space with KVM_EXIT_MMIO). */
  read(gpa: number, into: Uint8Array): void {
    this.userMemory.read(this.translate(gpa, into.length, false), into);
  }

  /** A guest write: `EFAULT` outside every slot and into a read-only slot (an MMIO exit in KVM). */
  write(gpa: number, data: Uint8Array): void {
    this.userMemory.write(this.translate(gpa, data.length, true), data);
  }

  private translate(gpa: number, length: number, write: boolean): PhysAddr {
    const s = this.find(gpa);
    if (s === undefined || gpa + length > s.guestPhysAddr + s.memorySize)
      throw new KernelError(
        'EFAULT',
        `guest access 0x${gpa.toString(16)}+${length} is not inside one memslot`,
      );
    if (write && s.flags & K.KVM_MEM_READONLY) throw new KernelError('EFAULT', `slot ${s.id} is read-only`);
    return (s.userspaceAddr + gpa - s.guestPhysAddr) as PhysAddr;
  }
}
