import { isKernelError, KernelError } from '@vfiokit/core';
import { thrownErrno } from '@vfiokit/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GuestAddressMap, naturalAlignment } from './guest-address-map.js';

const K = 0x1000n;

describe('GuestAddressMap.qemuVirt (hw/arm/virt.c VIRT_PLATFORM_BUS, hw/core/platform-bus.c)', () => {
  it('has the virt machine window: 0x0c000000 + 32 MiB, SPIs 112..175 (PLATFORM_BUS_NUM_IRQS = 64)', () => {
    const m = GuestAddressMap.qemuVirt();
    expect(m.platformBus).toEqual({ name: 'VIRT_PLATFORM_BUS', base: 0x0c00_0000n, size: 0x0200_0000n });
    expect([m.irqBase, m.irqCount]).toEqual([112, 64]);
  });

  it('platform_bus_map_mmio places each region at the first naturally aligned free offset', () => {
    const m = GuestAddressMap.qemuVirt();
    expect(m.allocateMmio('a', K).base).toBe(0x0c00_0000n);
    // 0x3000 rounds up to 0x4000: offsets 0 (taken), 0x4000.
    expect(m.allocateMmio('b', 0x3000n).base).toBe(0x0c00_4000n);
    // A page fits at 0x1000, the first free 4 KiB-aligned offset.
    expect(m.allocateMmio('c', K).base).toBe(0x0c00_1000n);
    expect(naturalAlignment(0x3000n)).toBe(0x4000n);
  });

  it('platform_bus_map_irq takes the first zero bit and is ENOSPC after 64 lines', () => {
    const m = GuestAddressMap.qemuVirt();
    for (let i = 0; i < 64; i++) expect(m.allocateIrq(`d${i}`)).toBe(112 + i);
    const before = m.snapshot();
    expect(() => m.allocateIrq('x')).toThrow(/ENOSPC: Platform Bus: Can not fit IRQ line/);
    expect(m.snapshot()).toBe(before);
    m.release('d5');
    expect(m.allocateIrq('y')).toBe(117);
  });

  it("is ENOSPC with QEMU's words when the window is full", () => {
    const m = GuestAddressMap.qemuVirt();
    m.allocateMmio('big', 0x0200_0000n);
    expect(() => m.allocateMmio('x', K)).toThrow(
      /ENOSPC: Platform Bus: Can not fit MMIO region of size 1000 \(for x in VIRT_PLATFORM_BUS/,
    );
  });
});

describe('GuestAddressMap.crosvm (aarch64 get_resource_allocator_config)', () => {
  it('puts 8 MiB of platform MMIO right after RAM and SPIs 4..31', () => {
    const m = GuestAddressMap.crosvm({ ramSize: 0x2000_0000n });
    expect(m.platformBus).toEqual({ name: 'platform MMIO', base: 0xa000_0000n, size: 0x80_0000n });
    expect([m.irqBase, m.irqCount]).toEqual([4, 28]);
  });

  it('allocates page aligned, first fit, not naturally aligned', () => {
    const m = GuestAddressMap.crosvm();
    expect(m.allocateMmio('a', K).base).toBe(0xc000_0000n);
    expect(m.allocateMmio('b', 0x3000n).base).toBe(0xc000_1000n);
    expect(m.allocateMmio('c', K).base).toBe(0xc000_4000n);
  });
});

describe('collisions', () => {
  it('a platform bus overlapping RAM is EBUSY naming both (Ghaf #2036: the window inside VIRT_MEM)', () => {
    const e = (() => {
      try {
        new GuestAddressMap({
          ram: [{ name: 'VIRT_MEM', base: 0x4000_0000n, size: 0x4000_0000n }],
          platformBus: { name: 'platform-bus', base: 0x6000_0000n, size: 0x200_0000n },
          irqBase: 112,
          irqCount: 64,
          alignment: 'natural',
        });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(isKernelError(e, 'EBUSY')).toBe(true);
    expect((e as KernelError).message).toMatch(
      /platform-bus \[0x60000000, 0x62000000\) collides with VIRT_MEM \[0x40000000, 0x80000000\)/,
    );
  });

  it('addWindow refuses RAM, the bus and placed regions, and changes nothing', () => {
    const m = GuestAddressMap.qemuVirt();
    m.allocateMmioAt('xen-hole', 0x1000_0000n, K);
    const before = m.snapshot();
    expect(thrownErrno(() => m.addWindow({ name: 'gic', base: 0x7fff_f000n, size: 0x2000n }))).toBe('EBUSY');
    expect(thrownErrno(() => m.addWindow({ name: 'x', base: 0x0c10_0000n, size: K }))).toBe('EBUSY');
    expect(() => m.addWindow({ name: 'y', base: 0x1000_0000n, size: K })).toThrow(/collides with xen-hole/);
    expect(m.snapshot()).toBe(before);
    m.addWindow({ name: 'uart', base: 0x0900_0000n, size: K });
    expect(() => m.allocateMmioAt('z', 0x0900_0000n, K)).toThrow(
      /EBUSY: allocateMmioAt: z .* collides with uart/,
    );
  });

  it('refuses bad sizes and unknown option keys with EINVAL', () => {
    const m = GuestAddressMap.qemuVirt();
    expect(thrownErrno(() => m.allocateMmio('a', 0n))).toBe('EINVAL');
    expect(thrownErrno(() => m.allocateMmio('a', 0x800n))).toBe('EINVAL');
    expect(thrownErrno(() => m.allocateMmioAt('a', 0x123n, K))).toBe('EINVAL');
    expect(thrownErrno(() => GuestAddressMap.qemuVirt({ ramsize: 1n } as never))).toBe('EINVAL');
  });
});

type Op =
  | { kind: 'mmio'; owner: number; pages: number }
  | { kind: 'at'; owner: number; page: number; pages: number }
  | { kind: 'irq'; owner: number }
  | { kind: 'window'; page: number; pages: number }
  | { kind: 'release'; owner: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('mmio' as const),
    owner: fc.nat(5),
    pages: fc.integer({ min: 1, max: 3000 }),
  }),
  fc.record({
    kind: fc.constant('at' as const),
    owner: fc.nat(5),
    page: fc.nat(0x10_0000),
    pages: fc.integer({ min: 1, max: 64 }),
  }),
  fc.record({ kind: fc.constant('irq' as const), owner: fc.nat(5) }),
  fc.record({
    kind: fc.constant('window' as const),
    page: fc.nat(0x10_0000),
    pages: fc.integer({ min: 1, max: 4096 }),
  }),
  fc.record({ kind: fc.constant('release' as const), owner: fc.nat(5) }),
);

describe('properties', () => {
  it('placements never overlap each other, RAM or windows; a failure leaves the map unchanged', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(op, { maxLength: 60 }), (qemu, ops) => {
        const m = qemu ? GuestAddressMap.qemuVirt() : GuestAddressMap.crosvm();
        for (const o of ops) {
          const before = m.snapshot();
          try {
            if (o.kind === 'mmio') m.allocateMmio(`d${o.owner}`, BigInt(o.pages) * K);
            else if (o.kind === 'at')
              m.allocateMmioAt(`d${o.owner}`, BigInt(o.page) * K, BigInt(o.pages) * K);
            else if (o.kind === 'irq') m.allocateIrq(`d${o.owner}`);
            else if (o.kind === 'window')
              m.addWindow({ name: `w${o.page}`, base: BigInt(o.page) * K, size: BigInt(o.pages) * K });
            else m.release(`d${o.owner}`);
          } catch (e) {
            expect(e).toBeInstanceOf(KernelError);
            expect(m.snapshot()).toBe(before);
          }
          const all = [
            ...m.ramWindows(),
            ...m.windows(),
            ...m.mmioAllocations().map((a) => ({ name: a.owner, base: a.base, size: a.size })),
          ];
          for (let i = 0; i < all.length; i++)
            for (let j = i + 1; j < all.length; j++) {
              const a = all[i]!;
              const b = all[j]!;
              expect(a.base < b.base + b.size && b.base < a.base + a.size).toBe(false);
            }
          for (const w of [...m.ramWindows(), ...m.windows()]) {
            const bus = m.platformBus;
            expect(w.base < bus.base + bus.size && bus.base < w.base + w.size).toBe(false);
          }
          const spis = m.irqAllocations().map(([spi]) => spi);
          expect(new Set(spis).size).toBe(spis.length);
          for (const s of spis) expect(s >= m.irqBase && s < m.irqBase + m.irqCount).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
