import { KernelError, rejectUnknownOptions } from '@vfiokit/core';
import {
  type VfioMetaDriverData,
  type VfioPlatformBinder,
  VfioPlatformDevice,
  vfioMetaDriverData,
} from '@vfiokit/vfio';
import { VFIO_DEVICE_FLAGS_AMBA, VFIO_DEVICE_FLAGS_PLATFORM } from '@vfiokit/vfio/uapi';
import { defineEmulatedDriver } from './define.js';
import type {
  BusDevice,
  EmulatedDriver,
  EmulatedDriverEnvironment,
  EmulatedDriverSpec,
  NoDmaStatement,
} from './types.js';

const ENV_KEYS = ['vfio', 'resets', 'irqChip', 'mmio', 'delay', 'log'] as const;

/** What an emulated driver keeps in `drvdata`: vfio's meta-driver data plus its no-DMA claim. */
export interface EmulatedDriverData extends VfioMetaDriverData {
  readonly registration: 'emulated';
  /** The driver's statement of why the device cannot do DMA. */
  readonly noDma: NoDmaStatement;
  /** The `of_match_table` entry the device matched. */
  readonly matched: string;
}

/** The bound state of a device, if an emulated driver from this kit bound it. */
export function emulatedDriverData(device: BusDevice): EmulatedDriverData | undefined {
  const data = vfioMetaDriverData(device) as Partial<EmulatedDriverData> | undefined;
  return data?.registration === 'emulated' && data.noDma !== undefined
    ? (data as EmulatedDriverData)
    : undefined;
}

/**
 * Builds a device-specific emulated-IOMMU VFIO driver from its declaration (vfiokit's kit for
 * the maintainer's design; not in Linux). Probe:
 *
 * 1. the device must match the driver's `of_match_table` — `driver_override` bypasses bus
 *    matching (platform_match / amba_match return the override comparison alone), so the
 *    probe checks, as a driver whose `of_device_get_match_data()` is NULL fails: `ENODEV`;
 * 2. each declared region must be a resource of the device at least the declared size
 *    (`ENXIO` when missing, as platform_get_resource → NULL; `EINVAL` when smaller), and each
 *    declared interrupt must exist (`ENXIO`, as platform_get_irq);
 * 3. the common core of vfio-platform (`VfioPlatformDevice`) is built on a binder exposing
 *    exactly the declared regions and IRQs (reset through the registry, never required);
 * 4. the device is registered with `vfio_register_emulated_iommu_dev` (vfio's
 *    `registerEmulatedIommuDevice`): a `vfio-noiommu`-named IOMMU group of its own and
 *    `/dev/vfio/<id>`, no IOMMU group looked up, no DMA-ownership claim, no MSI-isolation
 *    check, no taint.
 *
 * The device fd has no `dma_unmap`, so vfio_pin_pages refuses it (`EINVAL`): a device that
 * cannot do DMA never needs user memory, and gets no way to reach it.
 *
 * Like PCI's `override_only` id entries (PCI_DRIVER_OVERRIDE_DEVICE_VFIO), the driver binds
 * only through `driver_override`: on the platform bus the match table is not given to the bus
 * (it would steal devices from their host drivers at boot); on the AMBA bus matching uses
 * `id_table`, which the driver has none of, so the table is shown but inert.
 */
export function emulatedPlatformDriver(
  declaration: EmulatedDriverSpec,
  env: EmulatedDriverEnvironment,
): EmulatedDriver {
  const spec = defineEmulatedDriver(declaration);
  rejectUnknownOptions(env, ENV_KEYS, `emulatedPlatformDriver(${spec.name})`);
  if (env.vfio === undefined || env.resets === undefined || env.irqChip === undefined)
    throw new KernelError(
      'EINVAL',
      `emulatedPlatformDriver(${spec.name}): vfio, resets and irqChip are required`,
    );
  return {
    name: spec.name,
    bus: spec.bus,
    spec,
    ...(spec.bus === 'amba' ? { ofMatchTable: spec.ofMatchTable } : {}),
    driverManagedDma: true,
    probe(device: BusDevice): void {
      const matched = device.compatible.find((c) => spec.ofMatchTable.includes(c));
      if (matched === undefined) {
        throw new KernelError(
          'ENODEV',
          `${spec.name} ${device.name}: not in of_match_table (${spec.ofMatchTable.join(', ')})`,
        );
      }
      checkResources(spec, device);
      const platformDevice = new VfioPlatformDevice(binderFor(spec, device, env), {
        resets: env.resets,
        irqChip: env.irqChip,
        ...(env.delay === undefined ? {} : { delay: env.delay }),
        ...(env.log === undefined ? {} : { log: env.log }),
      });
      try {
        const vfioDevice = env.vfio.registerEmulatedIommuDevice({
          name: device.name,
          ops: platformDevice,
          driver: spec.name,
        });
        device.drvdata = {
          platformDevice,
          vfioDevice,
          registration: 'emulated',
          deprecation: null,
          noDma: spec.noDma,
          matched,
        } satisfies EmulatedDriverData;
      } catch (error) {
        platformDevice.release();
        throw error;
      }
    },
    remove(device: BusDevice) {
      const data = emulatedDriverData(device);
      if (data === undefined) return undefined;
      const waiting = env.vfio.unregisterDevice(data.vfioDevice);
      if (waiting === undefined) {
        data.platformDevice.release();
        return undefined;
      }
      return waiting.then(() => data.platformDevice.release());
    },
  };
}

function checkResources(spec: EmulatedDriverSpec, device: BusDevice): void {
  spec.regions.forEach((region, index) => {
    const resource = device.regions[index];
    if (resource === undefined)
      throw new KernelError('ENXIO', `${spec.name} ${device.name}: no resource ${index} (${region.name})`);
    if (resource.size < region.size) {
      throw new KernelError(
        'EINVAL',
        `${spec.name} ${device.name}: resource ${index} is 0x${resource.size.toString(16)} bytes, ${region.name} needs 0x${region.size.toString(16)}`,
      );
    }
  });
  spec.irqs.forEach((irq, index) => {
    if (device.irqs[index] === undefined)
      throw new KernelError('ENXIO', `${spec.name} ${device.name}: no interrupt ${index} (${irq.name})`);
  });
}

// The bus-specific half of struct vfio_platform_device, filled from the declaration: only the
// declared regions and IRQs exist for user space, at the declared sizes.
function binderFor(
  spec: EmulatedDriverSpec,
  device: BusDevice,
  env: EmulatedDriverEnvironment,
): VfioPlatformBinder {
  return {
    devName: device.name,
    name: device.name,
    flags: spec.bus === 'amba' ? VFIO_DEVICE_FLAGS_AMBA : VFIO_DEVICE_FLAGS_PLATFORM,
    compatible: device.compatible,
    // The driver knows its device; a reset module is used when one is registered, never required.
    resetRequired: false,
    getResource: (index) => {
      const declared = spec.regions[index];
      const resource = device.regions[index];
      if (declared === undefined || resource === undefined) return undefined;
      const model =
        env.mmio?.(device, resource, index) ??
        (spec.bus === 'amba' && index === 0 ? device.description.primecell : undefined);
      return {
        type: 'mem',
        start: resource.start,
        size: declared.size,
        ...(declared.readOnly === true ? { readOnly: true } : {}),
        ...(model === undefined ? {} : { model }),
      };
    },
    getIrq: (index) => (index < spec.irqs.length ? (device.irqs[index] ?? -6) : -6), // -ENXIO
  };
}
