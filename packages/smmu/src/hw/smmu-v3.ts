import {
  type AccessSize,
  EventEmitter,
  type IommuAccess,
  type IommuFault,
  type IommuFaultKind,
  type Iova,
  isKernelError,
  KernelError,
  type MmioDevice,
  type PhysAddr,
  type PhysicalMemory,
  rejectUnknownOptions,
} from '@vfiokit/core';
import { Iotlb, type IotlbEntry, iotlbTag } from './iotlb.js';
import * as R from './smmu-v3-regs.js';
import {
  granuleBitsOfTg0,
  outputBitsOfPs,
  PERM_PRIV_READ,
  PERM_PRIV_WRITE,
  PERM_READ,
  PERM_WRITE,
  stage1StartLevel,
  stage2StartLevel,
  TableWalker,
  WALK_ACCESS_FLAG,
  WALK_ADDRESS_SIZE,
  WALK_OK,
  type WalkRegime,
} from './table-walker.js';

/** Options of an {@link ArmSmmuV3}. */
export interface ArmSmmuV3Options {
  readonly memory: PhysicalMemory;
  /** IDR1.SIDSIZE (default 16). */
  readonly streamIdBits?: number;
  /** IDR0.ST_LVL: whether 2-level stream tables are supported (default true). */
  readonly twoLevelStreamTable?: boolean;
  /** IDR0.COHACC: coherent table walks and queue accesses (the node's `dma-coherent`). */
  readonly coherent?: boolean;
}

/** Events of an SMMUv3: its interrupt outputs. */
export interface ArmSmmuV3Events {
  /** The event queue interrupt: a record was written with IRQ_CTRL.EVTQ_IRQEN set. */
  'evtq-irq': [];
  /** The global error interrupt (GERROR differs from GERRORN, IRQ_CTRL.GERROR_IRQEN). */
  'gerror-irq': [];
  /** A CMD_SYNC completed (its CS field: 0 none, 1 IRQ, 2 SEV). */
  'cmd-sync': [cs: number];
}

type RouteKind = 'abort' | 'bypass' | 'translate';

interface StreamRoute {
  readonly kind: RouteKind;
  readonly regime: WalkRegime;
  readonly tag: number;
  readonly asid: number;
  readonly vmid: number;
  readonly stage: 1 | 2;
  /** CD.R / STE.S2R: faults are recorded in the event queue. */
  readonly record: boolean;
}

// Why a stream has no route: the event to record.
interface BadConfig {
  readonly event: number;
  readonly reason: string;
}

const NO_REGIME: WalkRegime = {
  stage: 1,
  ttb: 0,
  granuleBits: 12,
  inputBits: 48,
  startLevel: 0,
  outputBits: 48,
};

/**
 * An Arm SMMUv3 as hardware: programmed through its registers (`MmioDevice`, register pages
 * 0 and 1, 128 KiB) and the structures they point at in `PhysicalMemory` — a linear or
 * 2-level stream table of STEs, context descriptors, the command queue it consumes when
 * CMDQ_PROD is written, and the event queue it fills. A transaction of a stream ID walks
 * STE → CD → TTB0 (stage 1) or STE → S2TTB (stage 2); STEs and CDs are cached until a
 * CMD_CFGI_* names them, translations in an {@link Iotlb} until a CMD_TLBI_* does. Faults
 * are event records in the spec's layout (F_TRANSLATION, F_ADDR_SIZE, F_ACCESS,
 * F_PERMISSION when CD.R/STE.S2R ask for them; C_BAD_STREAMID, C_BAD_STE, C_BAD_CD always)
 * with the eventq interrupt; the master gets the fault back, nothing is thrown.
 *
 * Not modelled: substreams (S1CDMAX must be 0), nested translation, ATS/PRI, stalls, MSIs
 * other than a CMD_SYNC's completion write, range invalidation capability (IDR3.RIL = 0).
 */
export class ArmSmmuV3 extends EventEmitter<ArmSmmuV3Events> implements MmioDevice {
  readonly name = 'smmu-v3';
  readonly size = 0x2_0000;
  readonly iotlb: Iotlb = new Iotlb();
  private readonly memory: PhysicalMemory;
  private readonly walker: TableWalker;
  private readonly streamIdBits: number;
  private readonly twoLevel: boolean;
  private readonly coherent: boolean;
  private readonly regs = new Map<number, number>();
  private readonly routes = new Map<number, StreamRoute>();
  private lastSid = -1;
  private lastRoute: StreamRoute | undefined;
  private readonly dword = new Uint8Array(8);
  private lostEvents = 0;

