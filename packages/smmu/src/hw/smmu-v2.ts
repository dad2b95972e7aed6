import {
  type AccessSize,
  EventEmitter,
  type IommuAccess,
  type IommuFault,
  type IommuFaultKind,
  type Iova,
  KernelError,
  type MmioDevice,
  type PhysAddr,
  type PhysicalMemory,
  rejectUnknownOptions,
} from '@vfiokit/core';
import { Iotlb, type IotlbEntry, iotlbTag } from './iotlb.js';
import * as R from './smmu-v2-regs.js';
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

/** The SMMUv1/v2 implementations of the `arm,smmu` binding (arm-smmu.c `arm_smmu_of_match`). */
export type ArmSmmuModel = 'arm,smmu-v1' | 'arm,smmu-v2' | 'arm,mmu-400' | 'arm,mmu-401' | 'arm,mmu-500';

const MODELS: readonly ArmSmmuModel[] = [
  'arm,smmu-v1',
  'arm,smmu-v2',
  'arm,mmu-400',
  'arm,mmu-401',
  'arm,mmu-500',
];

/** Options of an {@link ArmSmmuV2}. */
export interface ArmSmmuV2Options {
  /** Where page tables are read and DMA goes. */
  readonly memory: PhysicalMemory;
  /** Default `arm,mmu-500`. */
  readonly model?: ArmSmmuModel;
  /** Context banks (1–128, default 8). */
  readonly contextBanks?: number;
  /** Stream match register groups (1–128, default 16). */
  readonly streamMatchGroups?: number;
  /** Stream ID bits, ID0.NUMSIDB (default 15). */
  readonly streamIdBits?: number;
  /** Coherent table walks, ID0.CTTW (the node's `dma-coherent`). */
  readonly coherentWalk?: boolean;
}

/** Events of an SMMUv2: its interrupt outputs, signalled when they assert. */
export interface ArmSmmuV2Events {
  /** The context interrupt of a context bank (FSR fault with SCTLR.CFIE). */
  'context-irq': [contextBank: number];
  /** The global fault interrupt (sGFSR with sCR0.GFIE). */
  'global-irq': [];
}

interface ContextBank {
  sctlr: number;
  actlr: number;
  tcr2: number;
  ttbr0Lo: number;
  ttbr0Hi: number;
  ttbr1Lo: number;
  ttbr1Hi: number;
  tcr: number;
  contextidr: number;
  mair0: number;
  mair1: number;
  fsr: number;
  farLo: number;
  farHi: number;
  fsynr0: number;
  fsynr1: number;
  // High words of 64-bit TLBI writes, taken when the low word is written.
  readonly tlbiHigh: Map<number, number>;
}

// A stream's resolved configuration, rebuilt after any configuration write.
interface StreamRoute {
  readonly kind: 'bypass' | 'fault' | 'translate' | 'unmatched' | 'conflict';
  readonly cb: number;
  readonly regime: WalkRegime;
  readonly tag: number;
  readonly asid: number;
  readonly vmid: number;
  readonly stage: 1 | 2;
}

const PAGE = 0x1000;
const NO_REGIME: WalkRegime = {
  stage: 1,
  ttb: 0,
  granuleBits: 12,
  inputBits: 32,
  startLevel: 1,
  outputBits: 32,
};

/**
 * An Arm SMMUv1/v2 (MMU-400, MMU-401, MMU-500) as hardware: programmed only through its
 * registers (`MmioDevice`), it matches a transaction's stream ID against the Stream Match
 * Registers (ID and mask), follows the S2CR to a context bank and walks that bank's page
 * tables (TTBR0/TCR, stage 1 or stage 2 by CBAR.TYPE) in `PhysicalMemory`. Translations are
 * cached in an {@link Iotlb} tagged by VMID/ASID and leave it only through the TLBI
 * registers. A fault is recorded, not thrown: FSR/FAR/FSYNR0 and CBFRSYNRA of the context
 * bank (with FSR.MULTI for a second fault) and its context interrupt, or sGFSR for an
 * unmatched stream; the master gets the fault back.
 *
 * Register layout: GR0 at page 0, GR1 at page 1, context bank n at page NUMPAGE + n, 4 KiB
 * pages. 64-bit registers are two 32-bit words; a 64-bit TLBI takes effect when its low
 * word is written (the kernel's hi-lo order for split writes). Not modelled: stall mode,
 * RAZ/WI on faults (every fault aborts the access), ATOS, AArch32 short descriptors;
 * SMMUv1 contexts read TCR with the AArch64 field layout, which the kernel's AArch32-L
 * values (4K granule, T0SZ 32) decode to the same 32-bit regime.
 */
