import type { DmaPort, Iova } from '@vfiokit/core';
import * as R from './bcm-flexrm-regs.js';

/** What a ring needs from the controller: the bus port and where its MSIs go. */
export interface FlexRmRingHost {
  readonly dma: DmaPort;
  /** Called after the ring wrote its MSI (the write itself goes through `dma`). */
  msiSent(ring: number): void;
}

const TWO_32 = 0x1_0000_0000;

/** A 64-bit descriptor as its two little-endian 32-bit halves. */
interface Descriptor {
  readonly lo: number;
  readonly hi: number;
}

function type(d: Descriptor): number {
  return d.hi >>> 28;
}
function toggle(d: Descriptor): number {
  return (d.hi >>> 26) & 1;
}
/** SRC/DST/NPTR address field (bits 43:0). */
function address(d: Descriptor): number {
  return (d.hi & 0xfff) * TWO_32 + d.lo;
}
/** SRC/DST length field (bits 59:44). */
function length(d: Descriptor): number {
  return (d.hi >>> 12) & 0xffff;
}

/**
 * One FlexRM ring: its registers and the engine behind them.
 *
 * While RING_CONTROL has ACTIVE (and not FLUSH) the ring fetches the descriptor at its BD read
 * pointer through the DMA port: one request per microsecond while there are requests, and
 * every `idlePollMicroseconds` (a model constant, not from silicon) while it waits, so an
 * active ring is never silent on the bus, as a polling engine is not. A HEADER whose toggle bit matches the ring's expected
 * toggle is a request: its BDCOUNT following SRC/DST descriptors are gathered, the SRC bytes
 * are copied to the DST buffers (the offload engine is modelled as a copy), a completion
 * descriptor carrying the header's opaque id is written to the completion ring, and, with
 * RING_MSI_CONTROL.ENABLE, an MSI (RING_MSI_DATA_VALUE written to RING_MSI_ADDR) follows every
 * `threshold` completions. An NPTR with the expected toggle moves the read pointer and flips
 * the toggle (bcm-flexrm-mailbox.c builds the ring from these); anything else waits.
 *
 * RING_CONTROL ← FLUSH stops the ring and, after `flushMicroseconds`, sets RING_FLUSH_DONE and
 * empties the ring (read/write pointers and the outstanding count back to 0, toggle back to 1);
 * clearing FLUSH clears RING_FLUSH_DONE after the same time. The pointer reset is a model
 * choice: bcm-flexrm-mailbox.c re-reads the pointers after a flush instead of assuming them.
 * RING_NUM_REQ_RECV/TRANS count requests and clear when read (the driver reads them "to clear").
 */
export class FlexRmRing {
  control = 0;
  bdStart = 0;
  cmplStart = 0;
  msiAddrLs = 0;
  msiAddrMs = 0;
  msiControl = 0;
  msiData = 0;
  bdReadPtrDdrControl = 0;
  bdRead = 0;
  cmplWrite = 0;
  received = 0;
  transmitted = 0;
  outstanding = 0;
  flushDone = false;
  private flushLeft = 0;
  private expectedToggle = 1;
  private sinceMsi = 0;
  private idleWait = 0;

  constructor(
    readonly id: number,
    private readonly host: FlexRmRingHost,
    private readonly flushMicroseconds: number,
    private readonly idlePollMicroseconds: number,
  ) {}

  /** Power-on state. */
  powerOn(): void {
    this.control = 0;
    this.bdStart = 0;
    this.cmplStart = 0;
    this.msiAddrLs = 0;
    this.msiAddrMs = 0;
    this.msiControl = 0;
    this.msiData = 0;
    this.bdReadPtrDdrControl = 0;
    this.received = 0;
    this.transmitted = 0;
    this.flushDone = false;
    this.flushLeft = 0;
    this.empty();
  }

  /** Whether the engine fetches descriptors (ACTIVE and not flushing). */
  get active(): boolean {
    return (this.control & R.CONTROL_ACTIVE) !== 0 && (this.control & R.CONTROL_FLUSH) === 0;
  }

  /** Whether a flush (or its clearing) is still under way. */
  get flushing(): boolean {
    return this.flushLeft > 0;
  }

  get msiEnabled(): boolean {
    return ((this.msiControl >>> R.MSI_ENABLE_SHIFT) & 1) !== 0;
  }