  constructor(options: ArmSmmuV3Options) {
    super();
    rejectUnknownOptions(options, ['memory', 'streamIdBits', 'twoLevelStreamTable', 'coherent'], 'ArmSmmuV3');
    this.memory = options.memory;
    this.walker = new TableWalker(options.memory);
    const bits = options.streamIdBits ?? 16;
    if (!Number.isInteger(bits) || bits < 0 || bits > 32) {
      throw new KernelError('EINVAL', `ArmSmmuV3: streamIdBits ${String(bits)} is not between 0 and 32`);
    }
    this.streamIdBits = bits;
    this.twoLevel = options.twoLevelStreamTable ?? true;
    this.coherent = options.coherent ?? false;
  }

  /** Event records dropped because the queue was disabled or full. */
  get droppedEvents(): number {
    return this.lostEvents;
  }

  read(offset: number, size: AccessSize): number {
    this.checkAccess(offset, size);
    const word = this.readWord(offset - (offset % 4));
    const shift = (offset % 4) * 8;
    return size === 4 ? word >>> 0 : (word >>> shift) & (size === 1 ? 0xff : 0xffff);
  }

  write(offset: number, size: AccessSize, value: number): void {
    this.checkAccess(offset, size);
    const aligned = offset - (offset % 4);
    if (size === 4) {
      this.writeWord(aligned, value >>> 0);
      return;
    }
    const shift = (offset % 4) * 8;
    const mask = (size === 1 ? 0xff : 0xffff) << shift;
    this.writeWord(aligned, ((this.readWord(aligned) & ~mask) | ((value << shift) & mask)) >>> 0);
  }

  /** One transaction of stream `streamId`: the address it reaches or its (recorded) fault. */
  translate(streamId: number, iova: Iova, access: IommuAccess, privileged = false): PhysAddr | IommuFault {
    let route = this.lastRoute;
    if (streamId !== this.lastSid || route === undefined) {
      if ((this.reg(R.CR0) & R.CR0_SMMUEN) === 0) {
        if ((this.reg(R.GBPA) & R.GBPA_ABORT) !== 0) {
          return { kind: 'blocked', iova, access, reason: 'SMMU disabled with GBPA.ABORT' };
        }
        return iova as number as PhysAddr;
      }
      route = this.routes.get(streamId);
      if (route === undefined) {
        const found = this.fetchConfigOrAbort(streamId);
        if (!('kind' in found)) {
          this.recordEvent(found.event, streamId, 0, 0, 0);
          return {
            kind: 'blocked',
            iova,
            access,
            reason: `stream 0x${streamId.toString(16)}: ${found.reason}`,
          };
        }
        route = found;
        this.routes.set(streamId, route);
      }
      this.lastSid = streamId;
      this.lastRoute = route;
    }
    if (route.kind === 'translate') {
      const entry = this.iotlb.lookup(route.tag, iova);
      if (entry !== undefined) {
        const need =
          access === 'read'
            ? privileged
              ? PERM_PRIV_READ
              : PERM_READ
            : privileged
              ? PERM_PRIV_WRITE
              : PERM_WRITE;
        if ((entry.perms & need) !== 0) return (entry.outputBase + (iova - entry.iovaBase)) as PhysAddr;
        return this.fault(route, streamId, iova, access, privileged, R.EVT_ID_PERMISSION_FAULT);
      }
      return this.walk(route, streamId, iova, access, privileged);
    }
    if (route.kind === 'bypass') return iova as number as PhysAddr;
    return {
      kind: 'blocked',
      iova,
      access,
      reason: `stream 0x${streamId.toString(16)}: STE.Config is abort`,
    };
  }