export class ArmSmmuV2 extends EventEmitter<ArmSmmuV2Events> implements MmioDevice {
  readonly name: string;
  readonly size: number;
  readonly model: ArmSmmuModel;
  readonly iotlb: Iotlb = new Iotlb();
  readonly numContextBanks: number;
  readonly numStreamMatchGroups: number;
  private readonly memory: PhysicalMemory;
  private readonly walker: TableWalker;
  private readonly numPage: number;
  private readonly streamIdBits: number;
  private readonly coherentWalk: boolean;
  private readonly isV1: boolean;
  private scr0 = R.sCR0_CLIENTPD;
  private sacr = 0;
  private sgfsr = 0;
  private sgfsynr0 = 0;
  private sgfsynr1 = 0;
  private sgfarLo = 0;
  private sgfarHi = 0;
  private readonly smr: number[];
  private readonly s2cr: number[];
  private readonly cbar: number[];
  private readonly cbfrsynra: number[];
  private readonly cba2r: number[];
  private readonly banks: ContextBank[];
  private readonly routes = new Map<number, StreamRoute>();
  private lastSid = -1;
  private lastRoute: StreamRoute | undefined;

  constructor(options: ArmSmmuV2Options) {
    super();
    rejectUnknownOptions(
      options,
      ['memory', 'model', 'contextBanks', 'streamMatchGroups', 'streamIdBits', 'coherentWalk'],
      'ArmSmmuV2',
    );
    this.model = options.model ?? 'arm,mmu-500';
    if (!MODELS.includes(this.model))
      throw new KernelError('EINVAL', `unknown SMMU model ${String(this.model)}`);
    this.isV1 = this.model === 'arm,smmu-v1' || this.model === 'arm,mmu-400' || this.model === 'arm,mmu-401';
    this.name = this.model.slice(4);
    this.memory = options.memory;
    this.walker = new TableWalker(options.memory);
    this.numContextBanks = checkCount(options.contextBanks ?? 8, 128, 'contextBanks');
    this.numStreamMatchGroups = checkCount(options.streamMatchGroups ?? 16, 128, 'streamMatchGroups');
    this.streamIdBits = checkCount(options.streamIdBits ?? 15, 15, 'streamIdBits');
    this.coherentWalk = options.coherentWalk ?? false;
    let numPage = 2;
    while (numPage < this.numContextBanks) numPage *= 2;
    this.numPage = numPage;
    this.size = 2 * numPage * PAGE;
    this.smr = new Array<number>(this.numStreamMatchGroups).fill(0);
    // S2CR resets to FAULT so that nothing passes before the driver programs it.
    this.s2cr = new Array<number>(this.numStreamMatchGroups).fill(R.S2CR_TYPE_FAULT << 16);
    this.cbar = new Array<number>(this.numContextBanks).fill(0);
    this.cbfrsynra = new Array<number>(this.numContextBanks).fill(0);
    this.cba2r = new Array<number>(this.numContextBanks).fill(0);
    this.banks = Array.from({ length: this.numContextBanks }, () => ({
      sctlr: 0,
      actlr: 0,
      tcr2: 0,
      ttbr0Lo: 0,
      ttbr0Hi: 0,
      ttbr1Lo: 0,
      ttbr1Hi: 0,
      tcr: 0,
      contextidr: 0,
      mair0: 0,
      mair1: 0,
      fsr: 0,
      farLo: 0,
      farHi: 0,
      fsynr0: 0,
      fsynr1: 0,
      tlbiHigh: new Map<number, number>(),
    }));
  }

