import { KernelError } from '@vfiokit/core';
import { type DeviceTree, type DtDevice, OfTree } from '@vfiokit/devicetree';
import {
  type BusDriverSpec,
  type DmaPolicyOptions,
  type EmulatedDriver,
  type EmulatedDriverEnvironment,
  OfDmaCapabilityPolicy,
  vfioAmbaRfcDriver,
  vfioPl011Driver,
  vfioPl031Driver,
  vfioPl061Driver,
  vfioPlatformRfcDriver,
} from '@vfiokit/emulated-iommu';
import { type VfioMetaDriverOptions, vfioAmbaDriver, vfioPlatformDriver } from '@vfiokit/vfio';
import { dmaFactsOf } from '../analysis/dma-facts.js';

/**
 * NOT IN LINUX — vfiokit's device-specific emulated-IOMMU VFIO drivers (issue #12, the
 * maintainer's design) that a host can load, by driver name.
 */
export const EMULATED_IOMMU_DRIVER_NAMES = ['vfio-pl011', 'vfio-pl031', 'vfio-pl061'] as const;

/** A name of {@link EMULATED_IOMMU_DRIVER_NAMES}. */
export type EmulatedIommuDriverName = (typeof EMULATED_IOMMU_DRIVER_NAMES)[number];

const FACTORIES: Readonly<
  Record<EmulatedIommuDriverName, (env: EmulatedDriverEnvironment) => EmulatedDriver>
> = {
  'vfio-pl011': vfioPl011Driver,
  'vfio-pl031': vfioPl031Driver,
  'vfio-pl061': vfioPl061Driver,
};

/** The emulated driver called `name` on the host's vfio driver options; `ENOENT` for no such driver (modprobe). */
export function emulatedIommuDriver(name: string, options: VfioMetaDriverOptions): EmulatedDriver {
  const factory = (FACTORIES as Readonly<Record<string, (env: EmulatedDriverEnvironment) => EmulatedDriver>>)[
    name
  ];
  if (factory === undefined || !Object.hasOwn(FACTORIES, name)) {
    throw new KernelError(
      'ENOENT',
      `modprobe: module ${name} not found (vfiokit's emulated drivers: ${EMULATED_IOMMU_DRIVER_NAMES.join(', ')})`,
    );
  }
  // The emulated drivers take vfio-platform's environment without the IOMMU-group lookup and
  // the DMA policy: they look up no IOMMU group and know their device.
  const env: EmulatedDriverEnvironment = {
    vfio: options.vfio,
    resets: options.resets,
    irqChip: options.irqChip,
    ...(options.mmio === undefined ? {} : { mmio: options.mmio }),
    ...(options.delay === undefined ? {} : { delay: options.delay }),
    ...(options.log === undefined ? {} : { log: options.log }),
  };
  return factory(env);
}

/**
 * vfiokit's DMA-capability policy over the host's device tree (not in Linux): each populated
 * device's firmware facts by node path, judged with the host's `dma_policy` options.
 */
export function hostDmaPolicy(
  tree: DeviceTree,
  devices: readonly DtDevice[],
  options: DmaPolicyOptions,
): OfDmaCapabilityPolicy {
  const view = OfTree.of(tree);
  const byPath = new Map(devices.map((device) => [device.path, device]));
  return new OfDmaCapabilityPolicy((path) => {
    const device = byPath.get(path);
    return device === undefined ? undefined : dmaFactsOf(view, view.find(path), device);
  }, options);
}

/**
 * The host's vfio-platform and vfio-amba: upstream's, or — with `vfiokit.emulated_generic=1`
 * (NOT IN LINUX, opt-in) — the 2024 RFC's variants under the same names, as a kernel with the
 * RFC applied would have them, judging devices without an IOMMU group by `policy`.
 */
export function vfioMetaDrivers(
  options: VfioMetaDriverOptions,
  resetRequired: boolean,
  rfcPolicy: OfDmaCapabilityPolicy | undefined,
): { readonly platform: BusDriverSpec; readonly amba: BusDriverSpec } {
  if (rfcPolicy === undefined) {
    return { platform: vfioPlatformDriver({ ...options, resetRequired }), amba: vfioAmbaDriver(options) };
  }
  return {
    platform: vfioPlatformRfcDriver({
      ...options,
      resetRequired,
      dmaPolicy: rfcPolicy,
      name: 'vfio-platform',
    }),
    amba: vfioAmbaRfcDriver({ ...options, dmaPolicy: rfcPolicy, name: 'vfio-amba' }),
  };
}