  private walk(
    route: StreamRoute,
    streamId: number,
    iova: Iova,
    access: IommuAccess,
    privileged: boolean,
  ): PhysAddr | IommuFault {
    const regime = route.regime;
    if (iova >= 2 ** 48)
      return this.fault(route, streamId, iova, access, privileged, R.EVT_ID_ADDR_SIZE_FAULT);
    if (iova >= 2 ** regime.inputBits || regime.ttb < 0) {
      return this.fault(route, streamId, iova, access, privileged, R.EVT_ID_TRANSLATION_FAULT);
    }
    const w = this.walker;
    const status = w.walk(regime, iova);
    if (status !== WALK_OK) {
      const event =
        status === WALK_ADDRESS_SIZE
          ? R.EVT_ID_ADDR_SIZE_FAULT
          : status === WALK_ACCESS_FLAG
            ? R.EVT_ID_ACCESS_FAULT
            : R.EVT_ID_TRANSLATION_FAULT;
      return this.fault(route, streamId, iova, access, privileged, event);
    }
    const iovaBase = iova - (iova % w.blockSize);
    const entry: IotlbEntry = {
      iovaBase,
      size: w.blockSize,
      outputBase: w.outputBase,
      perms: w.perms,
      asid: route.asid,
      vmid: route.vmid,
      stage: route.stage,
    };
    this.iotlb.insert(route.tag, entry);
    const need =
      access === 'read'
        ? privileged
          ? PERM_PRIV_READ
          : PERM_READ
        : privileged
          ? PERM_PRIV_WRITE
          : PERM_WRITE;
    if ((w.perms & need) === 0)
      return this.fault(route, streamId, iova, access, privileged, R.EVT_ID_PERMISSION_FAULT);
    return (w.outputBase + (iova - iovaBase)) as PhysAddr;
  }

  private fault(
    route: StreamRoute,
    streamId: number,
    iova: Iova,
    access: IommuAccess,
    privileged: boolean,
    event: number,
  ): IommuFault {
    if (route.record) {
      // Doubleword 1: RnW, PnU, S2, CLASS = IN; doubleword 3: the IPA of a stage-2 fault.
      const dw1Hi =
        (access === 'read' ? R.EVTQ_1_HI_RNW : 0) |
        (privileged ? R.EVTQ_1_HI_PNU : 0) |
        (route.stage === 2 ? R.EVTQ_1_HI_S2 : 0) |
        R.EVTQ_1_HI_CLASS_IN;
      this.recordEvent(event, streamId, dw1Hi, iova, route.stage === 2 ? iova - (iova % 0x1000) : 0);
    }
    const kind: IommuFaultKind =
      event === R.EVT_ID_PERMISSION_FAULT
        ? 'permission'
        : event === R.EVT_ID_ADDR_SIZE_FAULT
          ? 'address-size'
          : 'translation';
    const name =
      event === R.EVT_ID_PERMISSION_FAULT
        ? 'F_PERMISSION'
        : event === R.EVT_ID_ADDR_SIZE_FAULT
          ? 'F_ADDR_SIZE'
          : event === R.EVT_ID_ACCESS_FAULT
            ? 'F_ACCESS'
            : 'F_TRANSLATION';
    return {
      kind,
      iova,
      access,
      reason: `stream 0x${streamId.toString(16)}: ${name} at 0x${iova.toString(16)}`,
    };
  }

  // Writes one 32-byte record at EVTQ_PROD, or counts it lost (queue off or full).
  private recordEvent(id: number, streamId: number, dw1Hi: number, inputAddr: number, ipa: number): void {
    const cr0 = this.reg(R.CR0);
    const base = this.queueBase(R.EVTQ_BASE);
    const log2 = Math.min(this.reg(R.EVTQ_BASE) & 0x1f, 7);
    const prod = this.reg(R.EVTQ_PROD);
    const cons = this.reg(R.EVTQ_CONS);
    const mask = 2 ** (log2 + 1) - 1;
    const full = (prod & mask) !== (cons & mask) && (prod & (2 ** log2 - 1)) === (cons & (2 ** log2 - 1));
    if ((cr0 & R.CR0_EVTQEN) === 0 || full) {
      this.lostEvents++;
      if (full) this.regs.set(R.EVTQ_PROD, (prod ^ R.Q_OVERFLOW_FLAG) >>> 0);
      return;
    }
    const index = prod & (2 ** log2 - 1);
    const at = base + index * 32;
    const words = [
      id & 0xff,
      streamId >>> 0,
      0,
      dw1Hi >>> 0,
      inputAddr % 0x1_0000_0000,
      Math.floor(inputAddr / 0x1_0000_0000),
      ipa % 0x1_0000_0000,
      Math.floor(ipa / 0x1_0000_0000),
    ];
    for (let i = 0; i < 8; i++) this.memory.writeU32((at + i * 4) as PhysAddr, (words[i] ?? 0) >>> 0);
    const next = ((prod & mask) + 1) & mask;
    this.regs.set(R.EVTQ_PROD, ((prod & R.Q_OVERFLOW_FLAG) | next) >>> 0);
    if ((this.reg(R.IRQ_CTRL) & R.IRQ_CTRL_EVTQ_IRQEN) !== 0) this.emit('evtq-irq');
  }