  /** Whether the context interrupt of `contextBank` is asserted (a level). */
  contextIrqAsserted(contextBank: number): boolean {
    const bank = this.banks[contextBank];
    return bank !== undefined && (bank.fsr & R.FSR_FAULT) !== 0 && (bank.sctlr & R.SCTLR_CFIE) !== 0;
  }

  /** Whether the global fault interrupt is asserted. */
  globalIrqAsserted(): boolean {
    return this.sgfsr !== 0 && (this.scr0 & R.sCR0_GFIE) !== 0;
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

  /**
   * One transaction of the master with `streamId` at `iova`: the physical address it
   * reaches, or the fault that terminated it (recorded in the registers first).
   */
  translate(streamId: number, iova: Iova, access: IommuAccess, privileged = false): PhysAddr | IommuFault {
    if ((this.scr0 & R.sCR0_CLIENTPD) !== 0) return iova as number as PhysAddr;
    let route = this.lastRoute;
    if (streamId !== this.lastSid || route === undefined) {
      route = this.routes.get(streamId);
      if (route === undefined) {
        route = this.resolve(streamId);
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
        return this.contextFault(route, streamId, iova, access, R.FSR_PF, 3, 'permission');
      }
      return this.walk(route, streamId, iova, access, privileged);
    }
    if (route.kind === 'bypass') return iova as number as PhysAddr;
    if (route.kind === 'fault') {
      return { kind: 'blocked', iova, access, reason: `stream 0x${streamId.toString(16)}: S2CR type FAULT` };
    }
    if (route.kind === 'unmatched' && (this.scr0 & R.sCR0_USFCFG) === 0) return iova as number as PhysAddr;
    return this.globalFault(streamId, iova, access, route.kind === 'unmatched' ? R.sGFSR_USF : R.sGFSR_SMCF);
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
      return this.contextFault(route, streamId, iova, access, R.FSR_ASF, 0, 'address-size');
    if (iova >= 2 ** regime.inputBits) {
      return this.contextFault(route, streamId, iova, access, R.FSR_TF, regime.startLevel, 'translation');
    }
    const w = this.walker;
    const status = w.walk(regime, iova);
    if (status !== WALK_OK) {
      const [bit, kind]: [number, IommuFaultKind] =
        status === WALK_ADDRESS_SIZE
          ? [R.FSR_ASF, 'address-size']
          : status === WALK_ACCESS_FLAG
            ? [R.FSR_AFF, 'translation']
            : [R.FSR_TF, 'translation'];
      return this.contextFault(route, streamId, iova, access, bit, w.level, kind);
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
      return this.contextFault(route, streamId, iova, access, R.FSR_PF, w.level, 'permission');
    return (w.outputBase + (iova - iovaBase)) as PhysAddr;
  }

  private contextFault(
    route: StreamRoute,
    streamId: number,
    iova: Iova,
    access: IommuAccess,
    bit: number,
    level: number,
    kind: IommuFaultKind,
  ): IommuFault {
    const bank = this.banks[route.cb];
    if (bank !== undefined) {
      const wasAsserted = this.contextIrqAsserted(route.cb);
      if ((bank.fsr & R.FSR_FAULT) !== 0) bank.fsr = (bank.fsr | R.FSR_MULTI) >>> 0;
      else {
        bank.fsr = bit;
        bank.farLo = iova % 0x1_0000_0000;
        bank.farHi = Math.floor(iova / 0x1_0000_0000);
        bank.fsynr0 = (access === 'write' ? R.FSYNR0_WNR : 0) | (level & 3);
        this.cbfrsynra[route.cb] = streamId & 0xffff;
      }
      if (!wasAsserted && this.contextIrqAsserted(route.cb)) this.emit('context-irq', route.cb);
    }
    return {
      kind,
      iova,
      access,
      reason: `context bank ${route.cb}: ${kind} fault at 0x${iova.toString(16)} (FSR 0x${bit.toString(16)})`,
    };
  }

  private globalFault(streamId: number, iova: Iova, access: IommuAccess, bit: number): IommuFault {
    const was = this.globalIrqAsserted();
    if (this.sgfsr !== 0) this.sgfsr = (this.sgfsr | (1 << 31)) >>> 0;
    else {
      this.sgfsr = bit;
      this.sgfarLo = iova % 0x1_0000_0000;
      this.sgfarHi = Math.floor(iova / 0x1_0000_0000);
      this.sgfsynr0 = access === 'write' ? 1 << 1 : 0;
      this.sgfsynr1 = streamId & 0xffff;
    }
    if (!was && this.globalIrqAsserted()) this.emit('global-irq');
    const what = bit === R.sGFSR_USF ? 'no stream match (USF)' : 'stream match conflict (SMCF)';
    return { kind: 'blocked', iova, access, reason: `stream 0x${streamId.toString(16)}: ${what}` };
  }

  // SMR matching and S2CR/CBAR decoding for one stream ID.
  private resolve(streamId: number): StreamRoute {
    const idMask = 2 ** this.streamIdBits - 1;
    let match = -1;
    for (let i = 0; i < this.numStreamMatchGroups; i++) {
      const smr = this.smr[i] ?? 0;
      if ((smr & R.SMR_VALID) === 0) continue;
      const id = smr & 0x7fff;
      const mask = (smr >>> 16) & 0x7fff;
      if (((id ^ streamId) & ~mask & idMask) !== 0) continue;
      if (match >= 0) return route('conflict');
      match = i;
    }
    if (match < 0) return route('unmatched');
    const s2cr = this.s2cr[match] ?? 0;
    const type = (s2cr >>> 16) & 3;
    if (type === R.S2CR_TYPE_BYPASS) return route('bypass');
    if (type !== R.S2CR_TYPE_TRANS) return route('fault');
    const cb = s2cr & 0xff;
    const bank = this.banks[cb];
    if (bank === undefined) return route('fault');
    if ((bank.sctlr & R.SCTLR_M) === 0) return { ...route('bypass'), cb };
    const cbar = this.cbar[cb] ?? 0;
    const cbType = (cbar >>> 16) & 3;
    const vmid = this.isV1 ? cbar & 0xff : (this.cba2r[cb] ?? 0) >>> 16 || cbar & 0xff;
    const tcr = bank.tcr;
    const granuleBits = granuleBitsOfTg0((tcr >>> 14) & 3) || 12;
    const t0sz = tcr & 0x3f;
    const inputBits = Math.min(48, 64 - t0sz);
    const ttb = (bank.ttbr0Hi & 0xffff) * 0x1_0000_0000 + (bank.ttbr0Lo >>> 0) - (bank.ttbr0Lo % 16);
    if (cbType === R.CBAR_TYPE_S1_TRANS_S2_BYPASS) {
      const outputBits = this.isV1 ? 40 : outputBitsOfPs(bank.tcr2 & 0xf);
      const asid = bank.ttbr0Hi >>> 16;
      return {
        kind: 'translate',
        cb,
        regime: {
          stage: 1,
          ttb,
          granuleBits,
          inputBits,
          startLevel: stage1StartLevel(granuleBits, inputBits),
          outputBits,
        },
        tag: iotlbTag(vmid, 1, asid),
        asid,
        vmid,
        stage: 1,
      };
    }
    if (cbType === R.CBAR_TYPE_S2_TRANS) {
      const sl0 = (tcr >>> 6) & 3;
      return {
        kind: 'translate',
        cb,
        regime: {
          stage: 2,
          ttb,
          granuleBits,
          inputBits,
          startLevel: stage2StartLevel(granuleBits, sl0),
          outputBits: outputBitsOfPs((tcr >>> 16) & 7),
        },
        tag: iotlbTag(vmid, 2, 0),
        asid: 0,
        vmid,
        stage: 2,
      };
    }
    // Nested and S1-with-S2-fault banks are not modelled: the stream is refused.
    return { ...route('fault'), cb };
  }

  private configChanged(): void {
    this.routes.clear();
    this.lastRoute = undefined;
    this.lastSid = -1;
  }

  private checkAccess(offset: number, size: AccessSize): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + size > this.size || offset % size !== 0) {
      throw new KernelError(
        'EFAULT',
        `${this.name}: access of ${size} at 0x${offset.toString(16)} outside the registers`,
      );
    }
  }

