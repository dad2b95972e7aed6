// The guest physical address map of a VMM, and the platform-bus window inside it from which
// assigned devices get their MMIO and SPIs.
//
// Two allocation policies exist in the VMMs vfiokit follows:
// - QEMU virt (hw/arm/virt.c: VIRT_PLATFORM_BUS = { 0x0c000000, 0x02000000 }, irqmap
//   [VIRT_PLATFORM_BUS] = 112, PLATFORM_BUS_NUM_IRQS = 64; hw/core/platform-bus.c
//   platform_bus_map_mmio(): the first offset, stepping by the region size rounded up to a
//   power of two, where the region fits without overlap — "naturally aligned";
//   platform_bus_map_irq(): find_first_zero_bit over the 64 lines).
// - crosvm aarch64 (arch/src/... aarch64 get_resource_allocator_config(): "The platform MMIO
//   region is immediately past the end of RAM", AARCH64_PHYS_MEM_START = 0x80000000,
//   AARCH64_PLATFORM_MMIO_SIZE = 0x800000; devices/src/platform/vfio_platform.rs
//   allocate_regions(): page-aligned first fit; IRQs from AARCH64_IRQ_BASE = 4 up to
//   AARCH64_GIC_NR_SPIS = 32).
// QEMU exits the process on exhaustion ("Platform Bus: Can not fit MMIO region of size %x",
// "Platform Bus: Can not fit IRQ line"); here that is a KernelError ENOSPC with the same
// words, and every failure leaves the map exactly as it was.
import { KernelError, rejectUnknownOptions } from '@vfiokit/core';

/** A named range of guest physical addresses (RAM, a fixed device, the platform bus…). */
export interface GuestWindow {
  readonly name: string;
  readonly base: bigint;
  readonly size: bigint;
}

/** One MMIO region placed for an owner (a device name and region index). */
export interface GuestMmioAllocation {
  readonly owner: string;
  readonly base: bigint;
  readonly size: bigint;
}

/** How MMIO regions are placed inside the platform-bus window. */
export type MmioAlignment = 'natural' | 'page';

/** Options of {@link GuestAddressMap}. Unknown keys are refused (`EINVAL`). */
export interface GuestAddressMapOptions {
  /** Guest RAM ranges. */
  readonly ram: readonly GuestWindow[];
  /** Other fixed windows (GIC, UART, PCIe, …) that nothing may overlap. */
  readonly windows?: readonly GuestWindow[];
  /** The platform-bus window for assigned devices' MMIO. */
  readonly platformBus: GuestWindow;
  /** First SPI number (GIC SPI index, as the `interrupts` cell) of the platform bus. */
  readonly irqBase: number;
  /** Number of SPIs the platform bus owns. */
  readonly irqCount: number;
  /** `natural` (QEMU platform_bus_map_mmio) or `page` (crosvm first fit, page aligned). */
  readonly alignment: MmioAlignment;
  /** Page size for `page` alignment and for the size check (default 4096). */
  readonly pageSize?: number;
}

const OPTION_KEYS = [
  'ram',
  'windows',
  'platformBus',
  'irqBase',
  'irqCount',
  'alignment',
  'pageSize',
] as const;

const hex = (v: bigint): string => `0x${v.toString(16)}`;
const describe = (w: GuestWindow): string => `${w.name} [${hex(w.base)}, ${hex(w.base + w.size)})`;
const overlaps = (a: GuestWindow, b: { base: bigint; size: bigint }): boolean =>
  a.base < b.base + b.size && b.base < a.base + a.size;
const U64_END = 1n << 64n;

function checkWindow(w: GuestWindow, where: string): void {
  if (typeof w !== 'object' || w === null || typeof w.name !== 'string')
    throw new KernelError('EINVAL', `${where}: a window needs a name, a base and a size`);
  rejectUnknownOptions(w, ['name', 'base', 'size'], `${where}: window ${w.name}`);
  if (
    typeof w.base !== 'bigint' ||
    typeof w.size !== 'bigint' ||
    w.base < 0n ||
    w.size <= 0n ||
    w.base + w.size > U64_END
  )
    throw new KernelError(
      'EINVAL',
      `${where}: window ${w.name} must have a bigint base >= 0 and size > 0 within 64 bits`,
    );
}