  // An external abort while fetching the stream table is F_STE_FETCH.
  private fetchConfigOrAbort(streamId: number): StreamRoute | BadConfig {
    try {
      return this.fetchConfig(streamId);
    } catch (error) {
      if (!isKernelError(error)) throw error;
      return { event: R.EVT_ID_STE_FETCH, reason: `F_STE_FETCH (${error.message})` };
    }
  }

  // STE (and CD) fetch and decode for one stream.
  private fetchConfig(streamId: number): StreamRoute | BadConfig {
    const cfg = this.reg(R.STRTAB_BASE_CFG);
    const log2size = cfg & 0x3f;
    const split = (cfg >>> 6) & 0x1f;
    const fmt = (cfg >>> 16) & 3;
    if (streamId >= 2 ** Math.min(log2size, this.streamIdBits)) {
      return { event: R.EVT_ID_BAD_STREAMID, reason: 'C_BAD_STREAMID (beyond the stream table)' };
    }
    const base = this.addressOf(this.reg(R.STRTAB_BASE), this.reg(R.STRTAB_BASE + 4), 64);
    let ste: number;
    if (fmt === R.STRTAB_FMT_2LVL && this.twoLevel) {
      const l1 = this.readDword(base + Math.floor(streamId / 2 ** split) * 8);
      const span = l1.lo & 0x1f;
      const low = streamId % 2 ** split;
      if (span === 0 || low >= 2 ** (span - 1)) {
        return { event: R.EVT_ID_BAD_STREAMID, reason: 'C_BAD_STREAMID (no level-2 table)' };
      }
      ste = this.addressOf(l1.lo, l1.hi, 64) + low * 64;
    } else if (fmt === R.STRTAB_FMT_LINEAR) {
      ste = base + streamId * 64;
    } else {
      return { event: R.EVT_ID_BAD_STREAMID, reason: 'C_BAD_STREAMID (unsupported stream table format)' };
    }
    const dw0 = this.readDword(ste);
    if ((dw0.lo & 1) === 0) return { event: R.EVT_ID_BAD_STE, reason: 'C_BAD_STE (STE.V is 0)' };
    const config = (dw0.lo >>> 1) & 7;
    const dw2 = this.readDword(ste + 16);
    const vmid = dw2.lo & 0xffff;
    if (config === R.STE_CFG_ABORT) return this.simpleRoute('abort');
    if (config === R.STE_CFG_BYPASS) return this.simpleRoute('bypass');
    if (config === R.STE_CFG_S1_TRANS) {
      if (dw0.hi >>> 27 !== 0)
        return { event: R.EVT_ID_BAD_STE, reason: 'C_BAD_STE (substreams not modelled)' };
      const cdAddress = this.addressOf(dw0.lo, dw0.hi, 64);
      let cd0: { lo: number; hi: number };
      let cd1: { lo: number; hi: number };
      try {
        cd0 = this.readDword(cdAddress);
        cd1 = this.readDword(cdAddress + 8);
      } catch (error) {
        if (!isKernelError(error)) throw error;
        return { event: R.EVT_ID_CD_FETCH, reason: `F_CD_FETCH (${error.message})` };
      }
      if ((cd0.lo & (1 << 31)) === 0) return { event: R.EVT_ID_BAD_CD, reason: 'C_BAD_CD (CD.V is 0)' };
      const granuleBits = granuleBitsOfTg0((cd0.lo >>> 6) & 3);
      const aa64 = (cd0.hi & (1 << 9)) !== 0;
      const t0sz = cd0.lo & 0x3f;
      if (!aa64 || granuleBits === 0 || t0sz < 16)
        return { event: R.EVT_ID_BAD_CD, reason: 'C_BAD_CD (bad TCR fields)' };
      const inputBits = 64 - t0sz;
      const asid = cd0.hi >>> 16;
      const epd0 = (cd0.lo & (1 << 14)) !== 0;
      return {
        kind: 'translate',
        regime: {
          stage: 1,
          // EPD0 disables TTB0 walks: every address is a translation fault.
          ttb: epd0 ? -1 : this.addressOf(cd1.lo, cd1.hi, 16),
          granuleBits,
          inputBits,
          startLevel: stage1StartLevel(granuleBits, inputBits),
          outputBits: outputBitsOfPs(cd0.hi & 7),
        },
        tag: iotlbTag(vmid, 1, asid),
        asid,
        vmid,
        stage: 1,
        record: (cd0.hi & (1 << 13)) !== 0,
      };
    }
    if (config === R.STE_CFG_S2_TRANS) {
      const granuleBits = granuleBitsOfTg0((dw2.hi >>> 14) & 3);
      const t0sz = dw2.hi & 0x3f;
      if ((dw2.hi & (1 << 19)) === 0 || granuleBits === 0 || t0sz < 16) {
        return { event: R.EVT_ID_BAD_STE, reason: 'C_BAD_STE (bad stage-2 fields)' };
      }
      const dw3 = this.readDword(ste + 24);
      return {
        kind: 'translate',
        regime: {
          stage: 2,
          ttb: this.addressOf(dw3.lo, dw3.hi, 16),
          granuleBits,
          inputBits: 64 - t0sz,
          startLevel: stage2StartLevel(granuleBits, (dw2.hi >>> 6) & 3),
          outputBits: outputBitsOfPs((dw2.hi >>> 16) & 7),
        },
        tag: iotlbTag(vmid, 2, 0),
        asid: 0,
        vmid,
        stage: 2,
        record: (dw2.hi & (1 << 26)) !== 0,
      };
    }
    return { event: R.EVT_ID_BAD_STE, reason: `C_BAD_STE (STE.Config 0b${config.toString(2)})` };
  }