  private readWord(offset: number): number {
    const page = Math.floor(offset / PAGE);
    const at = offset % PAGE;
    if (page === 0) return this.readGr0(at);
    if (page === 1) return this.readGr1(at);
    const bank = this.banks[page - this.numPage];
    return bank === undefined ? 0 : readBank(bank, at);
  }

  private writeWord(offset: number, value: number): void {
    const page = Math.floor(offset / PAGE);
    const at = offset % PAGE;
    if (page === 0) this.writeGr0(at, value);
    else if (page === 1) this.writeGr1(at, value);
    else {
      const cb = page - this.numPage;
      if (cb >= 0 && cb < this.numContextBanks) this.writeBank(cb, at, value);
    }
  }

  private readGr0(at: number): number {
    switch (at) {
      case R.GR0_sCR0:
        return this.scr0;
      case R.GR0_sACR:
        return this.sacr;
      case R.GR0_ID0:
        return this.id0();
      case R.GR0_ID1:
        // NUMPAGENDXB, NUMS2CB = 0 (every bank can hold a stage-1 context: arm-smmu.c allocates
        // stage-1 banks from NUMS2CB upwards), NUMCB.
        return (((Math.log2(this.numPage) - 1) << 28) | this.numContextBanks) >>> 0;
      case R.GR0_ID2:
        return this.id2();
      case R.GR0_ID7:
        return this.model === 'arm,mmu-500' ? 0x21 : 0;
      case R.GR0_sGFAR:
        return this.sgfarLo;
      case R.GR0_sGFAR + 4:
        return this.sgfarHi;
      case R.GR0_sGFSR:
        return this.sgfsr;
      case R.GR0_sGFSYNR0:
        return this.sgfsynr0;
      case R.GR0_sGFSYNR1:
        return this.sgfsynr1;
      case R.GR0_sTLBGSTATUS:
        return 0; // GSACTIVE clear: every sync completes at once.
    }
    if (at >= R.GR0_SMR_BASE && at < R.GR0_SMR_BASE + 4 * this.numStreamMatchGroups) {
      return this.smr[(at - R.GR0_SMR_BASE) / 4] ?? 0;
    }
    if (at >= R.GR0_S2CR_BASE && at < R.GR0_S2CR_BASE + 4 * this.numStreamMatchGroups) {
      return this.s2cr[(at - R.GR0_S2CR_BASE) / 4] ?? 0;
    }
    return 0;
  }

