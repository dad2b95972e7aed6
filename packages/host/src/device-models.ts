import type { DmaPort, MmioDevice } from '@vfiokit/core';
import type { DtDevice } from '@vfiokit/devicetree';
import { AmdXgbeModel, CalxedaXgmacModel, Pl330Model } from '@vfiokit/reset-modules';
import type { VirtualClock } from './devices/clock.js';
import { FwCfgModel } from './devices/fw-cfg.js';
import { Pl031Model } from './devices/pl031.js';
import { Pl061Model } from './devices/pl061.js';
import { VirtioMmioSlotModel } from './devices/virtio-mmio.js';
import { Pl011InterruptModel } from './emulated/pl011-interrupts.js';

/** What a register model may need from the host. */
export interface ModelEnvironment {
  readonly clock: VirtualClock;
  /** Drives interrupt line `irq` (a GIC INTID) to a level. */
  readonly setIrqLevel: (irq: number, asserted: boolean) => void;
  /**
   * The device's master port: through its SMMU (the first stream ID of `iommus`) when the host
   * models that SMMU, else straight to physical memory.
   */
  readonly dma: (device: DtDevice) => DmaPort;
}

/**
 * The register model of a device's first region, by its most specific known compatible:
 * QEMU virt's PL011, PL031, PL061, virtio-mmio slots and fw-cfg, and the PL330. Other devices get none
 * (their regions cannot be read, and an AMBA device without one cannot have its PrimeCell
 * ID read, so it waits for registers as on hardware whose clock never came up).
 */
export function modelFor(device: DtDevice, env: ModelEnvironment): MmioDevice | undefined {
  const has = (compatible: string): boolean => device.compatible.includes(compatible);
  if (has('arm,pl031')) {
    const irq = device.irqs[0]?.intid;
    return new Pl031Model({
      clock: env.clock,
      irq: (asserted) => {
        if (irq !== undefined) env.setIrqLevel(irq, asserted);
      },
    });
  }
  if (has('arm,pl011')) {
    // QEMU's PL011 raises UARTINTR on transmit (INT_TX), which an assigned UART's VMM sees.
    const irq = device.irqs[0]?.intid;
    return new Pl011InterruptModel({
      irq: (asserted) => {
        if (irq !== undefined) env.setIrqLevel(irq, asserted);
      },
    });
  }
  if (has('arm,pl061')) {
    const irq = device.irqs[0]?.intid;
    return new Pl061Model({
      irq: (asserted) => {
        if (irq !== undefined) env.setIrqLevel(irq, asserted);
      },
    });
  }
  // The PL330 DMA controller (reset-modules' register model: PrimeCell IDs, manager and channel
  // threads running real microcode through its master port), so an AMBA PL330 — Juno's — has
  // readable IDs and a bus master behind its SMMU, as on hardware whose clock is on.
  if (has('arm,pl330')) return new Pl330Model({ dma: env.dma(device) });
  // The Ethernet controllers with upstream reset modules (reset-modules' register models), so
  // vfio-platform's reset has registers to act on, as ioremap gives the kernel's module.
  if (has('calxeda,hb-xgmac')) return new CalxedaXgmacModel({ dma: env.dma(device) });
  if (has('virtio,mmio')) return new VirtioMmioSlotModel();
  if (has('qemu,fw-cfg-mmio')) return new FwCfgModel();
  return undefined;
}

/**
 * Register models for devices with more than one region, by region index: the AMD xgbe
 * (`amd,xgbe-seattle-v1a`: XGMAC block, then XPCS block). Undefined for any other device.
 */
export function regionModelsFor(
  device: DtDevice,
  env: ModelEnvironment,
): { readonly regions: readonly MmioDevice[]; readonly tick: (us: number) => void } | undefined {
  if (!device.compatible.includes('amd,xgbe-seattle-v1a')) return undefined;
  const xgbe = new AmdXgbeModel({ dma: env.dma(device) });
  return { regions: xgbe.regions, tick: (us) => xgbe.tick(us) };
}