  private simpleRoute(kind: RouteKind): StreamRoute {
    return { kind, regime: NO_REGIME, tag: -1, asid: 0, vmid: 0, stage: 1, record: false };
  }

  // The command queue: consume from CONS up to PROD, stopping at an illegal command.
  private consumeCommands(): void {
    if ((this.reg(R.CR0) & R.CR0_CMDQEN) === 0) return;
    const base = this.queueBase(R.CMDQ_BASE);
    const log2 = Math.min(this.reg(R.CMDQ_BASE) & 0x1f, 8);
    const mask = 2 ** (log2 + 1) - 1;
    const prod = this.reg(R.CMDQ_PROD) & mask;
    let cons = this.reg(R.CMDQ_CONS);
    if (((cons >>> R.CMDQ_CONS_ERR_SHIFT) & 0x7f) !== 0) return; // Stopped on an error.
    let index = cons & mask;
    while (index !== prod) {
      const at = base + (index & (2 ** log2 - 1)) * 16;
      let error = 0;
      try {
        const d0 = this.readDword(at);
        const d1 = this.readDword(at + 8);
        if (!this.execute(d0.lo, d0.hi, d1.lo, d1.hi)) error = R.CMDQ_ERR_CERROR_ILL;
      } catch (fault) {
        if (!isKernelError(fault)) throw fault;
        error = R.CMDQ_ERR_CERROR_ABT; // An abort fetching the command.
      }
      if (error !== 0) {
        cons = ((error << R.CMDQ_CONS_ERR_SHIFT) | index) >>> 0;
        this.regs.set(R.CMDQ_CONS, cons);
        this.raiseGerror(R.GERROR_CMDQ_ERR);
        return;
      }
      index = (index + 1) & mask;
      this.regs.set(R.CMDQ_CONS, index);
    }
  }

