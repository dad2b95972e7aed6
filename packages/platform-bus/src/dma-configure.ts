import type { IommuDmaOwnership } from '@vfiokit/core';
import type { Device, DriverSpec } from './device.js';

/**
 * The bus's `dma_configure` / `dma_cleanup` callbacks, called by the driver core around a
 * probe (drivers/base/dd.c really_probe(): dma_configure before the driver's probe,
 * dma_cleanup when the probe fails and after remove). Injectable so the IOMMU layer (or
 * `@vfiokit/vfio`, which claims a group for user space) decides whether a host driver may
 * bind. `configure` throws a `KernelError` (`EBUSY`, `EPROBE_DEFER`) to refuse the probe.
 */
export interface DmaConfigureHook {
  configure(device: Device, driver: DriverSpec): void;
  cleanup(device: Device, driver: DriverSpec): void;
}

/**
 * `platform_dma_configure()` / `platform_dma_cleanup()` (drivers/base/platform.c; AMBA's
 * are the same in drivers/amba/bus.c): unless the driver sets `driver_managed_dma`, take
 * the device's IOMMU group default domain at probe and drop it at cleanup.
 */
export function platformDmaConfigure(ownership: IommuDmaOwnership): DmaConfigureHook {
  return {
    configure(device: Device, driver: DriverSpec): void {
      if (driver.driverManagedDma !== true) ownership.useDefaultDomain(device.iommuGroup);
    },
    cleanup(device: Device, driver: DriverSpec): void {
      if (driver.driverManagedDma !== true) ownership.unuseDefaultDomain(device.iommuGroup);
    },
  };
}
