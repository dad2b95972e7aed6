import { describe, expect, it } from 'vitest';
import { dmaSandbox, SANDBOX_IOVA, UNMAPPED_IOVA } from '../testing/dma-sandbox.js';
import { AmdXgbeModel } from './amd-xgbe.js';
import { CalxedaXgmacModel } from './calxeda-xgmac.js';

function txDescriptor(flags: number, size: number, buffer: number): Uint8Array {
  const desc = new Uint8Array(32);
  const view = new DataView(desc.buffer);
  view.setUint32(0, flags >>> 0, true);
  view.setUint32(4, size, true);
  view.setUint32(8, buffer, true);
  return desc;
}

describe('CalxedaXgmacModel (drivers/net/ethernet/calxeda/xgmac.c descriptors)', () => {
  it('TX: transmits DMA-owned descriptors, hands them back (OWN cleared), raises TI|NIS, suspends on a CPU-owned one', () => {
    const sandbox = dmaSandbox();
    const model = new CalxedaXgmacModel({ dma: sandbox.dma });
    sandbox.writeIova(SANDBOX_IOVA + 0x4000, Uint8Array.of(1, 2, 3, 4));
    sandbox.writeIova(SANDBOX_IOVA, txDescriptor(0x8000_0000, 4, SANDBOX_IOVA + 0x4000));
    model.write(0xf10, 4, SANDBOX_IOVA);
    model.write(0x000, 4, 0x8); // TE
    model.write(0xf18, 4, 0x2000); // ST
    model.tick(5);
    expect(model.transmitted).toEqual([Uint8Array.of(1, 2, 3, 4)]);
    expect(new DataView(sandbox.readIova(SANDBOX_IOVA, 4).buffer).getUint32(0, true)).toBe(0);
    expect(model.read(0xf14, 4) & 0x1ffff).toBe(0x10000 | 0x4 | 0x1); // NIS | TU | TI
    expect((model.read(0xf14, 4) >>> 20) & 7).toBe(6); // TX suspended, as xgmac.c polls for
    expect(model.dmaActive()).toBe(false);
    expect(model.irqAsserted()).toBe(false);
    model.write(0xf1c, 4, 0x1); // TIE
    expect(model.irqAsserted()).toBe(true);
    model.write(0xf14, 4, 0x1ffff); // W1C
    expect(model.interruptsPending()).toBe(false);
  });

  it('a descriptor pointing at an unmapped IOVA is a fatal bus error: FBI|AIS and both engines stop', () => {
    const sandbox = dmaSandbox();
    const model = new CalxedaXgmacModel({ dma: sandbox.dma });
    sandbox.writeIova(SANDBOX_IOVA, txDescriptor(0x8000_0000, 4, UNMAPPED_IOVA));
    model.write(0xf10, 4, SANDBOX_IOVA);
    model.write(0xf18, 4, 0x2002);
    model.tick(2);
    expect(model.read(0xf14, 4) & 0xa000).toBe(0xa000);
    expect(model.dmaActive()).toBe(false);
  });

  it('RX: a frame lands in the next DMA-owned buffer only when RE and SR are set', () => {
    const sandbox = dmaSandbox();
    const model = new CalxedaXgmacModel({ dma: sandbox.dma });
    const rx = SANDBOX_IOVA + 0x1000;
    sandbox.writeIova(rx, txDescriptor(0x8000_0000, 64 | 0x8000, SANDBOX_IOVA + 0x8000));
    model.write(0xf0c, 4, rx);
    model.receiveFrame(Uint8Array.of(9, 9));
    expect(sandbox.dma.accesses).toBe(0);
    model.write(0x000, 4, 0x4);
    model.write(0xf18, 4, 0x2);
    model.receiveFrame(Uint8Array.of(7, 8, 9));
    expect(sandbox.readIova(SANDBOX_IOVA + 0x8000, 3)).toEqual(Uint8Array.of(7, 8, 9));
    expect(model.read(0xf14, 4) & 0x40).toBe(0x40);
  });

  it('DMA_BUS_MODE soft reset stops the engines at once and restores power-on when it completes', () => {
    const model = new CalxedaXgmacModel({ dma: dmaSandbox().dma, softResetMicroseconds: 2 });
    model.write(0x040, 4, 0x1234);
    model.write(0xf18, 4, 0x2002);
    model.write(0xf00, 4, 1);
    expect(model.read(0xf00, 4) & 1).toBe(1);
    expect(model.dmaActive()).toBe(false);
    model.tick(2);
    expect(model.read(0xf00, 4)).toBe(0);
    expect(model.read(0x040, 4)).toBe(0);
    expect(model.read(0xf18, 4)).toBe(0);
  });

  it('sub-word accesses read and merge bytes of the 32-bit register (vfio_platform_read_mmio issues 1/2/4-byte accesses)', () => {
    const model = new CalxedaXgmacModel({ dma: dmaSandbox().dma });
    model.write(0x044, 4, 0xaabbccdd);
    expect(model.read(0x045, 1)).toBe(0xcc);
    expect(model.read(0x046, 2)).toBe(0xaabb);
    model.write(0x045, 1, 0x11);
    expect(model.read(0x044, 4)).toBe(0xaabb11dd);
  });
});

describe('AmdXgbeModel (vfio_platform_amdxgbe.c xmdio_read/xmdio_write)', () => {
  it('reaches MMD registers through the PCS_MMD_SELECT window', () => {
    const model = new AmdXgbeModel({ dma: dmaSandbox().dma });
    const xpcs = model.regions[1]!;
    xpcs.write(0x3fc, 4, ((7 << 16) | 0x8001) >> 8); // AN, 0x80xx
    xpcs.write((0x8001 & 0xff) << 2, 4, 0x7); // AN_INTMASK
    xpcs.write(0x3fc, 4, 0x700);
    expect(xpcs.read(0, 4)).toBe(0x1000); // AN CTRL1 power-on: AN enabled
    model.autonegotiationEvent(0x4);
    expect(model.irqAsserted()).toBe(true);
    xpcs.write(0x3fc, 4, 0x780);
    xpcs.write((0x8002 & 0xff) << 2, 4, 0); // writing 0 clears AN_INT
    expect(model.irqAsserted()).toBe(false);
  });

  it('the PCS soft reset self-clears after its time and restores the PCS MMD', () => {
    const model = new AmdXgbeModel({ dma: dmaSandbox().dma, phyResetMicroseconds: 30 });
    const xpcs = model.regions[1]!;
    xpcs.write(0x3fc, 4, 0x300);
    xpcs.write(7 << 2, 4, 0x5); // PCS CTRL2
    xpcs.write(0, 4, 0x8000 | 0x2040);
    expect(xpcs.read(0, 4) & 0x8000).toBe(0x8000);
    model.tick(30);
    expect(xpcs.read(0, 4)).toBe(0x2040);
    expect(xpcs.read(7 << 2, 4)).toBe(0);
  });
});