  private id0(): number {
    // SMS, S1TS, S2TS, NTS (nested, v2), ATOSNS (no ATOS), CTTW, NUMIRPT 1, NUMSIDB, NUMSMRG.
    let id = (1 << 27) | (1 << 30) | (1 << 29) | (1 << 26);
    if (!this.isV1) id |= 1 << 28;
    if (this.coherentWalk) id |= 1 << 14;
    id |= 1 << 16;
    id |= this.streamIdBits << 9;
    id |= this.numStreamMatchGroups & 0xff;
    return id >>> 0;
  }

  private id2(): number {
    // IAS 48 (5), OAS 48 (5), UBS 48 (5); v2 reports the AArch64 granules.
    let id = 5 | (5 << 4) | (5 << 8);
    if (!this.isV1) id |= (1 << 12) | (1 << 13) | (1 << 14);
    return id;
  }

  private writeGr0(at: number, value: number): void {
    switch (at) {
      case R.GR0_sCR0:
        this.scr0 = value;
        this.configChanged();
        return;
      case R.GR0_sACR:
        this.sacr = value;
        return;
      case R.GR0_sGFSR:
        this.sgfsr = (this.sgfsr & ~value) >>> 0; // Write 1 to clear.
        return;
      case R.GR0_TLBIVMID: {
        const vmid = value & 0xffff;
        this.iotlb.invalidate((e) => e.vmid === vmid);
        return;
      }
      case R.GR0_TLBIALLNSNH:
      case R.GR0_TLBIALLH:
        this.iotlb.invalidateAll();
        return;
      case R.GR0_sTLBGSYNC:
        return; // Invalidations complete when written; the sync has nothing left to wait for.
    }
    if (at >= R.GR0_SMR_BASE && at < R.GR0_SMR_BASE + 4 * this.numStreamMatchGroups) {
      this.smr[(at - R.GR0_SMR_BASE) / 4] = value;
      this.configChanged();
    } else if (at >= R.GR0_S2CR_BASE && at < R.GR0_S2CR_BASE + 4 * this.numStreamMatchGroups) {
      this.s2cr[(at - R.GR0_S2CR_BASE) / 4] = value;
      this.configChanged();
    }
  }

