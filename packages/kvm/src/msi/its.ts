import { KernelError, rejectUnknownOptions } from '@vfiokit/core';

/** GITS_TRANSLATER, offset from the ITS base (include/linux/irqchip/arm-gic-v3.h). */
export const GITS_TRANSLATER = 0x10040;
/** The first LPI INTID. */
export const LPI_BASE = 8192;

/** ITS command opcodes (include/linux/irqchip/arm-gic-v3.h GITS_CMD_*). */
export const GITS_CMD = {
  MAPD: 0x08,
  MAPC: 0x09,
  MAPTI: 0x0a,
  MAPI: 0x0b,
  MOVI: 0x01,
  DISCARD: 0x0f,
  INV: 0x0c,
  MOVALL: 0x0e,
  INVALL: 0x0d,
  INT: 0x03,
  CLEAR: 0x04,
  SYNC: 0x05,
} as const;

/** A decoded ITS command (the GIC architecture's 32-byte command format). */
export type ItsCommand =
  | { readonly op: 'MAPD'; readonly deviceId: number; readonly ittBits: number; readonly valid: boolean }
  | { readonly op: 'MAPC'; readonly icid: number; readonly target: number; readonly valid: boolean }
  | {
      readonly op: 'MAPTI';
      readonly deviceId: number;
      readonly eventId: number;
      readonly intid: number;
      readonly icid: number;
    }
  | { readonly op: 'MAPI'; readonly deviceId: number; readonly eventId: number; readonly icid: number }
  | { readonly op: 'INT'; readonly deviceId: number; readonly eventId: number }
  | { readonly op: 'DISCARD'; readonly deviceId: number; readonly eventId: number }
  | { readonly op: 'SYNC'; readonly target: number };

/**
 * Encodes a command as the 4 little-endian doublewords the ITS reads from its queue:
 * DW0[7:0] opcode, DW0[63:32] DeviceID; DW1[31:0] EventID, DW1[63:32] pINTID (MAPTI),
 * DW1[4:0] Size (MAPD: ITT bits − 1); DW2[15:0] ICID, DW2[51:16] RDbase (MAPC, SYNC in DW2),
 * DW2[63] V. (ARM IHI 0069, "ITS commands"; the target here is a redistributor index.)
 */
export function encodeItsCommand(cmd: ItsCommand): Uint8Array {
  const bytes = new Uint8Array(32);
  const v = new DataView(bytes.buffer);
  const dw = (i: number, lo: number, hi: number): void => {
    v.setUint32(i * 8, lo >>> 0, true);
    v.setUint32(i * 8 + 4, hi >>> 0, true);
  };
  switch (cmd.op) {
    case 'MAPD':
      dw(0, GITS_CMD.MAPD, cmd.deviceId);
      dw(1, (cmd.ittBits - 1) & 0x1f, 0);
      dw(2, 0, cmd.valid ? 0x8000_0000 : 0);
      break;
    case 'MAPC':
      dw(0, GITS_CMD.MAPC, 0);
      dw(
        2,
        (cmd.icid & 0xffff) | ((cmd.target & 0xffff) << 16),
        (cmd.target >>> 16) | (cmd.valid ? 0x8000_0000 : 0),
      );
      break;
    case 'MAPTI':
      dw(0, GITS_CMD.MAPTI, cmd.deviceId);
      dw(1, cmd.eventId, cmd.intid);
      dw(2, cmd.icid & 0xffff, 0);
      break;
    case 'MAPI':
      dw(0, GITS_CMD.MAPI, cmd.deviceId);
      dw(1, cmd.eventId, 0);
      dw(2, cmd.icid & 0xffff, 0);
      break;
    case 'INT':
    case 'DISCARD':
      dw(0, GITS_CMD[cmd.op], cmd.deviceId);
      dw(1, cmd.eventId, 0);
      break;
    case 'SYNC':
      dw(0, GITS_CMD.SYNC, 0);
      dw(2, (cmd.target & 0xffff) << 16, cmd.target >>> 16);
      break;
  }
  return bytes;
}