  writeControl(value: number): void {
    const wasFlush = (this.control & R.CONTROL_FLUSH) !== 0;
    this.control = value >>> 0;
    const flush = (this.control & R.CONTROL_FLUSH) !== 0;
    if (flush !== wasFlush) {
      this.flushLeft = this.flushMicroseconds;
      if (this.flushLeft === 0) this.finishFlush();
    }
  }

  /**
   * `microseconds` of ring time: a flush counts down, an active ring handles one descriptor per
   * microsecond and waits `idlePollMicroseconds` after a fetch that found no request. Waits are
   * skipped in one step, so long delays cost nothing while nothing happens.
   */
  advance(microseconds: number): void {
    let left = microseconds;
    while (left > 0) {
      if (this.flushLeft > 0) {
        const n = Math.min(left, this.flushLeft);
        this.flushLeft -= n;
        left -= n;
        if (this.flushLeft === 0) this.finishFlush();
        continue;
      }
      if (!this.active) return;
      if (this.idleWait > 0) {
        const n = Math.min(left, this.idleWait);
        this.idleWait -= n;
        left -= n;
        continue;
      }
      left--;
      if (!this.fetchAndRun()) this.idleWait = this.idlePollMicroseconds - 1;
    }
  }

  private finishFlush(): void {
    if ((this.control & R.CONTROL_FLUSH) !== 0) {
      this.flushDone = true;
      this.empty();
    } else {
      this.flushDone = false;
    }
  }

  private empty(): void {
    this.bdRead = 0;
    this.cmplWrite = 0;
    this.outstanding = 0;
    this.expectedToggle = 1;
    this.sinceMsi = 0;
    this.idleWait = 0;
  }

  private bdBase(): number {
    return (this.bdStart & 0x0fff_ffff) * 2 ** R.RING_BD_ALIGN_ORDER;
  }

  private readDescriptor(index: number): Descriptor | null {
    const bytes = new Uint8Array(R.RING_DESC_SIZE);
    const at = this.bdBase() + (index % R.RING_BD_DESC_COUNT) * R.RING_DESC_SIZE;
    if (this.host.dma.read(at as Iova, bytes) !== null) return null;
    const view = new DataView(bytes.buffer);
    return { lo: view.getUint32(0, true), hi: view.getUint32(4, true) };
  }

  /** The descriptor at `index`, following valid NPTRs (each flips the expected toggle). */
  private follow(index: number): { at: number; descriptor: Descriptor } | null {
    let at = index;
    for (let hops = 0; hops < 4; hops++) {
      const descriptor = this.readDescriptor(at);
      if (descriptor === null) return null;
      if (type(descriptor) !== R.NPTR_TYPE || toggle(descriptor) !== this.expectedToggle)
        return { at, descriptor };
      const next = (address(descriptor) - this.bdBase()) / R.RING_DESC_SIZE;
      if (!Number.isInteger(next) || next < 0 || next >= R.RING_BD_DESC_COUNT) return null;
      this.expectedToggle ^= 1;
      at = next;
    }
    return null;
  }

  /** Handles the descriptor at the read pointer; false when there was no request to run. */
  private fetchAndRun(): boolean {
    const head = this.follow(this.bdRead);
    if (head === null) return false;
    this.bdRead = head.at;
    const { descriptor } = head;
    if (type(descriptor) !== R.HEADER_TYPE || toggle(descriptor) !== this.expectedToggle) return false;
    const count = (descriptor.hi >>> 4) & 0x1f;
    const opaque = descriptor.lo & 0xffff;
    this.received++;
    this.outstanding++;
    const sources: Descriptor[] = [];
    const destinations: Descriptor[] = [];
    let at = head.at + 1;
    for (let i = 0; i < count; i++) {
      const next = this.follow(at);
      if (next === null) break;
      if (type(next.descriptor) === R.SRC_TYPE) sources.push(next.descriptor);
      else if (type(next.descriptor) === R.DST_TYPE) destinations.push(next.descriptor);
      at = next.at + 1;
    }
    const dme = this.copy(sources, destinations);
    this.bdRead = at % R.RING_BD_DESC_COUNT;
    this.complete(opaque, dme);
    return true;
  }

