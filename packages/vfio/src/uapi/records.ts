import * as flags from './flags.js';
import * as generatedConstants from './generated-constants.js';
import * as generatedStructs from './generated-structs.js';
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

function stringsOf(module: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(module)) if (typeof value === 'string') out[name] = value;
  return out;
}

/**
 * Every numeric object-like `#define` of `<linux/vfio.h>`, by its kernel name (ioctl numbers,
 * extensions, flags, capability and region type ids): the hand-written ones the model uses and
 * the generated rest.
 */
export const UAPI_CONSTANTS: Readonly<Record<string, number>> = Object.freeze({
  ...numbersOf(generatedConstants),
  ...numbersOf(ioctls),
  ...numbersOf(flags),
});

/** The string `#define`s (`VFIO_DEVICE_API_*_STRING`). */
export const UAPI_STRING_CONSTANTS: Readonly<Record<string, string>> = Object.freeze(
  stringsOf(generatedConstants),
);

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
      ...Object.values(generatedStructs),
    ].map((codec) => [
      codec.name,
      codec as unknown as StructCodec<Record<string, 'u8' | 'u16' | 'u32' | 's32' | 'u64'>>,
    ]),
  ),
);

/** `{ [struct]: { size, fields: { [field]: { offset, size } } } }` for every struct of the header. */
export const UAPI_STRUCTS: Readonly<Record<string, StructLayout>> = Object.freeze(
  Object.fromEntries(
    Object.entries(UAPI_CODECS).map(([name, codec]) => [
      name,
      {
        size: codec.size,
        fields: Object.fromEntries(
          Object.entries(codec.fields).map(([f, spec]) => [f, { offset: spec.offset, size: spec.size }]),
        ),
        arrays: codec.arrays,
      },
    ]),
  ),
);