/** Smallest power of two >= size: QEMU's `1ULL << (63 - clz64(size + size - 1))`. */
export function naturalAlignment(size: bigint): bigint {
  let a = 1n;
  while (a < size) a <<= 1n;
  return a;
}

/**
 * A guest physical address map: RAM, fixed windows, and a platform-bus window from which
 * assigned devices get MMIO regions and SPIs. Nothing placed in it ever overlaps anything
 * else; every failed call leaves it unchanged.
 */
export class GuestAddressMap {
  readonly platformBus: GuestWindow;
  readonly irqBase: number;
  readonly irqCount: number;
  readonly alignment: MmioAlignment;
  readonly pageSize: bigint;
  private readonly ram: GuestWindow[];
  private readonly fixed: GuestWindow[];
  private readonly mmio: GuestMmioAllocation[] = [];
  private readonly irqOwners: (string | undefined)[];

  constructor(options: GuestAddressMapOptions) {
    rejectUnknownOptions(options, [...OPTION_KEYS], 'GuestAddressMap');
    const pageSize = options.pageSize ?? 4096;
    if (!Number.isInteger(pageSize) || pageSize <= 0 || (pageSize & (pageSize - 1)) !== 0)
      throw new KernelError('EINVAL', `GuestAddressMap: pageSize ${pageSize} is not a power of two`);
    if (options.alignment !== 'natural' && options.alignment !== 'page')
      throw new KernelError('EINVAL', `GuestAddressMap: alignment must be 'natural' or 'page'`);
    if (
      !Number.isInteger(options.irqBase) ||
      options.irqBase < 0 ||
      !Number.isInteger(options.irqCount) ||
      options.irqCount < 0 ||
      options.irqBase + options.irqCount > 988
    )
      throw new KernelError(
        'EINVAL',
        'GuestAddressMap: irqBase/irqCount must name SPIs 0..987 (GIC SPI INTIDs 32..1019)',
      );
    this.pageSize = BigInt(pageSize);
    this.alignment = options.alignment;
    this.irqBase = options.irqBase;
    this.irqCount = options.irqCount;
    this.ram = [];
    this.fixed = [];
    checkWindow(options.platformBus, 'GuestAddressMap');
    this.platformBus = { ...options.platformBus };
    // Collisions are checked in declaration order so the message names the pair a user wrote.
    for (const w of options.ram ?? []) this.place(w, this.ram);
    for (const w of options.windows ?? []) this.place(w, this.fixed);
    this.checkFree(this.platformBus, 'GuestAddressMap');
    this.irqOwners = new Array<string | undefined>(options.irqCount).fill(undefined);
  }

  /** QEMU `-M virt`: platform bus at 0x0c000000 (32 MiB), SPIs 112..175, RAM at 0x40000000. */
  static qemuVirt(options: { ramSize?: bigint; windows?: readonly GuestWindow[] } = {}): GuestAddressMap {
    rejectUnknownOptions(options, ['ramSize', 'windows'], 'GuestAddressMap.qemuVirt');
    // hw/arm/virt.c base_memmap: VIRT_MEM starts at 0x40000000; VIRT_PLATFORM_BUS as above.
    return new GuestAddressMap({
      ram: [{ name: 'VIRT_MEM', base: 0x4000_0000n, size: options.ramSize ?? 0x4000_0000n }],
      windows: options.windows ?? [],
      platformBus: { name: 'VIRT_PLATFORM_BUS', base: 0x0c00_0000n, size: 0x0200_0000n },
      irqBase: 112,
      irqCount: 64,
      alignment: 'natural',
    });
  }