  // Executes one command; false for an illegal one (CERROR_ILL).
  private execute(d0lo: number, d0hi: number, d1lo: number, d1hi: number): boolean {
    const opcode = d0lo & 0xff;
    const vmid = d0hi & 0xffff;
    const asid = d0hi >>> 16;
    switch (opcode) {
      case R.CMDQ_OP_PREFETCH_CFG:
        return true; // A hint: nothing to fetch ahead in a model.
      case R.CMDQ_OP_CFGI_STE:
      case R.CMDQ_OP_CFGI_CD:
      case R.CMDQ_OP_CFGI_CD_ALL:
        this.dropConfig(d0hi >>> 0, 1);
        return true;
      case R.CMDQ_OP_CFGI_ALL: {
        // CFGI_STE_RANGE: 2^(RANGE + 1) stream IDs; the kernel's CFGI_ALL is RANGE 31.
        const range = d1lo & 0x1f;
        const span = 2 ** (range + 1);
        if (range === 31) this.dropAllConfig();
        else this.dropConfig((d0hi >>> 0) - ((d0hi >>> 0) % span), span);
        return true;
      }
      case R.CMDQ_OP_TLBI_NH_ALL:
        this.iotlb.invalidate((e) => e.stage === 1 && e.vmid === vmid);
        return true;
      case R.CMDQ_OP_TLBI_NH_ASID:
        this.iotlb.invalidate((e) => e.stage === 1 && e.vmid === vmid && e.asid === asid);
        return true;
      case R.CMDQ_OP_TLBI_NH_VA:
        this.invalidateRange(d0lo, d1lo, d1hi, (e) => e.stage === 1 && e.vmid === vmid && e.asid === asid);
        return true;
      case R.CMDQ_OP_TLBI_S2_IPA:
        this.invalidateRange(d0lo, d1lo, d1hi, (e) => e.stage === 2 && e.vmid === vmid);
        return true;
      case R.CMDQ_OP_TLBI_S12_VMALL:
        this.iotlb.invalidate((e) => e.vmid === vmid);
        return true;
      case R.CMDQ_OP_TLBI_EL2_ALL:
        return true; // No EL2 (hypervisor) translations are ever cached here.
      case R.CMDQ_OP_TLBI_NSNH_ALL:
        this.iotlb.invalidateAll();
        return true;
      case R.CMDQ_OP_CMD_SYNC: {
        const cs = (d0lo >>> 12) & 3;
        const msiAddress = (d1hi & 0xfffff) * 0x1_0000_0000 + (d1lo >>> 0) - (d1lo % 4);
        // Completion is immediate; with CS = IRQ and an MSI address, MSIDATA is written there.
        if (cs === R.CMDQ_SYNC_0_CS_IRQ && msiAddress !== 0)
          this.memory.writeU32(msiAddress as PhysAddr, d0hi >>> 0);
        this.emit('cmd-sync', cs);
        return true;
      }
      default:
        return false;
    }
  }

  // TLBI by address: one VA (TG = 0), or NUM/SCALE pages of the TG granule.
  private invalidateRange(d0lo: number, d1lo: number, d1hi: number, match: (e: IotlbEntry) => boolean): void {
    const address = d1hi * 0x1_0000_0000 + (d1lo >>> 0) - (d1lo % 0x1000);
    const tg = (d1lo >>> 10) & 3;
    if (tg === 0) {
      this.iotlb.invalidateVa(address, match);
      return;
    }
    const num = (d0lo >>> 12) & 0x1f;
    const scale = (d0lo >>> 20) & 0x1f;
    const granule = tg === 1 ? 0x1000 : tg === 2 ? 0x4000 : 0x1_0000;
    const end = address + (num + 1) * 2 ** scale * granule;
    this.iotlb.invalidate((e) => match(e) && e.iovaBase < end && e.iovaBase + e.size > address);
  }

  private dropConfig(first: number, count: number): void {
    for (let sid = first; sid < first + count; sid++) this.routes.delete(sid);
    this.lastRoute = undefined;
    this.lastSid = -1;
  }

  private dropAllConfig(): void {
    this.routes.clear();
    this.lastRoute = undefined;
    this.lastSid = -1;
  }

  private raiseGerror(bit: number): void {
    const wasActive = this.reg(R.GERROR) !== this.reg(R.GERRORN);
    // GERROR bits toggle: an error is active while it differs from GERRORN.
    this.regs.set(R.GERROR, (this.reg(R.GERROR) ^ bit) >>> 0);
    if (!wasActive && (this.reg(R.IRQ_CTRL) & R.IRQ_CTRL_GERROR_IRQEN) !== 0) this.emit('gerror-irq');
  }

  private reg(offset: number): number {
    return this.regs.get(offset) ?? 0;
  }

  private queueBase(offset: number): number {
    return this.addressOf(this.reg(offset), this.reg(offset + 4), 32);
  }

  // Bits [51:log2(align)] of a 64-bit register or descriptor.
  private addressOf(lo: number, hi: number, align: number): number {
    return (hi & 0xfffff) * 0x1_0000_0000 + (lo >>> 0) - ((lo >>> 0) % align);
  }