  private readGr1(at: number): number {
    const n = this.numContextBanks;
    if (at < 4 * n) return this.cbar[at / 4] ?? 0;
    if (at >= R.GR1_CBFRSYNRA_BASE && at < R.GR1_CBFRSYNRA_BASE + 4 * n) {
      return this.cbfrsynra[(at - R.GR1_CBFRSYNRA_BASE) / 4] ?? 0;
    }
    if (!this.isV1 && at >= R.GR1_CBA2R_BASE && at < R.GR1_CBA2R_BASE + 4 * n) {
      return this.cba2r[(at - R.GR1_CBA2R_BASE) / 4] ?? 0;
    }
    return 0;
  }

  private writeGr1(at: number, value: number): void {
    const n = this.numContextBanks;
    if (at < 4 * n) this.cbar[at / 4] = value;
    else if (!this.isV1 && at >= R.GR1_CBA2R_BASE && at < R.GR1_CBA2R_BASE + 4 * n) {
      this.cba2r[(at - R.GR1_CBA2R_BASE) / 4] = value;
    } else return;
    this.configChanged();
  }

  private writeBank(cb: number, at: number, value: number): void {
    const bank = this.banks[cb];
    if (bank === undefined) return;
    switch (at) {
      case R.CB_SCTLR:
        bank.sctlr = value;
        break;
      case R.CB_ACTLR:
        bank.actlr = value;
        return;
      case R.CB_RESUME:
        return; // Stall mode is not modelled: nothing is ever stalled.
      case R.CB_TCR2:
        bank.tcr2 = value;
        break;
      case R.CB_TTBR0:
        bank.ttbr0Lo = value;
        break;
      case R.CB_TTBR0 + 4:
        bank.ttbr0Hi = value;
        break;
      case R.CB_TTBR1:
        bank.ttbr1Lo = value;
        return;
      case R.CB_TTBR1 + 4:
        bank.ttbr1Hi = value;
        return;
      case R.CB_TCR:
        bank.tcr = value;
        break;
      case R.CB_CONTEXTIDR:
        bank.contextidr = value;
        return;
      case R.CB_S1_MAIR0:
        bank.mair0 = value;
        return;
      case R.CB_S1_MAIR1:
        bank.mair1 = value;
        return;
      case R.CB_FSR: {
        bank.fsr = (bank.fsr & ~value) >>> 0; // Write 1 to clear; the context IRQ follows.
        return;
      }
      case R.CB_FSYNR0:
        bank.fsynr0 = value;
        return;
      case R.CB_S1_TLBIASID: {
        const asid = value & 0xffff;
        const vmid = this.vmidOf(cb);
        this.iotlb.invalidate((e) => e.stage === 1 && e.vmid === vmid && e.asid === asid);
        return;
      }
      case R.CB_S1_TLBIALL: {
        const vmid = this.vmidOf(cb);
        this.iotlb.invalidate((e) => e.vmid === vmid);
        return;
      }
      case R.CB_TLBSYNC:
        return;
      default:
        this.tlbiByAddress(cb, bank, at, value);
        return;
    }
    this.configChanged();
  }

