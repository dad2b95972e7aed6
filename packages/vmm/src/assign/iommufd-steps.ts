// The steps only the iommufd back end has, each with its undo: what QEMU's iommufd backend
// (hw/vfio/iommufd.c) and a cdev user (Documentation/driver-api/vfio.rst "VFIO device cdev")
// do in place of the container and the group. The device-side steps after them (device_info,
// place, map_regions, wire_irqs, guest_node) are the legacy ones, on the cdev's device fd.
import { KernelError } from '@vfiokit/core';
import { VfioDeviceHandle } from '@vfiokit/vfio';
import {
  IOMMU_DESTROY,
  IOMMU_IOAS_ALLOC,
  IOMMU_IOAS_MAP,
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_IOAS_UNMAP,
  iommuDestroyArg,
  iommuIoasAllocArg,
  iommuIoasMapArg,
  iommuIoasUnmapArg,
  u32At,
  VFIO_DEVICE_ATTACH_IOMMUFD_PT,
  VFIO_DEVICE_BIND_IOMMUFD,
  VFIO_DEVICE_DETACH_IOMMUFD_PT,
  vfioAttachPtArg,
  vfioBindIommufdArg,
  vfioDetachPtArg,
} from './iommufd-uapi.js';
import type { Ctx, StepImpl } from './step-context.js';

const need = (value: number | undefined, what: string): number => {
  if (value === undefined) throw new KernelError('EINVAL', `assign: ${what} is missing (step order)`);
  return value;
};

const devPath = (c: Ctx) => `/sys/bus/${c.bus}/devices/${c.name}`;

export const IOMMUFD_STEP_IMPLS: Readonly<
  Record<'open_iommufd' | 'open_cdev' | 'bind_iommufd' | 'ioas_alloc' | 'attach_ioas' | 'ioas_map', StepImpl>
> = {
  // iommufd_backend_connect: one context per VMM (iommufd_fops_open).
  open_iommufd: (c, push) => {
    const fd = c.vm.process.open('/dev/iommu');
    c.iommufd.iommufd = fd;
    push(() => c.vm.process.close(fd));
    return `open /dev/iommu = ${fd}`;
  },
  // iommufd_cdev_getfd: the cdev is found as users find it, <dev>/vfio-dev/vfio<N>
  // (vfio_device_add makes that device; for a no-IOMMU device 6.12 adds it without a cdev,
  // so the open below is ENOENT). The group's iommu_group link names the group for the record.
  open_cdev: (c, push) => {
    const nodes = c.host.fs.exists(`${devPath(c)}/vfio-dev`) ? c.host.fs.ls(`${devPath(c)}/vfio-dev`) : [];
    const cdev = nodes.find((n) => /^vfio\d+$/.test(n));
    if (cdev === undefined)
      throw new KernelError('ENOENT', `${devPath(c)}/vfio-dev: no vfio<N> (not bound to a VFIO driver)`);
    c.iommufd.cdev = cdev;
    if (c.host.fs.exists(`${devPath(c)}/iommu_group`))
      c.groupName = c.host.fs
        .readlink(`${devPath(c)}/iommu_group`)
        .split('/')
        .pop() as string;
    const fd = c.vm.process.open(`/dev/vfio/devices/${cdev}`);
    const device = new VfioDeviceHandle(c.vm.process, fd);
    c.device = device;
    c.kvmVfioFd = fd;
    // Closing the cdev fd is also the undo of bind_iommufd (vfio_device_fops_release →
    // vfio_df_unbind_iommufd) and runs the device's close and reset.
    push(() => device.close());
    return `open /dev/vfio/devices/${cdev} = ${fd}`;
  },
  // VFIO_DEVICE_BIND_IOMMUFD: there is no UNBIND ioctl; the bind is undone when the cdev fd
  // closes (open_cdev's undo), so this step pushes nothing of its own.
  bind_iommufd: (c) => {
    const arg = vfioBindIommufdArg(need(c.iommufd.iommufd, 'the /dev/iommu fd'));
    c.vm.process.ioctl(need(c.device?.fd, 'the cdev fd'), VFIO_DEVICE_BIND_IOMMUFD, arg);
    c.iommufd.devid = u32At(arg, 12);
    c.iommuType = 'iommufd';
    return `VFIO_DEVICE_BIND_IOMMUFD iommufd ${c.iommufd.iommufd} → devid ${c.iommufd.devid}`;
  },
  // iommufd_backend_alloc_ioas; undone by IOMMU_DESTROY (after the detach below released it).
  ioas_alloc: (c, push) => {
    const fd = need(c.iommufd.iommufd, 'the /dev/iommu fd');
    const arg = iommuIoasAllocArg();
    c.vm.process.ioctl(fd, IOMMU_IOAS_ALLOC, arg);
    const id = u32At(arg, 8);
    c.iommufd.ioasId = id;
    push(() => {
      c.vm.process.ioctl(fd, IOMMU_DESTROY, iommuDestroyArg(id));
    });
    return `IOMMU_IOAS_ALLOC → ioas ${id}`;
  },
  // iommufd_cdev_attach_ioas_hwpt: ATTACH_IOMMUFD_PT with the IOAS id (the kernel makes or
  // reuses an auto-domain HWPT; an emulated device attaches its iommufd_access instead).
  attach_ioas: (c, push) => {
    const fd = need(c.device?.fd, 'the cdev fd');
    const arg = vfioAttachPtArg(need(c.iommufd.ioasId, 'the IOAS'));
    c.vm.process.ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, arg);
    push(() => {
      c.vm.process.ioctl(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, vfioDetachPtArg());
    });
    return `VFIO_DEVICE_ATTACH_IOMMUFD_PT ioas ${c.iommufd.ioasId} → pt_id ${u32At(arg, 8)}`;
  },
  // The memory listener's iommufd_backend_map_dma: all guest RAM at its guest physical
  // address (FIXED_IOVA), read/write — the same IOVAs as legacy's MAP_DMA.
  ioas_map: (c, push) => {
    const fd = need(c.iommufd.iommufd, 'the /dev/iommu fd');
    const ioasId = need(c.iommufd.ioasId, 'the IOAS');
    const iova = c.vm.ramBase;
    const length = c.vm.ramSize;
    const flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
    c.vm.process.ioctl(
      fd,
      IOMMU_IOAS_MAP,
      iommuIoasMapArg({ ioasId, flags, userVa: c.vm.ramVaddr, length, iova }),
    );
    push(() => {
      c.vm.process.ioctl(fd, IOMMU_IOAS_UNMAP, iommuIoasUnmapArg(ioasId, iova, length));
    });
    return `IOMMU_IOAS_MAP ioas ${ioasId} iova 0x${iova.toString(16)} size 0x${length.toString(16)} FIXED_IOVA|READABLE|WRITEABLE`;
  },
};
