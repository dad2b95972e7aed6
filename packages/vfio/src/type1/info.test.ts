import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { VfioContainerHandle } from '../api/container-handle.js';
import { VfioGroupHandle } from '../api/group-handle.js';
import { type1Fixture } from '../test-support/type1-fixture.js';
import { countingDeviceOps } from '../testing/counting-device.js';
import {
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_INFO_PGSIZES,
  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
  VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION,
  VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
} from '../uapi/flags.js';
import { VFIO_IOMMU_GET_INFO, VFIO_TYPE1v2_IOMMU } from '../uapi/ioctls.js';
import { vfioIommuType1Info } from '../uapi/structs-iommu.js';
import { UserProcess } from '../user/process.js';
import { Vfio } from '../vfio.js';

// vfio_iommu_type1_get_info (drivers/vfio/vfio_iommu_type1.c) through the raw ioctl: minsz 16,
// sizeof(info) 24, the capability chain after the struct. The fixture's domain has a 48-bit
// aperture with the SW_MSI window cut out: two IOVA ranges (an IOVA_RANGE cap of 16 + 2 × 16).
const MIGRATION = 32;
const DMA_AVAIL = 12;
const IOVA_RANGE = 48;

function getInfo(version: readonly [number, number], argsz: number, length = argsz) {
  const f = type1Fixture({ profile: { version } });
  const bytes = new Uint8Array(Math.max(length, 24));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, argsz, true);
  // A cap_offset the kernel must not touch when argsz leaves it out (copy_to_user of minsz).
  view.setUint32(16, 0xdead, true);
  const errno = thrownErrno(() =>
    f.process.ioctl(f.container.fd, VFIO_IOMMU_GET_INFO, bytes.subarray(0, length)),
  );
  return { errno, info: vfioIommuType1Info.decode(bytes), view };
}

describe('VFIO_IOMMU_GET_INFO (vfio_iommu_type1_get_info)', () => {
  it('argsz 15 is EINVAL; argsz 16 gets flags, pgsizes and the argsz needed, and nothing past byte 16', () => {
    expect(getInfo([6, 18], 15, 24).errno).toBe('EINVAL');
    const { errno, info } = getInfo([6, 18], 16);
    expect(errno).toBeUndefined();
    expect(info.flags).toBe(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS);
    expect(info.iova_pgsizes).not.toBe(0n);
    expect(info.argsz).toBe(24 + MIGRATION + 16 + IOVA_RANGE);
    expect(info.cap_offset).toBe(0xdead);
  });

  it('argsz one byte short of the chain: the argsz needed, cap_offset 0, no chain written', () => {
    const needed = 24 + MIGRATION + 16 + IOVA_RANGE;
    const { info, view } = getInfo([6, 18], needed - 1, needed);
    expect(info.argsz).toBe(needed);
    expect(info.cap_offset).toBe(0);
    expect(view.getUint32(24, true)).toBe(0);
  });

  it('since v6.5 each capability is padded to 8 bytes; next is relative to the struct start', () => {
    const needed = 24 + MIGRATION + 16 + IOVA_RANGE;
    const { errno, info, view } = getInfo([6, 18], needed);
    expect(errno).toBeUndefined();
    expect(info.argsz).toBe(needed);
    expect(info.cap_offset).toBe(24);
    const chain = [];
    for (let at = info.cap_offset; at !== 0; at = view.getUint32(at + 4, true)) {
      chain.push([view.getUint16(at, true), view.getUint16(at + 2, true), at]);
    }
    expect(chain).toEqual([
      [VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, 1, 24],
      [VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 1, 24 + MIGRATION],
      [VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1, 24 + MIGRATION + 16],
    ]);
    // DMA_AVAIL: dma_entry_limit (65535) with nothing mapped; IOVA_RANGE: nr_iovas 2.
    expect(view.getUint32(24 + MIGRATION + 8, true)).toBe(65535);
    expect(view.getUint32(24 + MIGRATION + 16 + 8, true)).toBe(2);
  });

  it('before v6.5 the capabilities are packed (DMA_AVAIL takes 12 bytes)', () => {
    const needed = 24 + MIGRATION + DMA_AVAIL + IOVA_RANGE;
    expect(getInfo([6, 4], 16).info.argsz).toBe(needed);
    const { info, view } = getInfo([6, 4], needed);
    expect(info.cap_offset).toBe(24);
    expect(view.getUint32(24 + 4, true)).toBe(24 + MIGRATION);
    expect(view.getUint32(24 + MIGRATION + 4, true)).toBe(24 + MIGRATION + DMA_AVAIL);
    expect(view.getUint16(24 + MIGRATION + DMA_AVAIL, true)).toBe(VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
    expect(view.getUint32(24 + MIGRATION + DMA_AVAIL + 4, true)).toBe(0);
  });

  it('EFAULT when argsz promises room the buffer does not have', () => {
    const needed = 24 + MIGRATION + 16 + IOVA_RANGE;
    expect(getInfo([6, 18], needed, needed - 1).errno).toBe('EFAULT');
  });

  it('an emulated-only container (empty IOVA list) has no IOVA_RANGE capability (vfio_iommu_iova_build_caps)', () => {
    const vfio = new Vfio();
    vfio.registerEmulatedIommuDevice({ name: 'mdev0', ops: countingDeviceOps() });
    const process = new UserProcess({ vfio });
    const container = VfioContainerHandle.open(process);
    VfioGroupHandle.open(process, [...vfio.groups.keys()][0] ?? '').setContainer(container);
    container.setIommu(VFIO_TYPE1v2_IOMMU);
    const bytes = new Uint8Array(256);
    new DataView(bytes.buffer).setUint32(0, 16, true);
    process.ioctl(container.fd, VFIO_IOMMU_GET_INFO, bytes);
    expect(vfioIommuType1Info.decode(bytes).argsz).toBe(24 + MIGRATION + 16);
  });
});