/** Decodes a 32-byte command; an opcode the model lacks is `EINVAL`. */
export function decodeItsCommand(bytes: Uint8Array): ItsCommand {
  if (bytes.length !== 32) throw new KernelError('EINVAL', 'an ITS command is 32 bytes');
  const v = new DataView(bytes.buffer, bytes.byteOffset, 32);
  const lo = (i: number): number => v.getUint32(i * 8, true);
  const hi = (i: number): number => v.getUint32(i * 8 + 4, true);
  const op = lo(0) & 0xff;
  const deviceId = hi(0);
  const eventId = lo(1);
  const icid = lo(2) & 0xffff;
  const target = (lo(2) >>> 16) | ((hi(2) & 0xfff) << 16);
  const valid = (hi(2) & 0x8000_0000) !== 0;
  switch (op) {
    case GITS_CMD.MAPD:
      return { op: 'MAPD', deviceId, ittBits: (lo(1) & 0x1f) + 1, valid };
    case GITS_CMD.MAPC:
      return { op: 'MAPC', icid, target, valid };
    case GITS_CMD.MAPTI:
      return { op: 'MAPTI', deviceId, eventId, intid: hi(1), icid };
    case GITS_CMD.MAPI:
      return { op: 'MAPI', deviceId, eventId, icid };
    case GITS_CMD.INT:
      return { op: 'INT', deviceId, eventId };
    case GITS_CMD.DISCARD:
      return { op: 'DISCARD', deviceId, eventId };
    case GITS_CMD.SYNC:
      return { op: 'SYNC', target };
    default:
      throw new KernelError('EINVAL', `ITS command opcode 0x${op.toString(16)} not modelled`);
  }
}

export interface GicItsOptions {
  readonly name: string;
  /** Physical base of the ITS (64 KiB aligned); the doorbell is base + GITS_TRANSLATER. */
  readonly base: number;
  /** GITS_TYPER.Devbits: DeviceIDs are < 2^deviceIdBits (default 16). */
  readonly deviceIdBits?: number;
  /** GITS_TYPER.IDbits: LPI INTIDs are < 2^idBits (default 16). */
  readonly idBits?: number;
  /** Number of collections (default 64). */
  readonly collections?: number;
  /**
   * Socionext SynQuacer pre-ITS (`socionext,synquacer-pre-its`): the DeviceID comes from the
   * doorbell address, which breaks isolation; its_enable_quirk_socionext_synquacer clears
   * IRQ_DOMAIN_FLAG_ISOLATED_MSI.
   */
  readonly preIts?: boolean;
}

/** An LPI that reached its target. */
export interface ItsDelivery {
  readonly intid: number;
  readonly target: number;
  readonly deviceId: number;
  readonly eventId: number;
}

/** Why a translation or command did nothing (the ITS drops silently; the model records). */
export interface ItsError {
  readonly what: string;
  readonly deviceId?: number;
  readonly eventId?: number;
}

interface DeviceEntry {
  readonly ittBits: number;
  readonly itt: Map<number, { intid: number; icid: number }>;
}

/**
 * A GICv3 ITS: a device table (DeviceID → ITT), per-device ITTs (EventID → LPI and collection),
 * a collection table (ICID → redistributor), a command queue (MAPD, MAPC, MAPTI, MAPI, INT,
 * DISCARD, SYNC), and the GITS_TRANSLATER doorbell. A write to the doorbell carries the
 * writer's DeviceID from the bus (not from the data), so a device can only reach the events
 * its own ITT maps: that is the isolation the kernel advertises with IRQ_DOMAIN_FLAG_ISOLATED_MSI.
 */
export class GicIts {
  readonly name: string;
  readonly base: number;
  readonly deviceIdBits: number;
  readonly idBits: number;
  readonly preIts: boolean;
  readonly delivered: ItsDelivery[] = [];
  readonly errors: ItsError[] = [];
  private readonly devices = new Map<number, DeviceEntry>();
  private readonly collections: Array<number | undefined>;
  private readonly queue: Uint8Array[] = [];
  private readonly sinks: Array<(d: ItsDelivery) => void> = [];
  private creadr = 0;

  constructor(options: GicItsOptions) {
    rejectUnknownOptions(
      options,
      ['name', 'base', 'deviceIdBits', 'idBits', 'collections', 'preIts'],
      'GicIts',
    );
    this.name = options.name;
    this.base = options.base;
    if (!Number.isSafeInteger(options.base) || options.base % 0x1_0000 !== 0)
      throw new KernelError('EINVAL', `${options.name}: ITS base is not 64K aligned`);
    this.deviceIdBits = options.deviceIdBits ?? 16;
    this.idBits = options.idBits ?? 16;
    this.preIts = options.preIts ?? false;
    this.collections = new Array<number | undefined>(options.collections ?? 64).fill(undefined);
  }

  /** The doorbell's physical address. */
  get doorbell(): number {
    return this.base + GITS_TRANSLATER;
  }

  onLpi(sink: (d: ItsDelivery) => void): void {
    this.sinks.push(sink);
  }

