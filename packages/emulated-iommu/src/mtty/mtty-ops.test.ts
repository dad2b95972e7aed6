import type { Task } from '@vfiokit/vfio';
import {
  VFIO_DEVICE_GET_INFO,
  VFIO_DEVICE_GET_IRQ_INFO,
  VFIO_DEVICE_GET_REGION_INFO,
  vfioDeviceInfo,
  vfioIrqInfo,
  vfioRegionInfo,
} from '@vfiokit/vfio/uapi';
import { describe, expect, it } from 'vitest';
import { MttyDeviceOps } from './mtty-ops.js';

const task = {} as Task;
const err = (code: string): unknown => expect.objectContaining({ code });

function regionInfo(ops: MttyDeviceOps, index: number): { size: number; flags: number; offset: number } {
  const bytes = vfioRegionInfo.encode({ argsz: 32, flags: 0, index, cap_offset: 0, size: 0, offset: 0 });
  ops.ioctl(task, VFIO_DEVICE_GET_REGION_INFO, bytes);
  const out = vfioRegionInfo.decode(bytes);
  return { size: Number(out.size), flags: out.flags, offset: Number(out.offset) };
}

function irqInfo(ops: MttyDeviceOps, index: number): { flags: number; count: number } {
  const bytes = vfioIrqInfo.encode({ argsz: 16, flags: 0, index, count: 0 });
  ops.ioctl(task, VFIO_DEVICE_GET_IRQ_INFO, bytes);
  const out = vfioIrqInfo.decode(bytes);
  return { flags: out.flags, count: out.count };
}

function getInfo(ops: MttyDeviceOps): { flags: number; num_regions: number; num_irqs: number } {
  const bytes = vfioDeviceInfo.encodePrefix(
    { argsz: 16, flags: 0, num_regions: 0, num_irqs: 0 } as never,
    16,
  );
  ops.ioctl(task, VFIO_DEVICE_GET_INFO, bytes);
  return vfioDeviceInfo.decodePrefix(bytes, 16) as never;
}

describe('mtty vfio_device_ops (samples/vfio-mdev/mtty.c)', () => {
  it('GET_INFO: a PCI device with 9 regions and 5 IRQs', () => {
    expect(getInfo(new MttyDeviceOps(1))).toMatchObject({ flags: 0x2, num_regions: 9, num_irqs: 5 });
  });

  it('GET_IRQ_INFO checks the num_irqs of the last GET_INFO: EINVAL before one', () => {
    const ops = new MttyDeviceOps(2);
    expect(() => irqInfo(ops, 0)).toThrow(err('EINVAL'));
    getInfo(ops);
    expect(irqInfo(ops, 0)).toEqual({ flags: 0x7, count: 1 });
    expect(irqInfo(ops, 1)).toEqual({ flags: 0x9, count: 1 });
    for (const index of [2, 3, 4, 5]) expect(() => irqInfo(ops, index)).toThrow(err('EINVAL'));
  });

  it('GET_REGION_INFO: config 0xff, BAR0 8, BAR1 8 only with two ports, offsets index << 40', () => {
    const one = new MttyDeviceOps(1);
    const two = new MttyDeviceOps(2);
    expect(regionInfo(one, 0)).toEqual({ size: 8, flags: 0x3, offset: 0 });
    expect(regionInfo(one, 1).size).toBe(0);
    expect(regionInfo(two, 1)).toEqual({ size: 8, flags: 0x3, offset: 2 ** 40 });
    expect(regionInfo(two, 7)).toEqual({ size: 0xff, flags: 0x3, offset: 7 * 2 ** 40 });
    expect(regionInfo(two, 8).size).toBe(0);
    expect(() => regionInfo(two, 9)).toThrow(err('EINVAL'));
  });

  it('has no mmap (vfio_device_fops_mmap: EINVAL) and says so for unmodelled region access', () => {
    const ops = new MttyDeviceOps(1);
    expect(() =>
      ops.mmap(task, { start: 0, length: 4096, offset: 0, read: true, write: true, shared: true }),
    ).toThrow(err('EINVAL'));
    expect(() => ops.read(task, new Uint8Array(1), 0)).toThrow(err('EINVAL'));
  });
});

describe('mtty config space through read/write (mtty_read, mdev_access, handle_pci_cfg_write)', () => {
  const CFG = 7 * 2 ** 40;
  const read = (ops: MttyDeviceOps, at: number, n: number): string => {
    const buf = new Uint8Array(n);
    ops.read(task, buf, CFG + at);
    return Buffer.from(buf).toString('hex');
  };
  const write = (ops: MttyDeviceOps, at: number, hex: string): number =>
    ops.write(task, new Uint8Array(Buffer.from(hex, 'hex')), CFG + at);

  it('reads the IDs mtty_create_config_space builds', () => {
    const ops = new MttyDeviceOps(1);
    expect(read(ops, 0, 12)).toBe('484353320100000210020007');
    expect(read(ops, 0x60, 15)).toBe(Buffer.from('PCI Serial/UART').toString('hex'));
  });

  it('sizes BAR0 with all ones (I/O bit kept), zeroes BAR1 of a one-port device, BAR1 sized on two ports', () => {
    const one = new MttyDeviceOps(1);
    expect(write(one, 0x10, 'ffffffff')).toBe(4);
    expect(read(one, 0x10, 4)).toBe('f9ffffff');
    write(one, 0x14, 'ffffffff');
    expect(read(one, 0x14, 4)).toBe('00000000');
    const two = new MttyDeviceOps(2);
    write(two, 0x14, 'ffffffff');
    expect(read(two, 0x14, 4)).toBe('f9ffffff');
  });

  it('takes the interrupt line, ignores the pin and the IDs', () => {
    const ops = new MttyDeviceOps(1);
    write(ops, 0x3c, '0b');
    write(ops, 0x3d, '05');
    write(ops, 0x0, 'ffffffff');
    expect(read(ops, 0x3c, 2)).toBe('0b01');
    expect(read(ops, 0, 4)).toBe('48435332');
  });

  it('is EFAULT for regions mdev_access does not handle (ROM, VGA, past the last)', () => {
    const ops = new MttyDeviceOps(1);
    for (const index of [6, 8, 9])
      expect(() => ops.read(task, new Uint8Array(4), index * 2 ** 40)).toThrow(err('EFAULT'));
  });
});