  /** crosvm aarch64: RAM at 0x80000000, platform MMIO (8 MiB) right after RAM, SPIs 4..31. */
  static crosvm(options: { ramSize?: bigint; windows?: readonly GuestWindow[] } = {}): GuestAddressMap {
    rejectUnknownOptions(options, ['ramSize', 'windows'], 'GuestAddressMap.crosvm');
    const ramSize = options.ramSize ?? 0x4000_0000n;
    return new GuestAddressMap({
      ram: [{ name: 'guest RAM', base: 0x8000_0000n, size: ramSize }],
      windows: options.windows ?? [],
      platformBus: { name: 'platform MMIO', base: 0x8000_0000n + ramSize, size: 0x80_0000n },
      irqBase: 4,
      irqCount: 28,
      alignment: 'page',
    });
  }

  private checkFree(w: { name: string; base: bigint; size: bigint }, where: string): void {
    for (const other of [...this.ram, ...this.fixed]) {
      if (overlaps(other, w))
        throw new KernelError('EBUSY', `${where}: ${describe(w)} collides with ${describe(other)}`);
    }
  }

  private place(w: GuestWindow, into: GuestWindow[]): void {
    checkWindow(w, 'GuestAddressMap');
    this.checkFree(w, 'GuestAddressMap');
    into.push({ ...w });
  }

  /**
   * Adds a fixed window (a device the VMM places itself). `EBUSY` naming both when it overlaps
   * RAM, another window, the platform bus or a placed region.
   */
  addWindow(window: GuestWindow): void {
    checkWindow(window, 'addWindow');
    this.checkFree(window, 'addWindow');
    this.checkNotOnBusOrPlaced(window, 'addWindow');
    this.fixed.push({ ...window });
  }

  /** Adds guest RAM (hotplug, a second bank); same checks as {@link addWindow}. */
  addRam(window: GuestWindow): void {
    checkWindow(window, 'addRam');
    this.checkFree(window, 'addRam');
    this.checkNotOnBusOrPlaced(window, 'addRam');
    this.ram.push({ ...window });
  }

  private checkNotOnBusOrPlaced(window: GuestWindow, where: string): void {
    if (overlaps(this.platformBus, window))
      throw new KernelError(
        'EBUSY',
        `${where}: ${describe(window)} collides with ${describe(this.platformBus)}`,
      );
    for (const a of this.mmio)
      if (overlaps({ name: a.owner, ...a }, window))
        throw new KernelError(
          'EBUSY',
          `${where}: ${describe(window)} collides with ${describe({ name: a.owner, base: a.base, size: a.size })}`,
        );
  }

  /** Guest RAM ranges, in the order they were added. */
  ramWindows(): readonly GuestWindow[] {
    return this.ram.map((w) => ({ ...w }));
  }

  /** Fixed windows, in the order they were added. */
  windows(): readonly GuestWindow[] {
    return this.fixed.map((w) => ({ ...w }));
  }

  /** MMIO regions placed in the platform bus, in allocation order. */
  mmioAllocations(): readonly GuestMmioAllocation[] {
    return this.mmio.map((a) => ({ ...a }));
  }

  /** SPIs taken, as `[spi, owner]`. */
  irqAllocations(): readonly (readonly [number, string])[] {
    const out: [number, string][] = [];
    this.irqOwners.forEach((o, i) => {
      if (o !== undefined) out.push([this.irqBase + i, o]);
    });
    return out;
  }

  private checkSize(size: bigint, where: string): void {
    if (typeof size !== 'bigint' || size <= 0n)
      throw new KernelError('EINVAL', `${where}: region size ${String(size)} must be a positive bigint`);
    // crosvm maps regions into the guest by page (KVM memslots are page granular); QEMU's
    // platform bus would accept a sub-page region but vfio-platform regions are page sized.
    if (size % this.pageSize !== 0n)
      throw new KernelError(
        'EINVAL',
        `${where}: region size ${hex(size)} is not a multiple of the page size ${hex(this.pageSize)}`,
      );
  }