  /** Queues commands (writes them at GITS_CWRITER); they run on {@link GicIts.process}. */
  enqueue(...commands: Array<ItsCommand | Uint8Array>): void {
    for (const c of commands) this.queue.push(c instanceof Uint8Array ? c : encodeItsCommand(c));
  }

  /** Advances GITS_CREADR to GITS_CWRITER, executing each command; returns how many ran. */
  process(): number {
    let n = 0;
    while (this.creadr < this.queue.length) {
      const bytes = this.queue[this.creadr++];
      if (bytes !== undefined) this.execute(decodeItsCommand(bytes));
      n++;
    }
    return n;
  }

  /** GITS_CREADR / GITS_CWRITER as command indexes. */
  get readIndex(): number {
    return this.creadr;
  }
  get writeIndex(): number {
    return this.queue.length;
  }

  /**
   * A 32-bit write of `eventId` to GITS_TRANSLATER by the master whose bus DeviceID is
   * `deviceId` (the SMMU/interconnect supplies it; the writer cannot choose it). Unmapped
   * DeviceID or EventID, or an unmapped collection: dropped (recorded in `errors`).
   */
  translate(deviceId: number, eventId: number): ItsDelivery | undefined {
    const dev = this.devices.get(deviceId);
    if (dev === undefined) return this.drop('unmapped DeviceID', deviceId, eventId);
    const ite = dev.itt.get(eventId);
    if (ite === undefined) return this.drop('unmapped EventID', deviceId, eventId);
    const target = this.collections[ite.icid];
    if (target === undefined) return this.drop('unmapped collection', deviceId, eventId);
    const d = { intid: ite.intid, target, deviceId, eventId };
    this.delivered.push(d);
    for (const s of this.sinks) s(d);
    return d;
  }

  /** A bus write at physical `address` by master `deviceId`: only the doorbell translates. */
  write(address: number, data: number, deviceId: number): ItsDelivery | undefined {
    if (address !== this.doorbell)
      return this.drop(`write to 0x${address.toString(16)} is not GITS_TRANSLATER`, deviceId, data);
    return this.translate(deviceId, data >>> 0);
  }

  private drop(what: string, deviceId?: number, eventId?: number): undefined {
    this.errors.push({
      what,
      ...(deviceId === undefined ? {} : { deviceId }),
      ...(eventId === undefined ? {} : { eventId }),
    });
    return undefined;
  }

  private execute(cmd: ItsCommand): void {
    const badDevice = (id: number): boolean => id >= 2 ** this.deviceIdBits;
    switch (cmd.op) {
      case 'MAPD':
        if (badDevice(cmd.deviceId)) return void this.drop('MAPD: DeviceID out of range', cmd.deviceId);
        if (cmd.valid) this.devices.set(cmd.deviceId, { ittBits: cmd.ittBits, itt: new Map() });
        else this.devices.delete(cmd.deviceId);
        return;
      case 'MAPC':
        if (cmd.icid >= this.collections.length) return void this.drop('MAPC: ICID out of range');
        this.collections[cmd.icid] = cmd.valid ? cmd.target : undefined;
        return;
      case 'MAPTI':
      case 'MAPI': {
        const intid = cmd.op === 'MAPI' ? cmd.eventId : cmd.intid;
        const dev = this.devices.get(cmd.deviceId);
        if (dev === undefined)
          return void this.drop(`${cmd.op}: unmapped DeviceID`, cmd.deviceId, cmd.eventId);
        if (cmd.eventId >= 2 ** dev.ittBits)
          return void this.drop(`${cmd.op}: EventID beyond the ITT`, cmd.deviceId, cmd.eventId);
        if (intid < LPI_BASE || intid >= 2 ** this.idBits)
          return void this.drop(`${cmd.op}: pINTID is not an LPI`, cmd.deviceId, cmd.eventId);
        if (cmd.icid >= this.collections.length)
          return void this.drop(`${cmd.op}: ICID out of range`, cmd.deviceId, cmd.eventId);
        dev.itt.set(cmd.eventId, { intid, icid: cmd.icid });
        return;
      }
      case 'INT':
        this.translate(cmd.deviceId, cmd.eventId);
        return;
      case 'DISCARD': {
        const dev = this.devices.get(cmd.deviceId);
        if (dev?.itt.delete(cmd.eventId) !== true) this.drop('DISCARD: unmapped', cmd.deviceId, cmd.eventId);
        return;
      }
      case 'SYNC':
        return; // the model executes commands in order and synchronously
    }
  }
}
