import { QemuRegisterDevice } from './qemu-register-device.js';

/** `VIRT_MAGIC`: "virt" little-endian. */
export const VIRTIO_MMIO_MAGIC = 0x74726976;
/** `VIRT_VENDOR`: "QEMU" little-endian. */
export const VIRTIO_MMIO_VENDOR = 0x554d4551;

/**
 * An empty QEMU virtio-mmio transport slot (hw/virtio/virtio-mmio.c with no backend): magic,
 * version 1 (`force-legacy` defaults on) and vendor read back, everything else (device id
 * included) reads 0 and writes are ignored. Linux's virtio-mmio probe reads device id 0 and
 * gives up with `ENODEV`, so the slots stay unbound.
 */
export class VirtioMmioSlotModel extends QemuRegisterDevice {
  readonly name = 'virtio-mmio';
  readonly size = 0x200;

  // virtio_mmio_read() without a backend: a switch on the exact offset.
  protected readRegister(offset: number): number {
    if (offset === 0x000) return VIRTIO_MMIO_MAGIC;
    if (offset === 0x004) return 1;
    if (offset === 0x00c) return VIRTIO_MMIO_VENDOR;
    return 0;
  }

  protected writeRegister(): void {}
}
