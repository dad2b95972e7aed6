import { KernelError } from '@vfiokit/core';
import type { IoctlArg, MmapRequest, MmapResult, Task, VfioDeviceOps } from '@vfiokit/vfio';
import {
  VFIO_DEVICE_FLAGS_PCI,
  VFIO_DEVICE_GET_INFO,
  VFIO_DEVICE_GET_IRQ_INFO,
  VFIO_DEVICE_GET_REGION_INFO,
  VFIO_DEVICE_RESET,
  VFIO_IRQ_INFO_AUTOMASKED,
  VFIO_IRQ_INFO_EVENTFD,
  VFIO_IRQ_INFO_MASKABLE,
  VFIO_IRQ_INFO_NORESIZE,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
  vfioDeviceInfo,
  vfioIrqInfo,
  vfioRegionInfo,
} from '@vfiokit/vfio/uapi';
import { MTTY_CONFIG_SPACE_SIZE, MTTY_IO_BAR_SIZE, MttyConfigSpace } from './config-space.js';

// include/uapi/linux/vfio.h: VFIO_PCI_NUM_REGIONS (BAR0-5, ROM, CONFIG, VGA) and
// VFIO_PCI_NUM_IRQS (INTX, MSI, MSIX, ERR, REQ).
export const VFIO_PCI_NUM_REGIONS = 9;
export const VFIO_PCI_NUM_IRQS = 5;
const VFIO_PCI_BAR0_REGION_INDEX = 0;
const VFIO_PCI_BAR1_REGION_INDEX = 1;
const VFIO_PCI_BAR5_REGION_INDEX = 5;
const VFIO_PCI_CONFIG_REGION_INDEX = 7;
const VFIO_PCI_INTX_IRQ_INDEX = 0;
const VFIO_PCI_MSI_IRQ_INDEX = 1;

/** `MTTY_VFIO_PCI_INDEX_TO_OFFSET`: region index << 40. */
export function mttyIndexToOffset(index: number): number {
  return index * 2 ** 40;
}

/**
 * mtty's `vfio_device_ops` (samples/vfio-mdev/mtty.c) for one mdev with `nrPorts` ports: the
 * info ioctls exactly as mtty answers them. mtty keeps the `vfio_device_info` of the last
 * GET_INFO (`mdev_state->dev_info`), and GET_IRQ_INFO checks the index against *that*
 * num_irqs: before a GET_INFO every IRQ index is `EINVAL`.
 *
 * Config space reads and writes go through {@link MttyConfigSpace}, split as mtty_read /
 * mtty_write split them (4, 2, then 1 byte by alignment); a region other than config space
 * and BAR0–5 is `EFAULT` (mdev_access returns -1). Not modelled (a typed `EINVAL` naming it,
 * never a silent no-op): the 16550 serial ports behind the BARs, SET_IRQS and migration.
 */
export class MttyDeviceOps implements VfioDeviceOps {
  readonly nrPorts: 1 | 2;
  /** `mdev_state->dev_info.num_irqs`: 0 until a GET_INFO. */
  private numIrqs = 0;
  /** Open count, for tests. */
  opened = 0;
  /** The emulated config space, built at init (mtty_init_dev → mtty_create_config_space). */
  readonly config: MttyConfigSpace;

  constructor(nrPorts: 1 | 2) {
    this.nrPorts = nrPorts;
    this.config = new MttyConfigSpace(nrPorts);
  }

  openDevice(): void {
    this.opened++;
  }

  // mtty_close: files, INTx and MSI disabled; the dev_info copy survives.
  closeDevice(): void {
    this.opened--;
  }

  ioctl(_current: Task, request: number, arg: IoctlArg | undefined): number {
    switch (request) {
      case VFIO_DEVICE_GET_INFO:
        this.getInfo(pointer(arg));
        return 0;
      case VFIO_DEVICE_GET_REGION_INFO:
        this.getRegionInfo(pointer(arg));
        return 0;
      case VFIO_DEVICE_GET_IRQ_INFO:
        this.getIrqInfo(pointer(arg));
        return 0;
      case VFIO_DEVICE_RESET:
        // mtty_reset: clears the ports' FIFOs; always 0.
        return 0;
      default:
        throw new KernelError('ENOTTY', `mtty: ioctl 0x${request.toString(16)} not handled`);
    }
  }

  // mtty_read: 4-, 2- or 1-byte accesses by alignment, each through mdev_access.
  read(_current: Task, buffer: Uint8Array, offset: number): number {
    let done = 0;
    while (done < buffer.length) {
      const pos = offset + done;
      const size = accessSize(pos, buffer.length - done);
      buffer.set(this.access(pos, size, null), done);
      done += size;
    }
    return done;
  }

