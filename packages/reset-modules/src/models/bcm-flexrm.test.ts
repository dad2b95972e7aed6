import { describe, expect, it } from 'vitest';
import { dmaSandbox } from '../testing/dma-sandbox.js';
import {
  FLEXRM_CMPL_RING,
  FLEXRM_DATA,
  FLEXRM_MSI_TARGET,
  type FlexRmWorld,
  flexRmRequest,
} from '../testing/scenarios/bcm-flexrm.js';
import { FlexRmModel } from './bcm-flexrm.js';
import {
  CONTROL_FLUSH,
  RING_BD_READ_PTR,
  RING_CMPL_WRITE_PTR,
  RING_CONTROL,
  RING_FLUSH_DONE,
  RING_NUM_REQ_RECV_LS,
  RING_REGS_SIZE,
  RING_VER,
  RING_VER_MAGIC,
} from './bcm-flexrm-regs.js';

function world(options: { absentRings?: number[]; flushMicroseconds?: number } = {}): FlexRmWorld {
  const sandbox = dmaSandbox();
  return { model: new FlexRmModel({ dma: sandbox.dma, ...options }), dma: sandbox.dma, sandbox };
}

describe('FlexRmModel (brcm,iproc-flexrm-mbox; bcm-flexrm-mailbox.c register layout)', () => {
  it('RING_VER reads "v001" in every 64 KiB ring window, and 0 where no ring is', () => {
    const { model } = world({ absentRings: [2] });
    expect(model.size).toBe(4 * RING_REGS_SIZE);
    expect([0, 1, 2, 3].map((n) => model.read(n * RING_REGS_SIZE + RING_VER, 4))).toEqual([
      RING_VER_MAGIC,
      RING_VER_MAGIC,
      0,
      RING_VER_MAGIC,
    ]);
  });

  it('an active ring runs a HEADER/SRC/DST request: copies the data, writes the completion with the opaque id, sends the MSI', () => {
    const w = world();
    w.sandbox.writeIova(FLEXRM_DATA(1), Uint8Array.of(1, 2, 3, 4, 5));
    flexRmRequest(w, { ring: 1, length: 5, opaque: 0x1234, msi: true });
    w.model.tick(1);
    expect(w.sandbox.readIova(FLEXRM_DATA(1) + 0x1000, 5)).toEqual(Uint8Array.of(1, 2, 3, 4, 5));
    expect(w.sandbox.readIova(FLEXRM_CMPL_RING(1), 8)).toEqual(Uint8Array.of(0x34, 0x12, 0, 0, 0, 0, 0, 0));
    expect(w.sandbox.readIova(FLEXRM_MSI_TARGET, 4)).toEqual(Uint8Array.of(0x01, 0x01, 0, 0));
    expect(w.model.msis[1]).toBe(1);
    const ring = RING_REGS_SIZE;
    expect(w.model.read(ring + RING_BD_READ_PTR, 4)).toBe(3);
    expect(w.model.read(ring + RING_CMPL_WRITE_PTR, 4)).toBe(1);
    expect(w.model.read(ring + RING_NUM_REQ_RECV_LS, 4)).toBe(1);
    expect(w.model.read(ring + RING_NUM_REQ_RECV_LS, 4)).toBe(0); // read to clear
  });

  it('an active ring keeps polling its BD ring (a bus read every idlePollMicroseconds) until RING_CONTROL stops it', () => {
    const w = world();
    flexRmRequest(w, { ring: 0, length: 4, opaque: 1, msi: false });
    w.model.tick(1);
    w.dma.resetCount();
    w.model.tick(100);
    expect(w.dma.accesses).toBe(10);
    w.model.write(RING_CONTROL, 4, 0);
    w.dma.resetCount();
    w.model.tick(10);
    expect(w.dma.accesses).toBe(0);
  });

  it('FLUSH sets RING_FLUSH_DONE after the flush time and empties the ring; clearing FLUSH clears it after the same time', () => {
    const w = world({ flushMicroseconds: 3 });
    flexRmRequest(w, { ring: 0, length: 4, opaque: 1, msi: false });
    w.model.tick(1);
    w.model.write(RING_CONTROL, 4, CONTROL_FLUSH);
    expect(w.model.read(RING_FLUSH_DONE, 4)).toBe(0);
    w.model.tick(3);
    expect(w.model.read(RING_FLUSH_DONE, 4)).toBe(1);
    expect(w.model.read(RING_BD_READ_PTR, 4)).toBe(0);
    w.model.write(RING_CONTROL, 4, 0);
    expect(w.model.read(RING_FLUSH_DONE, 4)).toBe(1);
    w.model.tick(3);
    expect(w.model.read(RING_FLUSH_DONE, 4)).toBe(0);
  });

  it('a faulting source completes with the DME read-response error and writes nothing', () => {
    const w = world();
    flexRmRequest(w, { ring: 2, length: 8, opaque: 7, msi: false, badSource: true });
    w.model.tick(1);
    expect(w.sandbox.readIova(FLEXRM_CMPL_RING(2), 8)).toEqual(Uint8Array.of(7, 0, 0, 0, 0x10, 0, 0, 0));
    expect(w.sandbox.readIova(FLEXRM_DATA(2) + 0x1000, 8)).toEqual(new Uint8Array(8));
  });
});