  private readDword(address: number): { lo: number; hi: number } {
    const s = this.dword;
    this.memory.read(address as PhysAddr, s);
    return {
      lo: ((s[0] ?? 0) | ((s[1] ?? 0) << 8) | ((s[2] ?? 0) << 16) | ((s[3] ?? 0) << 24)) >>> 0,
      hi: ((s[4] ?? 0) | ((s[5] ?? 0) << 8) | ((s[6] ?? 0) << 16) | ((s[7] ?? 0) << 24)) >>> 0,
    };
  }

  private checkAccess(offset: number, size: AccessSize): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + size > this.size || offset % size !== 0) {
      throw new KernelError(
        'EFAULT',
        `smmu-v3: access of ${size} at 0x${offset.toString(16)} outside the registers`,
      );
    }
  }

  private readWord(offset: number): number {
    switch (offset) {
      case R.IDR0: {
        // ST_LVL, TTENDIAN little, TTF AArch64, COHACC, ASID16, VMID16, S1P, S2P.
        let id = (2 << 21) | (2 << 2) | (1 << 12) | (1 << 18) | (1 << 1) | (1 << 0);
        if (this.twoLevel) id |= 1 << 27;
        if (this.coherent) id |= 1 << 4;
        return id >>> 0;
      }
      case R.IDR1:
        // SIDSIZE, SSIDSIZE 0, EVTQS 7, CMDQS 8.
        return (this.streamIdBits | (7 << 16) | (8 << 21)) >>> 0;
      case R.IDR5:
        // OAS 48 bits, 4K/16K/64K granules, VAX 48-bit.
        return 5 | (1 << 4) | (1 << 5) | (1 << 6);
      case R.IDR2:
      case R.IDR3:
      case R.IDR4:
      case R.IIDR:
      case R.AIDR:
        return 0;
      case R.CR0ACK:
        return this.reg(R.CR0);
      case R.IRQ_CTRLACK:
        return this.reg(R.IRQ_CTRL);
    }
    return this.reg(offset);
  }

  private writeWord(offset: number, value: number): void {
    switch (offset) {
      case R.IDR0:
      case R.IDR1:
      case R.IDR2:
      case R.IDR3:
      case R.IDR4:
      case R.IDR5:
      case R.IIDR:
      case R.AIDR:
      case R.CR0ACK:
      case R.IRQ_CTRLACK:
      case R.GERROR:
      case R.STATUSR:
        return; // Read-only to software.
      case R.CMDQ_CONS:
      case R.EVTQ_PROD:
        // The SMMU's side of a queue: software may set it only while the queue is disabled
        // (arm_smmu_device_reset writes both before enabling).
        if ((this.reg(R.CR0) & (offset === R.CMDQ_CONS ? R.CR0_CMDQEN : R.CR0_EVTQEN)) === 0) {
          this.regs.set(offset, value);
        }
        return;
      case R.CR0:
        this.regs.set(R.CR0, value);
        this.dropAllConfig();
        this.consumeCommands();
        return;
      case R.GBPA:
        // An update takes effect at once; UPDATE reads back clear.
        this.regs.set(R.GBPA, (value & ~R.GBPA_UPDATE) >>> 0);
        this.dropAllConfig();
        return;
      case R.STRTAB_BASE:
      case R.STRTAB_BASE + 4:
      case R.STRTAB_BASE_CFG:
        this.regs.set(offset, value);
        this.dropAllConfig();
        return;
      case R.CMDQ_PROD:
        this.regs.set(R.CMDQ_PROD, value);
        this.consumeCommands();
        return;
      case R.EVTQ_CONS:
        this.regs.set(R.EVTQ_CONS, value);
        return;
      case R.GERRORN: {
        this.regs.set(R.GERRORN, value);
        // Acknowledging CMDQ_ERR (arm_smmu_cmdq_skip_err fixed the command) restarts the queue.
        if (((this.reg(R.GERROR) ^ value) & R.GERROR_CMDQ_ERR) === 0) {
          this.regs.set(R.CMDQ_CONS, this.reg(R.CMDQ_CONS) & ~(0x7f << R.CMDQ_CONS_ERR_SHIFT));
          this.consumeCommands();
        }
        return;
      }
    }
    this.regs.set(offset, value);
  }
}
