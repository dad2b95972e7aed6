/** `MTTY_CONFIG_SPACE_SIZE` (samples/vfio-mdev/mtty.c): the config region's size and vconfig's. */
export const MTTY_CONFIG_SPACE_SIZE = 0xff;
/** `MTTY_IO_BAR_SIZE`: each port's I/O BAR. */
export const MTTY_IO_BAR_SIZE = 0x8;

/**
 * mtty's emulated PCI config space (`mdev_state->vconfig`): built once at device init
 * (mtty_create_config_space — it survives close and reset) and written through
 * handle_pci_cfg_write, whose rules are reproduced: BAR0/BAR1 take an address (all ones sizes
 * them: `~MTTY_IO_BAR_SIZE + 1`) keeping their I/O bits, BAR1 of a one-port device and
 * BAR2–4 read back 0, the interrupt line is writable, every other field ignores writes.
 */
export class MttyConfigSpace {
  readonly bytes: Uint8Array = new Uint8Array(MTTY_CONFIG_SPACE_SIZE);
  private readonly nrPorts: 1 | 2;
  private readonly barMask = [0, 0];

  constructor(nrPorts: 1 | 2) {
    this.nrPorts = nrPorts;
    const v = this.bytes;
    const le32 = (at: number, value: number): void => {
      for (let i = 0; i < 4; i++) v[at + i] = (value >>> (8 * i)) & 0xff;
    };
    le32(0x0, 0x32534348); // vendor 0x4348, device 0x3253
    v[0x4] = 0x01; // command: I/O+
    v[0x7] = 0x02; // status 0x0200
    v[0x8] = 0x10; // revision
    v[0x9] = 0x02; // prog-if: 16550-compatible
    v[0xb] = 0x07; // class: simple communication controller
    le32(0x10, 0x1); // BAR0: I/O space
    this.barMask[0] = (~MTTY_IO_BAR_SIZE + 1) >>> 0;
    if (nrPorts === 2) {
      le32(0x14, 0x1);
      this.barMask[1] = (~MTTY_IO_BAR_SIZE + 1) >>> 0;
    }
    le32(0x2c, 0x32534348); // subsystem
    v[0x3d] = 0x01; // interrupt pin INTA#
    for (const at of [0x40, 0x44, 0x48, 0x4c]) v[at] = 0x23;
    v[0x43] = 0x80;
    v.set(new TextEncoder().encode('PCI Serial/UART'), 0x60);
  }

  /**
   * One access's read (mdev_access: `memcpy(buf, vconfig + offset, count)`). The kernel does
   * not bound it; bytes past vconfig read here as 0 (slab memory there).
   */
  read(offset: number, count: number): Uint8Array {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = this.bytes[offset + i] ?? 0;
    return out;
  }

  /** One access's write (handle_pci_cfg_write, by the access's start offset). */
  write(offset: number, data: Uint8Array): void {
    const le32 = (at: number, value: number): void => {
      for (let i = 0; i < 4; i++) this.bytes[at + i] = (value >>> (8 * i)) & 0xff;
    };
    switch (offset) {
      case 0x3c:
        this.bytes[0x3c] = data[0] ?? 0;
        return;
      case 0x10:
      case 0x14: {
        const bar = offset === 0x10 ? 0 : 1;
        if (this.nrPorts === 1 && bar === 1) {
          le32(offset, 0);
          return;
        }
        // `*(u32 *)buf`: a narrower access reads past its buffer in the kernel; zeros here.
        let addr = 0;
        for (let i = 0; i < 4; i++) addr |= (data[i] ?? 0) << (8 * i);
        addr >>>= 0;
        if (addr === 0xffffffff) addr = (addr & (this.barMask[bar] ?? 0)) >>> 0;
        addr = (addr | ((this.bytes[offset] ?? 0) & 0x3)) >>> 0;
        le32(offset, addr);
        return;
      }
      case 0x18:
      case 0x1c:
      case 0x20:
        le32(offset, 0);
        return;
      default:
        // 0x04/0x06 "do nothing", 0x3d write-protected, the rest "not handled" (pr_info).
        return;
    }
  }
}
