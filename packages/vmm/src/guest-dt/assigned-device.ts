// What a VMM knows about one assigned device once it has placed it in the guest: each VFIO
// region's host address, size and guest address, and each IRQ's host interrupt, guest SPI and
// whether VFIO reports it AUTOMASKED (vfio_platform_irq.c: level-triggered lines are
// VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED, edge ones only EVENTFD). The three
// guest-tree writers take this view, so they describe the same placement.
import { KernelError } from '@vfiokit/core';
import type { DtDevice } from '@vfiokit/devicetree';
import type { GuestAddressMap } from '../address-map/guest-address-map.js';

/** One MMIO region of an assigned device. */
export interface AssignedRegion {
  readonly hostAddress: bigint;
  readonly size: bigint;
  readonly guestAddress: bigint;
}

/** One interrupt of an assigned device. */
export interface AssignedIrq {
  /** Host GIC SPI number (INTID − 32), when the host line is an SPI. */
  readonly hostSpi: number | undefined;
  /** Guest SPI number (the second `interrupts` cell). */
  readonly guestSpi: number;
  /** VFIO_IRQ_INFO_AUTOMASKED: a level line (needs a resamplefd). */
  readonly automasked: boolean;
  /** Level/edge polarity as the host DT gives it. */
  readonly trigger: 'level-high' | 'level-low' | 'edge-rising' | 'edge-falling' | 'edge-both' | 'none';
}

/** A physical IOMMU reference of the device (`iommus` entry on the host). */
export interface AssignedIommu {
  /** Host IOMMU node path. */
  readonly iommu: string;
  /** Stream ID (the single `#iommu-cells` argument). */
  readonly sid: number;
}

/** An assigned device as the guest sees it. */
export interface AssignedDeviceView {
  /** Host device name (sysfs, `dev_name()`): `fff51000.ethernet`. QEMU's `vbasedev->name`. */
  readonly name: string;
  /** Host node path: `/soc/ethernet@fff51000`. */
  readonly hostPath: string;
  readonly compatible: readonly string[];
  readonly regions: readonly AssignedRegion[];
  readonly irqs: readonly AssignedIrq[];
  readonly dmaCoherent: boolean;
  readonly iommus: readonly AssignedIommu[];
}

/**
 * Where a placement puts a device: `platform-bus` (QEMU, crosvm: MMIO and SPIs from the bus),
 * `xen` (MMIO from the bus, SPIs 1:1 as Xen maps them) or `identity` (MMIO and SPIs 1:1, a Xen
 * direct-mapped domain).
 */
export type PlacementPolicy = 'platform-bus' | 'xen' | 'identity';

/**
 * Places a host device in the guest: one platform-bus MMIO window per region (sizes rounded
 * up to the map's page size for the allocation; the view keeps the region's own size, as
 * QEMU's `memory_region_size()`) and one SPI per interrupt, or 1:1 as the policy says. A
 * failure releases what this call took.
 */
export function placeDevice(
  map: GuestAddressMap,
  device: DtDevice,
  policy: PlacementPolicy = 'platform-bus',
): AssignedDeviceView {
  if (policy !== 'platform-bus' && policy !== 'xen' && policy !== 'identity')
    throw new KernelError('EINVAL', `placeDevice: policy must be 'platform-bus', 'xen' or 'identity'`);
  const owner = device.name;
  if (
    map.mmioAllocations().some((a) => a.owner === owner) ||
    map.irqAllocations().some(([, o]) => o === owner)
  )
    throw new KernelError('EBUSY', `placeDevice: ${owner} is already placed`);
  try {
    const regions = device.regions.map((r): AssignedRegion => {
      const page = map.pageSize;
      const rounded = ((r.size + page - 1n) / page) * page;
      const a =
        policy === 'identity'
          ? map.allocateMmioAt(owner, r.address, rounded)
          : map.allocateMmio(owner, rounded);
      return { hostAddress: r.address, size: r.size, guestAddress: a.base };
    });
    const irqs = device.irqs.map((irq): AssignedIrq => {
      const hostSpi = irq.gicType === 'SPI' && irq.intid !== undefined ? irq.intid - 32 : undefined;
      const trigger = irq.trigger ?? 'none';
      const automasked = trigger === 'level-high' || trigger === 'level-low';
      if (policy !== 'platform-bus') {
        if (hostSpi === undefined)
          throw new KernelError(
            'EINVAL',
            `placeDevice: ${owner} interrupt ${irq.index} is not a GIC SPI, so it cannot be mapped 1:1`,
          );
        return { hostSpi, guestSpi: hostSpi, automasked, trigger };
      }
      return { hostSpi, guestSpi: map.allocateIrq(owner), automasked, trigger };
    });
    return {
      name: device.name,
      hostPath: device.path,
      compatible: [...device.compatible],
      regions,
      irqs,
      dmaCoherent: device.dmaCoherent,
      iommus: device.iommus.map((l) => ({ iommu: l.target, sid: l.args[0] ?? 0 })),
    };
  } catch (e) {
    map.release(owner);
    throw e;
  }
}
