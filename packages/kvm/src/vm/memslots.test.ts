import { isKernelError, type PhysAddr, PhysicalMemory } from '@vfiokit/core';
import { describe, expect, it } from 'vitest';
import { Memslots } from './memslots.js';

function errno(fn: () => void): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isKernelError(e)) return e.code;
    throw e;
  }
  return undefined;
}

function slots(): Memslots {
  const userMemory = new PhysicalMemory();
  userMemory.allocate(0x10_0000_0000 as PhysAddr, 0x100_0000);
  return new Memslots({ userMemory });
}

describe('KVM_SET_USER_MEMORY_REGION (virt/kvm/kvm_main.c __kvm_set_memory_region)', () => {
  it('maps guest addresses onto the VMM memory and reads/writes through the slot', () => {
    const m = slots();
    m.setUserMemoryRegion({
      slot: 0,
      guestPhysAddr: 0x4000_0000,
      memorySize: 0x10_0000,
      userspaceAddr: 0x10_0000_0000,
    });
    m.write(0x4000_0010, new Uint8Array([1, 2, 3]));
    const back = new Uint8Array(3);
    m.userMemory.read(0x10_0000_0010 as PhysAddr, back);
    expect([...back]).toEqual([1, 2, 3]);
    expect(errno(() => m.read(0x5000_0000, new Uint8Array(1)))).toBe('EFAULT');
  });

  it('overlapping slots → EEXIST (kvm_check_memslot_overlap), on create and on move', () => {
    const m = slots();
    m.setUserMemoryRegion({
      slot: 0,
      guestPhysAddr: 0x4000_0000,
      memorySize: 0x10_0000,
      userspaceAddr: 0x10_0000_0000,
    });
    m.setUserMemoryRegion({
      slot: 1,
      guestPhysAddr: 0x5000_0000,
      memorySize: 0x1000,
      userspaceAddr: 0x10_0020_0000,
    });
    expect(
      errno(() =>
        m.setUserMemoryRegion({
          slot: 2,
          guestPhysAddr: 0x400f_f000,
          memorySize: 0x2000,
          userspaceAddr: 0x10_0030_0000,
        }),
      ),
    ).toBe('EEXIST');
    expect(
      errno(() =>
        m.setUserMemoryRegion({
          slot: 1,
          guestPhysAddr: 0x4000_0000,
          memorySize: 0x1000,
          userspaceAddr: 0x10_0020_0000,
        }),
      ),
    ).toBe('EEXIST');
  });

  it('misaligned size, guest address or user address → EINVAL; unknown flags → EINVAL', () => {
    const m = slots();
    const ok = { slot: 0, guestPhysAddr: 0x4000_0000, memorySize: 0x1000, userspaceAddr: 0x10_0000_0000 };
    expect(errno(() => m.setUserMemoryRegion({ ...ok, memorySize: 0x1800 }))).toBe('EINVAL');
    expect(errno(() => m.setUserMemoryRegion({ ...ok, guestPhysAddr: 0x4000_0800 }))).toBe('EINVAL');
    expect(errno(() => m.setUserMemoryRegion({ ...ok, userspaceAddr: 0x10_0000_0800 }))).toBe('EINVAL');
    expect(errno(() => m.setUserMemoryRegion({ ...ok, flags: 4 }))).toBe('EINVAL');
    expect(errno(() => m.setUserMemoryRegion({ ...ok, slot: 0x1_0000 }))).toBe('EINVAL');
  });

  it('deleting a missing slot → EINVAL; resizing or changing READONLY → EINVAL; a repeat is a no-op', () => {
    const m = slots();
    const ok = { slot: 3, guestPhysAddr: 0x4000_0000, memorySize: 0x2000, userspaceAddr: 0x10_0000_0000 };
    expect(errno(() => m.setUserMemoryRegion({ ...ok, memorySize: 0 }))).toBe('EINVAL');
    m.setUserMemoryRegion(ok);
    m.setUserMemoryRegion(ok);
    expect(errno(() => m.setUserMemoryRegion({ ...ok, memorySize: 0x1000 }))).toBe('EINVAL');
    expect(errno(() => m.setUserMemoryRegion({ ...ok, flags: 2 }))).toBe('EINVAL');
    m.setUserMemoryRegion({ ...ok, flags: 1 }); // dirty logging on: FLAGS_ONLY
    m.setUserMemoryRegion({ ...ok, flags: 1, guestPhysAddr: 0x8000_0000 }); // MOVE
    expect(m.list()).toEqual([
      { id: 3, flags: 1, guestPhysAddr: 0x8000_0000, memorySize: 0x2000, userspaceAddr: 0x10_0000_0000 },
    ]);
    m.setUserMemoryRegion({ ...ok, memorySize: 0 });
    expect(m.list()).toEqual([]);
  });

  it('beyond the IPA space → EFAULT (arm64 kvm_arch_prepare_memory_region); read-only slots refuse guest writes', () => {
    const m = slots();
    expect(
      errno(() =>
        m.setUserMemoryRegion({
          slot: 0,
          guestPhysAddr: 2 ** 40 - 0x1000,
          memorySize: 0x2000,
          userspaceAddr: 0x10_0000_0000,
        }),
      ),
    ).toBe('EFAULT');
    m.setUserMemoryRegion({
      slot: 0,
      flags: 2,
      guestPhysAddr: 0,
      memorySize: 0x1000,
      userspaceAddr: 0x10_0000_0000,
    });
    expect(errno(() => m.write(0, new Uint8Array(1)))).toBe('EFAULT');
    expect(errno(() => new Memslots({ userMemory: m.userMemory, pageSize: 8192 }))).toBe('EINVAL');
    expect(errno(() => new Memslots({ userMemory: m.userMemory, bogus: 1 } as never))).toBe('EINVAL');
  });
});
