import * as flags from './flags.js';
import * as ioctls from './ioctls.js';
import type { StructCodec, StructLayout } from './layout.js';
import { vfioDeviceInfo, vfioGroupStatus, vfioInfoCapHeader, vfioRegionInfo } from './structs-device.js';
import {
  vfioIommuType1DmaMap,
  vfioIommuType1DmaUnmap,
  vfioIommuType1Info,
  vfioIommuType1InfoCapIovaRange,
  vfioIommuType1InfoCapMigration,
  vfioIommuType1InfoDmaAvail,
  vfioIovaRange,
} from './structs-iommu.js';
import { vfioIrqInfo, vfioIrqSet } from './structs-irq.js';

function numbersOf(module: Readonly<Record<string, unknown>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(module)) if (typeof value === 'number') out[name] = value;
  return out;
}

/** Every `<linux/vfio.h>` macro the model uses, by its kernel name (ioctl numbers, extensions, flags, cap ids). */
export const UAPI_CONSTANTS: Readonly<Record<string, number>> = Object.freeze({
  ...numbersOf(ioctls),
  ...numbersOf(flags),
});

/** Constants newer than some headers still in use: the kernel version that added each. */
export const UAPI_CONSTANT_SINCE: Readonly<Record<string, readonly [number, number]>> = Object.freeze({
  VFIO_DEVICE_BIND_IOMMUFD: [6, 6],
  VFIO_DEVICE_ATTACH_IOMMUFD_PT: [6, 6],
  VFIO_DEVICE_DETACH_IOMMUFD_PT: [6, 6],
  VFIO_DEVICE_FEATURE_MIG_DATA_SIZE: [6, 2],
});

/** The struct codecs, by the kernel's struct name. */
export const UAPI_CODECS: Readonly<
  Record<string, StructCodec<Record<string, 'u8' | 'u16' | 'u32' | 's32' | 'u64'>>>
> = Object.freeze(
  Object.fromEntries(
    [
      vfioInfoCapHeader,
      vfioGroupStatus,
      vfioDeviceInfo,
      vfioRegionInfo,
      vfioIrqInfo,
      vfioIrqSet,
      vfioIommuType1Info,
      vfioIovaRange,
      vfioIommuType1InfoCapIovaRange,
      vfioIommuType1InfoCapMigration,
      vfioIommuType1InfoDmaAvail,
      vfioIommuType1DmaMap,
      vfioIommuType1DmaUnmap,
    ].map((codec) => [
      codec.name,
      codec as unknown as StructCodec<Record<string, 'u8' | 'u16' | 'u32' | 's32' | 'u64'>>,
    ]),
  ),
);

/** `{ [struct]: { size, fields: { [field]: { offset, size } } } }` for every struct the model uses. */
export const UAPI_STRUCTS: Readonly<Record<string, StructLayout>> = Object.freeze(
  Object.fromEntries(
    Object.entries(UAPI_CODECS).map(([name, codec]) => [
      name,
      {
        size: codec.size,
        fields: Object.fromEntries(
          Object.entries(codec.fields).map(([f, spec]) => [f, { offset: spec.offset, size: spec.size }]),
        ),
      },
    ]),
  ),
);