  /** Copies the SRC buffers into the DST buffers; returns the DME status bits. */
  private copy(sources: readonly Descriptor[], destinations: readonly Descriptor[]): number {
    const chunks: Uint8Array[] = [];
    for (const source of sources) {
      const into = new Uint8Array(length(source));
      if (this.host.dma.read(address(source) as Iova, into) !== null) return R.DME_STATUS_RRESP_ERR;
      chunks.push(into);
    }
    const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const chunk of chunks) {
      data.set(chunk, offset);
      offset += chunk.length;
    }
    let taken = 0;
    for (const destination of destinations) {
      const part = data.subarray(taken, Math.min(data.length, taken + length(destination)));
      if (part.length === 0) break;
      if (this.host.dma.write(address(destination) as Iova, part) !== null) return R.DME_STATUS_BRESP_ERR;
      taken += part.length;
    }
    return 0;
  }

  private complete(opaque: number, dme: number): void {
    const entry = new Uint8Array(R.RING_DESC_SIZE);
    const view = new DataView(entry.buffer);
    view.setUint32(0, opaque, true);
    view.setUint32(4, dme, true);
    const base = (this.cmplStart & 0x07ff_ffff) * 2 ** R.RING_CMPL_ALIGN_ORDER;
    this.host.dma.write((base + this.cmplWrite * R.RING_DESC_SIZE) as Iova, entry);
    this.cmplWrite = (this.cmplWrite + 1) % R.RING_CMPL_DESC_COUNT;
    this.transmitted++;
    this.outstanding--;
    if (!this.msiEnabled) return;
    this.sinceMsi++;
    if (this.sinceMsi < Math.max(1, this.msiControl & R.MSI_COUNT_MASK)) return;
    this.sinceMsi = 0;
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, this.msiData, true);
    // Bus addresses are 44 bits wide (the descriptors' address fields); higher MS bits are not driven.
    this.host.dma.write(((this.msiAddrMs & 0xfff) * TWO_32 + this.msiAddrLs) as Iova, data);
    this.host.msiSent(this.id);
  }

  /** The register at `offset` inside the ring window (reading the request counters clears them). */
  read(offset: number, consume: boolean): number {
    switch (offset) {
      case R.RING_VER:
        return R.RING_VER_MAGIC;
      case R.RING_BD_START_ADDR:
        return this.bdStart;
      case R.RING_BD_READ_PTR:
      case R.RING_BD_WRITE_PTR:
        return this.bdRead;
      case R.RING_CMPL_START_ADDR:
        return this.cmplStart;
      case R.RING_CMPL_WRITE_PTR:
        return this.cmplWrite;
      case R.RING_NUM_REQ_RECV_LS: {
        const value = this.received;
        if (consume) this.received = 0;
        return value >>> 0;
      }
      case R.RING_NUM_REQ_TRANS_LS: {
        const value = this.transmitted;
        if (consume) this.transmitted = 0;
        return value >>> 0;
      }
      case R.RING_NUM_REQ_OUTSTAND:
        return this.outstanding;
      case R.RING_CONTROL:
        return this.control;
      case R.RING_FLUSH_DONE:
        return this.flushDone ? R.FLUSH_DONE_MASK : 0;
      case R.RING_MSI_ADDR_LS:
        return this.msiAddrLs;
      case R.RING_MSI_ADDR_MS:
        return this.msiAddrMs;
      case R.RING_MSI_CONTROL:
        return this.msiControl;
      case R.RING_BD_READ_PTR_DDR_CONTROL:
        return this.bdReadPtrDdrControl;
      case R.RING_MSI_DATA_VALUE:
        return this.msiData;
      default:
        return 0;
    }
  }

  write(offset: number, value: number): void {
    const v = value >>> 0;
    switch (offset) {
      case R.RING_BD_START_ADDR:
        this.bdStart = v & 0x0fff_ffff;
        return;
      case R.RING_CMPL_START_ADDR:
        this.cmplStart = v & 0x07ff_ffff;
        return;
      case R.RING_CONTROL:
        this.writeControl(v);
        return;
      case R.RING_MSI_ADDR_LS:
        this.msiAddrLs = v;
        return;
      case R.RING_MSI_ADDR_MS:
        this.msiAddrMs = v;
        return;
      case R.RING_MSI_CONTROL:
        this.msiControl = v;
        return;
      case R.RING_BD_READ_PTR_DDR_CONTROL:
        this.bdReadPtrDdrControl = v;
        return;
      case R.RING_MSI_DATA_VALUE:
        this.msiData = v;
        return;
      default:
        // Pointers, counters, VER and FLUSH_DONE are read-only.
        return;
    }
  }
}