  /**
   * Places an MMIO region of `size` bytes in the platform bus and returns its guest address.
   * `ENOSPC` ("Platform Bus: Can not fit MMIO region of size …") when no aligned hole is left.
   */
  allocateMmio(owner: string, size: bigint): GuestMmioAllocation {
    this.checkSize(size, 'allocateMmio');
    const step = this.alignment === 'natural' ? naturalAlignment(size) : this.pageSize;
    const bus = this.platformBus;
    // platform_bus_map_mmio(): for (off = 0; off < mmio_size; off += alignment) — the offset
    // is from the bus base, so alignment is relative to the bus (which QEMU aligns itself).
    for (let off = 0n; off + size <= bus.size; off += step) {
      const cand = { base: bus.base + off, size };
      const hit = this.mmio.find((a) => overlaps({ name: a.owner, ...a }, cand));
      if (hit === undefined) {
        const a = { owner, base: cand.base, size };
        this.mmio.push(a);
        return { ...a };
      }
      if (this.alignment === 'page') {
        // First fit: jump past the blocking region, rounded up to a page.
        const next = hit.base + hit.size - bus.base;
        off = ((next + this.pageSize - 1n) / this.pageSize) * this.pageSize - step;
      }
    }
    throw new KernelError(
      'ENOSPC',
      `Platform Bus: Can not fit MMIO region of size ${size.toString(16)} (for ${owner} in ${describe(bus)})`,
    );
  }

  /**
   * Places an MMIO region at a fixed guest address (ghaf-crosvm's `mmio_base`, a Xen
   * partial DT's chosen hole). `EBUSY` naming what it collides with; `EINVAL` if misaligned.
   */
  allocateMmioAt(owner: string, base: bigint, size: bigint): GuestMmioAllocation {
    this.checkSize(size, 'allocateMmioAt');
    if (typeof base !== 'bigint' || base < 0n || base % this.pageSize !== 0n || base + size > U64_END)
      throw new KernelError(
        'EINVAL',
        `allocateMmioAt: base ${String(base)} is not a page-aligned guest address`,
      );
    const cand = { name: owner, base, size };
    this.checkFree(cand, 'allocateMmioAt');
    for (const a of this.mmio)
      if (overlaps({ name: a.owner, ...a }, cand))
        throw new KernelError(
          'EBUSY',
          `allocateMmioAt: ${describe(cand)} collides with ${describe({ name: a.owner, base: a.base, size: a.size })}`,
        );
    const a = { owner, base, size };
    this.mmio.push(a);
    return { ...a };
  }

  /**
   * Takes the lowest free SPI of the platform bus (find_first_zero_bit). `ENOSPC`
   * ("Platform Bus: Can not fit IRQ line") when all are taken. Returns the SPI number as the
   * guest `interrupts` cell writes it (INTID − 32).
   */
  allocateIrq(owner: string): number {
    const i = this.irqOwners.indexOf(undefined);
    if (i < 0)
      throw new KernelError(
        'ENOSPC',
        `Platform Bus: Can not fit IRQ line (for ${owner}; all ${this.irqCount} SPIs from ${this.irqBase} are taken)`,
      );
    this.irqOwners[i] = owner;
    return this.irqBase + i;
  }

  /** Frees every MMIO region and SPI of `owner`; returns how many were freed (0 is not an error). */
  release(owner: string): number {
    let n = 0;
    for (let i = this.mmio.length - 1; i >= 0; i--) {
      if (this.mmio[i]?.owner === owner) {
        this.mmio.splice(i, 1);
        n++;
      }
    }
    this.irqOwners.forEach((o, i) => {
      if (o === owner) {
        this.irqOwners[i] = undefined;
        n++;
      }
    });
    return n;
  }

  /** A snapshot of the whole map, for comparisons (failures must leave it equal). */
  snapshot(): string {
    return JSON.stringify(
      { ram: this.ram, fixed: this.fixed, mmio: this.mmio, irqs: this.irqOwners },
      (_k, v: unknown) => (typeof v === 'bigint' ? hex(v) : v),
    );
  }
}