  // mtty_write: as mtty_read.
  write(_current: Task, data: Uint8Array, offset: number): number {
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const size = accessSize(pos, data.length - done);
      this.access(pos, size, data.subarray(done, done + size));
      done += size;
    }
    return done;
  }

  // mdev_access: config space, the BARs (not modelled), anything else -1 (EFAULT for the caller).
  private access(pos: number, size: number, data: Uint8Array | null): Uint8Array {
    const index = Math.floor(pos / 2 ** 40);
    const offset = pos % 2 ** 40;
    if (index === VFIO_PCI_CONFIG_REGION_INDEX) {
      if (data === null) return this.config.read(offset, size);
      this.config.write(offset, data);
      return data;
    }
    if (index <= VFIO_PCI_BAR5_REGION_INDEX)
      throw new KernelError('EINVAL', `mtty: the serial port registers (BAR${index}) are not modelled`);
    throw new KernelError('EFAULT', `mtty: region ${index} has no access`);
  }

  // mtty has no .mmap: vfio_device_fops_mmap answers EINVAL.
  mmap(_current: Task, _request: MmapRequest): MmapResult {
    throw new KernelError('EINVAL', 'mtty has no mmap');
  }

  // mtty_ioctl VFIO_DEVICE_GET_INFO → mtty_get_device_info: a PCI device, 9 regions, 5 IRQs.
  private getInfo(bytes: Uint8Array): void {
    const minsz = vfioDeviceInfo.offsetofend('num_irqs');
    const info = vfioDeviceInfo.decodePrefix(bytes, minsz);
    if (info.argsz < minsz)
      throw new KernelError('EINVAL', `vfio_device_info argsz ${info.argsz} < ${minsz}`);
    this.numIrqs = VFIO_PCI_NUM_IRQS;
    vfioDeviceInfo.encodePrefix(
      {
        ...info,
        flags: VFIO_DEVICE_FLAGS_PCI,
        num_regions: VFIO_PCI_NUM_REGIONS,
        num_irqs: VFIO_PCI_NUM_IRQS,
      },
      minsz,
      bytes,
    );
  }

  // mtty_get_region_info: index < 9; config 0xff bytes, BAR0 8, BAR1 8 on a dual-port device,
  // every other region 0 bytes; all read/write; offset index << 40.
  private getRegionInfo(bytes: Uint8Array): void {
    const minsz = vfioRegionInfo.offsetofend('offset');
    const info = vfioRegionInfo.decodePrefix(bytes, minsz);
    if (info.argsz < minsz)
      throw new KernelError('EINVAL', `vfio_region_info argsz ${info.argsz} < ${minsz}`);
    if (info.index >= VFIO_PCI_NUM_REGIONS)
      throw new KernelError('EINVAL', `region index ${info.index} ≥ ${VFIO_PCI_NUM_REGIONS}`);
    let size = 0;
    if (info.index === VFIO_PCI_CONFIG_REGION_INDEX) size = MTTY_CONFIG_SPACE_SIZE;
    else if (info.index === VFIO_PCI_BAR0_REGION_INDEX) size = MTTY_IO_BAR_SIZE;
    else if (info.index === VFIO_PCI_BAR1_REGION_INDEX && this.nrPorts === 2) size = MTTY_IO_BAR_SIZE;
    vfioRegionInfo.encodePrefix(
      {
        ...info,
        size,
        offset: mttyIndexToOffset(info.index),
        flags: VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
      },
      minsz,
      bytes,
    );
  }

  // mtty_ioctl VFIO_DEVICE_GET_IRQ_INFO: index ≥ dev_info.num_irqs is EINVAL, then
  // mtty_get_irq_info: only INTx (eventfd, maskable, automasked) and MSI (eventfd, noresize).
  private getIrqInfo(bytes: Uint8Array): void {
    const minsz = vfioIrqInfo.offsetofend('count');
    const info = vfioIrqInfo.decodePrefix(bytes, minsz);
    if (info.argsz < minsz || info.index >= this.numIrqs)
      throw new KernelError('EINVAL', `IRQ index ${info.index} ≥ ${this.numIrqs} (or argsz < ${minsz})`);
    let flags = VFIO_IRQ_INFO_EVENTFD;
    if (info.index === VFIO_PCI_INTX_IRQ_INDEX) flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
    else if (info.index === VFIO_PCI_MSI_IRQ_INDEX) flags |= VFIO_IRQ_INFO_NORESIZE;
    else throw new KernelError('EINVAL', `mtty has no IRQ index ${info.index}`);
    vfioIrqInfo.encodePrefix({ ...info, flags, count: 1 }, minsz, bytes);
  }
}

// The access width mtty_read/mtty_write pick: 4 when 4 bytes are left at a 4-aligned position,
// else 2 when 2-aligned, else 1.
function accessSize(pos: number, left: number): 1 | 2 | 4 {
  if (left >= 4 && pos % 4 === 0) return 4;
  if (left >= 2 && pos % 2 === 0) return 2;
  return 1;
}

function pointer(arg: IoctlArg | undefined): Uint8Array {
  if (arg instanceof Uint8Array) return arg;
  throw new KernelError('EFAULT', 'mtty: the ioctl expects a pointer to user memory');
}
