// The few <linux/iommufd.h> and <linux/vfio.h> (Linux 6.12) ioctls a VMM issues on the iommufd
// back end, encoded as a process passes them. @vfiokit/vmm does not depend on
// @vfiokit/iommufd (it drives the kernel through a process's syscalls, as QEMU does), so the
// numbers and layouts are written here from the header; test/vmm-backends.test.ts checks them
// against @vfiokit/iommufd's (which a C test checks against the real header).
import {
  VFIO_DEVICE_ATTACH_IOMMUFD_PT,
  VFIO_DEVICE_BIND_IOMMUFD,
  VFIO_DEVICE_DETACH_IOMMUFD_PT,
} from '@vfiokit/vfio/uapi';

export { VFIO_DEVICE_ATTACH_IOMMUFD_PT, VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_DETACH_IOMMUFD_PT };

// #define IOMMUFD_TYPE (';'), IOMMUFD_CMD_BASE 0x80; IOMMU_X = _IO(IOMMUFD_TYPE, IOMMUFD_CMD_X).
const io = (nr: number): number => (0x3b << 8) | nr;
export const IOMMU_DESTROY: number = io(0x80);
export const IOMMU_IOAS_ALLOC: number = io(0x81);
export const IOMMU_IOAS_MAP: number = io(0x85);
export const IOMMU_IOAS_UNMAP: number = io(0x86);

/** enum iommufd_ioas_map_flags. */
export const IOMMU_IOAS_MAP_FIXED_IOVA: number = 1 << 0;
export const IOMMU_IOAS_MAP_WRITEABLE: number = 1 << 1;
export const IOMMU_IOAS_MAP_READABLE: number = 1 << 2;

function words(size: number): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(size);
  return { bytes, view: new DataView(bytes.buffer) };
}

/** struct iommu_destroy { __u32 size; __u32 id; }. */
export function iommuDestroyArg(id: number): Uint8Array {
  const { bytes, view } = words(8);
  view.setUint32(0, 8, true);
  view.setUint32(4, id >>> 0, true);
  return bytes;
}

/** struct iommu_ioas_alloc { __u32 size; __u32 flags; __u32 out_ioas_id; }; read back with {@link u32At}(8). */
export function iommuIoasAllocArg(): Uint8Array {
  const { bytes, view } = words(12);
  view.setUint32(0, 12, true);
  return bytes;
}

/** struct iommu_ioas_map { size, flags, ioas_id, __reserved; __u64 user_va, length, iova; } (40 bytes). */
export function iommuIoasMapArg(m: {
  readonly ioasId: number;
  readonly flags: number;
  readonly userVa: number;
  readonly length: number;
  readonly iova: bigint;
}): Uint8Array {
  const { bytes, view } = words(40);
  view.setUint32(0, 40, true);
  view.setUint32(4, m.flags >>> 0, true);
  view.setUint32(8, m.ioasId >>> 0, true);
  view.setBigUint64(16, BigInt(m.userVa), true);
  view.setBigUint64(24, BigInt(m.length), true);
  view.setBigUint64(32, m.iova, true);
  return bytes;
}

/** struct iommu_ioas_unmap { size, ioas_id; __u64 iova, length; } (24 bytes). */
export function iommuIoasUnmapArg(ioasId: number, iova: bigint, length: number): Uint8Array {
  const { bytes, view } = words(24);
  view.setUint32(0, 24, true);
  view.setUint32(4, ioasId >>> 0, true);
  view.setBigUint64(8, iova, true);
  view.setBigUint64(16, BigInt(length), true);
  return bytes;
}

/** struct vfio_device_bind_iommufd { argsz, flags; __s32 iommufd; __u32 out_devid; } (16 bytes). */
export function vfioBindIommufdArg(iommufd: number): Uint8Array {
  const { bytes, view } = words(16);
  view.setUint32(0, 16, true);
  view.setInt32(8, iommufd, true);
  return bytes;
}

/** struct vfio_device_attach_iommufd_pt { argsz, flags, pt_id; } (12 bytes, 6.12 has no pasid). */
export function vfioAttachPtArg(ptId: number): Uint8Array {
  const { bytes, view } = words(12);
  view.setUint32(0, 12, true);
  view.setUint32(8, ptId >>> 0, true);
  return bytes;
}

/** struct vfio_device_detach_iommufd_pt { argsz, flags; } (8 bytes). */
export function vfioDetachPtArg(): Uint8Array {
  const { bytes, view } = words(8);
  view.setUint32(0, 8, true);
  return bytes;
}

/** A little-endian __u32 of an ioctl argument the kernel wrote back. */
export const u32At = (bytes: Uint8Array, at: number): number =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at, true);
