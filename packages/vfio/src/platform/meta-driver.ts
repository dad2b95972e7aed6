import type { IommuGroup, MmioDevice } from '@vfiokit/core';
import type { Device, DriverSpec, MmioResource, RemoveResult } from '@vfiokit/platform-bus';
import type { ResetRegistry } from '@vfiokit/reset-modules';
import type { VfioDevice } from '../device/vfio-device.js';
import type { HostIrqChip } from '../irq/host-irq-chip.js';
import type { Vfio } from '../vfio.js';
import type { VfioPlatformBinder } from './binder.js';
import { VfioPlatformDevice } from './common.js';
import type { DmaCapabilityPolicy } from './dma-policy.js';

/** What the vfio-platform / vfio-amba drivers need from the host. */
export interface VfioMetaDriverOptions {
  readonly vfio: Vfio;
  readonly resets: ResetRegistry;
  readonly irqChip: HostIrqChip;
  /** `iommu_group_get(dev)`: the device's IOMMU group, undefined without an IOMMU. */
  readonly iommuGroupOf: (device: Device) => IommuGroup | undefined;
  /** `ioremap`: the register model behind a resource (AMBA region 0 defaults to the PrimeCell model). */
  readonly mmio?: (device: Device, resource: MmioResource, index: number) => MmioDevice | undefined;
  /** Proves devices without an IOMMU DMA-incapable, to register them in an emulated group. */
  readonly dmaPolicy?: DmaCapabilityPolicy;
  /** Model time for reset modules' delays. */
  readonly delay?: (microseconds: number) => void;
  /** Kernel log lines (deprecation notices, reset warnings). */
  readonly log?: (line: string) => void;
}

/** What a bound meta driver keeps in `drvdata`. */
export interface VfioMetaDriverData {
  /** The vfio-platform device (vfio_platform_common.c state: regions, IRQs, reset). */
  readonly platformDevice: VfioPlatformDevice;
  readonly vfioDevice: VfioDevice;
  /** How the device was registered. */
  readonly registration: 'iommu' | 'emulated' | 'noiommu';
  /**
   * The deprecation notice the bound driver's probe printed under the active kernel profile
   * (vfio-amba from v6.18), for reports and CLIs; null when the driver is not deprecated there.
   */
  readonly deprecation: string | null;
}

/** The per-bus part a meta driver supplies: the binder for a device. */
export type BinderFactory = (device: Device, options: VfioMetaDriverOptions) => VfioPlatformBinder;

/** The bound state of a device, if a vfio meta driver bound it. */
export function vfioMetaDriverData(device: Device): VfioMetaDriverData | undefined {
  const data = device.drvdata as Partial<VfioMetaDriverData> | undefined;
  return data?.platformDevice instanceof VfioPlatformDevice && data.vfioDevice !== undefined
    ? (data as VfioMetaDriverData)
    : undefined;
}

/**
 * A VFIO meta driver on platform-bus (drivers/vfio/platform/vfio_platform.c, vfio_amba.c `probe`/`remove`): no
 * match table (bound through `driver_override`), `driver_managed_dma`. Probe runs the common
 * init (reset lookup) and registers the device: in its IOMMU group; without one, in an
 * emulated group when the DMA policy proves it cannot do DMA, in a no-IOMMU group when that
 * mode is on, else `EINVAL`. Remove waits until user space closes the device's fds.
 */
export function vfioMetaDriver(
  name: string,
  binderOf: BinderFactory,
  options: VfioMetaDriverOptions,
  deprecation: string | null = null,
): DriverSpec {
  return {
    name,
    driverManagedDma: true,
    probe(device: Device): void {
      const platformDevice = new VfioPlatformDevice(binderOf(device, options), {
        resets: options.resets,
        irqChip: options.irqChip,
        ...(options.delay === undefined ? {} : { delay: options.delay }),
        ...(options.log === undefined ? {} : { log: options.log }),
      });
      try {
        const { vfioDevice, registration } = register(name, device, platformDevice, options);
        device.drvdata = {
          platformDevice,
          vfioDevice,
          registration,
          deprecation,
        } satisfies VfioMetaDriverData;
      } catch (error) {
        platformDevice.release();
        throw error;
      }
    },
    remove(device: Device): RemoveResult {
      const data = vfioMetaDriverData(device);
      if (data === undefined) return undefined;
      const waiting = options.vfio.unregisterDevice(data.vfioDevice);
      if (waiting === undefined) {
        data.platformDevice.release();
        return undefined;
      }
      return waiting.then(() => data.platformDevice.release());
    },
  };
}

function register(
  driver: string,
  device: Device,
  platformDevice: VfioPlatformDevice,
  options: VfioMetaDriverOptions,
): { vfioDevice: VfioDevice; registration: VfioMetaDriverData['registration'] } {
  const spec = { name: device.name, ops: platformDevice, driver };
  const iommuGroup = options.iommuGroupOf(device);
  if (iommuGroup === undefined && options.dmaPolicy?.assess(device).cannotDma === true) {
    return { vfioDevice: options.vfio.registerEmulatedIommuDevice(spec), registration: 'emulated' };
  }
  const vfioDevice = options.vfio.registerGroupDevice({ ...spec, iommuGroup });
  return { vfioDevice, registration: iommuGroup === undefined ? 'noiommu' : 'iommu' };
}