  // TLBIVA(L), TLBIVAA(L), TLBIIPAS2(L): 64-bit, acting on the low-word write.
  private tlbiByAddress(cb: number, bank: ContextBank, at: number, value: number): void {
    const base = at - (at % 8);
    const isTlbi =
      base === R.CB_S1_TLBIVA ||
      base === R.CB_S1_TLBIVAL ||
      base === R.CB_S1_TLBIVAA ||
      base === R.CB_S1_TLBIVAAL ||
      base === R.CB_S2_TLBIIPAS2 ||
      base === R.CB_S2_TLBIIPAS2L;
    if (!isTlbi) return;
    if (at % 8 === 4) {
      bank.tlbiHigh.set(base, value);
      return;
    }
    const high = bank.tlbiHigh.get(base) ?? 0;
    bank.tlbiHigh.delete(base);
    // Bits [43:0] hold VA[55:12] (AArch64), bits [63:48] the ASID for TLBIVA(L).
    const va = ((high & 0xfff) * 0x1_0000_0000 + (value >>> 0)) * PAGE;
    const vmid = this.vmidOf(cb);
    if (base === R.CB_S2_TLBIIPAS2 || base === R.CB_S2_TLBIIPAS2L) {
      this.iotlb.invalidateVa(va, (e) => e.stage === 2 && e.vmid === vmid);
    } else if (base === R.CB_S1_TLBIVAA || base === R.CB_S1_TLBIVAAL) {
      this.iotlb.invalidateVa(va, (e) => e.stage === 1 && e.vmid === vmid);
    } else {
      const asid = high >>> 16;
      this.iotlb.invalidateVa(va, (e) => e.stage === 1 && e.vmid === vmid && e.asid === asid);
    }
  }

  private vmidOf(cb: number): number {
    const cbar = this.cbar[cb] ?? 0;
    return this.isV1 ? cbar & 0xff : (this.cba2r[cb] ?? 0) >>> 16 || cbar & 0xff;
  }
}

function route(kind: StreamRoute['kind']): StreamRoute {
  return { kind, cb: -1, regime: NO_REGIME, tag: -1, asid: 0, vmid: 0, stage: 1 };
}

function readBank(bank: ContextBank, at: number): number {
  switch (at) {
    case R.CB_SCTLR:
      return bank.sctlr;
    case R.CB_ACTLR:
      return bank.actlr;
    case R.CB_TCR2:
      return bank.tcr2;
    case R.CB_TTBR0:
      return bank.ttbr0Lo;
    case R.CB_TTBR0 + 4:
      return bank.ttbr0Hi;
    case R.CB_TTBR1:
      return bank.ttbr1Lo;
    case R.CB_TTBR1 + 4:
      return bank.ttbr1Hi;
    case R.CB_TCR:
      return bank.tcr;
    case R.CB_CONTEXTIDR:
      return bank.contextidr;
    case R.CB_S1_MAIR0:
      return bank.mair0;
    case R.CB_S1_MAIR1:
      return bank.mair1;
    case R.CB_FSR:
      return bank.fsr;
    case R.CB_FAR:
      return bank.farLo;
    case R.CB_FAR + 4:
      return bank.farHi;
    case R.CB_FSYNR0:
      return bank.fsynr0;
    case R.CB_FSYNR1:
      return bank.fsynr1;
    case R.CB_TLBSTATUS:
      return 0; // SACTIVE clear.
  }
  return 0;
}

function checkCount(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new KernelError('EINVAL', `ArmSmmuV2: ${what} ${String(value)} is not between 1 and ${max}`);
  }
  return value;
}
