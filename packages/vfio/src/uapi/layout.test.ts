import { isKernelError } from '@vfiokit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD } from './flags.js';
import { VFIO_DEVICE_GET_INFO, VFIO_GET_API_VERSION, VFIO_IOMMU_MAP_DMA } from './ioctls.js';
import type { FieldSpec } from './layout.js';
import { vfioPlatformIndexToOffset, vfioPlatformSplitOffset } from './platform-offsets.js';
import { UAPI_CODECS, UAPI_STRUCTS } from './records.js';
import { vfioRegionInfo } from './structs-device.js';
import { vfioIommuType1DmaMap } from './structs-iommu.js';
import { encodeIrqSet } from './structs-irq.js';
import { UapiError } from './uapi-error.js';

describe('ioctl numbers', () => {
  it('are _IO(";", 100 + n) without size or direction bits', () => {
    expect(VFIO_GET_API_VERSION).toBe(0x3b64);
    expect(VFIO_DEVICE_GET_INFO).toBe(0x3b6b);
    expect(VFIO_IOMMU_MAP_DMA).toBe(0x3b71);
  });
});

describe('struct layouts', () => {
  it('keeps fields inside the struct, without overlap, aligned to their size', () => {
    for (const [name, layout] of Object.entries(UAPI_STRUCTS)) {
      // Union members overlap by design: one per union is checked.
      const codecFields = Object.entries(UAPI_CODECS[name]?.fields ?? {});
      const fields = codecFields
        .filter(([field, spec]) => spec.union === undefined || spec.union === field)
        .map(([, spec]) => spec)
        .sort((a, b) => a.offset - b.offset);
      let end = 0;
      for (const f of fields) {
        expect(f.offset, name).toBeGreaterThanOrEqual(end);
        expect(f.offset % f.size, name).toBe(0);
        end = f.offset + f.size;
      }
      expect(end, name).toBeLessThanOrEqual(layout.size);
    }
  });

  it('encodes little-endian at the kernel offsets', () => {
    const bytes = vfioIommuType1DmaMap.encode({
      argsz: 32,
      flags: 3,
      vaddr: 0x1122_3344_5566n,
      iova: 0x4000_0000,
      size: 1,
    });
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(0, true)).toBe(32);
    expect(view.getBigUint64(8, true)).toBe(0x1122_3344_5566n);
    expect(view.getBigUint64(16, true)).toBe(0x4000_0000n);
    expect(vfioIommuType1DmaMap.offsetofend('size')).toBe(32);
  });

  it('round-trips every struct for any field values', () => {
    for (const codec of Object.values(UAPI_CODECS)) {
      // A union's members share their bytes: generate its first member, copy it to the rest.
      const shape = Object.fromEntries(
        Object.entries(codec.fields)
          .filter(([name, spec]) => spec.union === undefined || spec.union === name)
          .map(([name, spec]) => [name, arbitraryFor(spec)]),
      ) as Record<string, fc.Arbitrary<number | bigint>>;
      const withUnions = (value: Record<string, number | bigint>): Record<string, number | bigint> => {
        const out = { ...value };
        for (const [name, spec] of Object.entries(codec.fields))
          if (spec.union !== undefined && spec.union !== name) out[name] = value[spec.union] ?? 0;
        return out;
      };
      fc.assert(
        fc.property(fc.record(shape), (value) => {
          const full = withUnions(value);
          expect(codec.decode(codec.encode(full as never))).toEqual(full);
        }),
        { numRuns: 50 },
      );
    }
  });

  it('decodes a prefix (copy_from_user of minsz) with later fields zero, and EFAULT past the buffer', () => {
    const full = vfioRegionInfo.encode({
      argsz: 32,
      flags: 7,
      index: 2,
      cap_offset: 0,
      size: 0x1000n,
      offset: 1n << 41n,
    });
    const prefix = vfioRegionInfo.decodePrefix(full, 12);
    expect(prefix.index).toBe(2);
    expect(prefix.size).toBe(0n);
    expect(() => vfioRegionInfo.decode(full.subarray(0, 31))).toThrow(
      expect.objectContaining({ code: 'EFAULT' }),
    );
  });

  it('refuses values that do not fit their field', () => {
    const error = (() => {
      try {
        vfioIommuType1DmaMap.encode({ argsz: 2 ** 32, flags: 0, vaddr: 0, iova: 0, size: 0 });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    // Client-side: no kernel saw it, so no errno (issue #9 item 17).
    expect(error).toBeInstanceOf(UapiError);
    expect(isKernelError(error)).toBe(false);
  });

  it('builds a vfio_irq_set with an eventfd payload and argsz covering it', () => {
    const bytes = encodeIrqSet({
      flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
      index: 1,
      start: 0,
      count: 1,
      data: [-1],
    });
    expect(bytes.length).toBe(24);
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(0, true)).toBe(24);
    expect(view.getInt32(20, true)).toBe(-1);
  });
});

describe('VFIO_PLATFORM offset encoding', () => {
  it('round-trips index << 40 plus an in-region offset', () => {
    fc.assert(
      fc.property(fc.nat(8191), fc.nat(2 ** 40 - 1), (index, inside) => {
        const split = vfioPlatformSplitOffset(vfioPlatformIndexToOffset(index) + inside);
        expect(split).toEqual({ index, offset: inside });
      }),
    );
  });
});

function arbitraryFor(spec: FieldSpec): fc.Arbitrary<number | bigint> {
  switch (spec.type) {
    case 'u8':
      return fc.nat(0xff);
    case 'u16':
      return fc.nat(0xffff);
    case 'u32':
      return fc.nat(0xffff_ffff);
    case 's32':
      return fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff });
    case 'u64':
      return fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn });
  }
}
