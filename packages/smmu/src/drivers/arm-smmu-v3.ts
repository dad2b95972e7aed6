import {
  type IommuDomainType,
  type IommuEndpoint,
  type IommuGroup,
  type IommuReservedRegion,
  KernelError,
  type MmioDevice,
  rejectUnknownOptions,
  swMsiRegion,
} from '@vfiokit/core';
import { isDmaCoherent, type OfTree } from '@vfiokit/devicetree';
import type { Device, DriverSpec } from '@vfiokit/platform-bus';
import { ArmSmmuV3 } from '../hw/smmu-v3.js';
import * as R from '../hw/smmu-v3-regs.js';
import type { TablePageAllocator } from '../pgtable/page-allocator.js';
import { type SmmuDomainHost, SmmuDriverDomain } from './arm-smmu-domain.js';
import { ArmSmmuV3Programmer, type SmmuV3EventRecord, type V3FlushOpsOptions } from './arm-smmu-v3-hw.js';
import type { IommuFwspec, IommuLink, IommuMaster, IommuOps } from './iommu-master.js';
import type { IommuProbe } from './iommu-probe.js';

// `arm_smmu_ops.default_domain_ops` of arm-smmu-v3: one per driver (see arm-smmu.ts).
const ARM_SMMU_V3_OPS: object = Object.freeze({ driver: 'arm-smmu-v3' });

/** Options of an {@link ArmSmmuV3Driver}. */
export interface ArmSmmuV3DriverOptions {
  readonly probe: IommuProbe;
  readonly tree: OfTree;
  readonly mmio: (device: Device) => MmioDevice | undefined;
  /** Where queues, stream tables, CDs and page tables are allocated. */
  readonly allocator: TablePageAllocator;
  /** dmesg lines (the event queue thread's reports, probe errors). */
  readonly log?: (line: string) => void;
}

/**
 * The arm-smmu-v3 driver (drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c, Linux 6.12) as a
 * platform driver for `arm,smmu-v3`: `arm_smmu_device_probe` resets the SMMU (queues, stream
 * table, CFGI_ALL, TLBI_NSNH_ALL, SMMUEN) and registers the instance. Masters get abort STEs
 * at probe (`disable_bypass`), one group each (`generic_device_group`: platform devices never
 * share a group on SMMUv3), and a stream ID already owned by another master is `EINVAL`
 * (`arm_smmu_insert_master`: "stream %u already in tree"). `suppress_bind_attrs`.
 */
export class ArmSmmuV3Driver {
  readonly spec: DriverSpec;
  readonly ops: IommuOps;
  private readonly instances = new Map<string, ArmSmmuV3Instance>();
  private readonly options: ArmSmmuV3DriverOptions;

  constructor(options: ArmSmmuV3DriverOptions) {
    rejectUnknownOptions(options, ['probe', 'tree', 'mmio', 'allocator', 'log'], 'ArmSmmuV3Driver');
    this.options = options;
    this.spec = {
      name: 'arm-smmu-v3',
      ofMatchTable: ['arm,smmu-v3'],
      suppressBindAttrs: true,
      probe: (device) => this.deviceProbe(device),
    };
    this.ops = {
      name: 'arm-smmu-v3',
      // arm_smmu_of_xlate: iommu_fwspec_add_ids(dev, args->args, 1).
      ofXlate: (fwspec: IommuFwspec, link: IommuLink) => {
        fwspec.ids.push((link.args[0] ?? 0) >>> 0);
      },
      probeDevice: (master, fwspec) => this.instanceOf(fwspec).probeDevice(master, fwspec),
      releaseDevice: (master, fwspec) => this.instanceOf(fwspec).releaseDevice(master),
      cacheCoherent: (_master, fwspec) => this.instanceOf(fwspec).coherent,
      reservedRegions: () => [swMsiRegion()],
    };
  }

  /** The instance probed for an SMMU node. */
  instance(node: string): ArmSmmuV3Instance | undefined {
    return this.instances.get(node);
  }

  private instanceOf(fwspec: IommuFwspec): ArmSmmuV3Instance {
    const instance = this.instances.get(fwspec.iommu);
    if (instance === undefined) throw new KernelError('ENODEV', `${fwspec.iommu}: no arm-smmu-v3 instance`);
    return instance;
  }

  private deviceProbe(device: Device): void {
    const path = device.description.ofNode;
    const node = path === undefined ? undefined : this.options.tree.find(path);
    if (path === undefined || node === undefined)
      throw new KernelError('ENODEV', `${device.name}: no OF node`);
    const regs = this.options.mmio(device);
    if (regs === undefined) throw new KernelError('ENODEV', `${device.name}: no registers`);
    const instance = new ArmSmmuV3Instance({
      node: path,
      name: device.name,
      regs,
      // arm_smmu_device_dt_probe: of_dma_is_coherent → ARM_SMMU_FEAT_COHERENCY (firmware wins
      // over IDR0.COHACC).
      coherent: isDmaCoherent(this.options.tree, node),
      allocator: this.options.allocator,
      probe: this.options.probe,
      log: this.options.log ?? (() => undefined),
    });
    this.instances.set(path, instance);
    device.drvdata = instance;
    this.options.probe.register(path, this.ops);
  }
}

interface InstanceOptions {
  readonly node: string;
  readonly name: string;
  readonly regs: MmioDevice;
  readonly coherent: boolean;
  readonly allocator: TablePageAllocator;
  readonly probe: IommuProbe;
  readonly log: (line: string) => void;
}

/** One probed SMMUv3 (`struct arm_smmu_device`). */
export class ArmSmmuV3Instance implements SmmuDomainHost {
  readonly node: string;
  /** `ARM_SMMU_FEAT_COHERENCY`: what `capable(IOMMU_CAP_CACHE_COHERENCY)` answers. */
  readonly coherent: boolean;
  /** `1 << smmu->sid_bits`. */
  readonly streamIds: number;
  /** Event records the event queue thread consumed, oldest first. */
  readonly events: SmmuV3EventRecord[] = [];
  readonly hw: ArmSmmuV3Programmer;
  private readonly name: string;
  private readonly allocator: TablePageAllocator;
  private readonly probe: IommuProbe;
  private readonly log: (line: string) => void;
  // smmu->streams: stream ID → master name.
  private readonly streams = new Map<number, string>();
  private readonly masters = new Map<string, readonly number[]>();
  private readonly asids = new Map<number, SmmuDriverDomain>();
  // Which domain each stream's STE points at, if any.
  private readonly steDomain = new Map<number, SmmuDriverDomain>();

  constructor(options: InstanceOptions) {
    this.node = options.node;
    this.name = options.name;
    this.coherent = options.coherent;
    this.allocator = options.allocator;
    this.probe = options.probe;
    this.log = options.log;
    const idr0 = options.regs.read(R.IDR0, 4);
    if ((idr0 & 2) === 0) throw new KernelError('ENXIO', `${this.name}: no stage-1 translation`);
    this.streamIds = 2 ** (options.regs.read(R.IDR1, 4) & 0x3f);
    // arm_smmu_init_strtab: 2-level when IDR0.ST_LVL says so.
    this.hw = new ArmSmmuV3Programmer(options.regs, {
      allocator: options.allocator,
      twoLevel: ((idr0 >>> 27) & 3) === 1,
    });
    this.hw.reset();
    if (options.regs instanceof ArmSmmuV3) options.regs.on('evtq-irq', () => this.evtqThread());
  }

  /**
   * `arm_smmu_probe_device` → `arm_smmu_insert_master`: each stream ID must be in range
   * (`ERANGE`) and not owned by another master (`EINVAL`, "stream %u already in tree from dev
   * %s"; a repeat of the master's own ID is skipped: "Bridged PCI devices may end up with
   * duplicated IDs", in Debian's 6.12.118 as in mainline); its STE becomes an abort STE
   * (`arm_smmu_init_sid_strtab` / `arm_smmu_make_abort_ste`). Then `generic_device_group`.
   */
  probeDevice(master: IommuMaster, fwspec: IommuFwspec): { group: IommuGroup; endpoint: IommuEndpoint } {
    if (this.masters.has(master.name)) throw new KernelError('EEXIST', `${master.name} is probed already`);
    const inserted: number[] = [];
    const undo = (): void => {
      for (const sid of inserted) this.streams.delete(sid);
    };
    for (const sid of fwspec.ids) {
      if (sid >= this.streamIds) {
        undo();
        throw new KernelError('ERANGE', `${master.name}: stream ID 0x${sid.toString(16)} out of range`);
      }
      const owner = this.streams.get(sid);
      if (owner === master.name) continue;
      if (owner !== undefined) {
        undo();
        this.log(`${master.name}: stream ${sid} already in tree from dev ${owner}`);
        throw new KernelError('EINVAL', `${master.name}: stream ${sid} already in tree from dev ${owner}`);
      }
      this.streams.set(sid, master.name);
      inserted.push(sid);
    }
    for (const sid of inserted) this.hw.writeSteWord0(sid, 1 | (R.STE_CFG_ABORT << 1));
    this.masters.set(master.name, inserted);
    let group: IommuGroup;
    try {
      group = this.newGroup();
    } catch (error) {
      this.releaseDevice(master);
      throw error;
    }
    return { group, endpoint: { device: master.name, streamIds: inserted } };
  }

  /** `arm_smmu_release_device`: STEs back to abort, streams out of the tree. */
  releaseDevice(master: IommuMaster): void {
    const sids = this.masters.get(master.name);
    if (sids === undefined) throw new KernelError('ENODEV', `${master.name} is not probed`);
    for (const sid of sids) {
      this.hw.writeSteWord0(sid, 1 | (R.STE_CFG_ABORT << 1));
      this.streams.delete(sid);
      this.steDomain.delete(sid);
    }
    this.masters.delete(master.name);
  }

  /**
   * `arm_smmu_domain_alloc_paging` → `arm_smmu_domain_finalise`: stage 1, an ASID from 1
   * upwards (`xa_alloc(&arm_smmu_asid_xa, …, XA_LIMIT(1, …))`), io-pgtable tables whose
   * flush ops are CMD_TLBI_NH_VA / CMD_TLBI_NH_ASID + CMD_SYNC. `flush.omitLeafTlbi` plants
   * the missing-TLBI bug, for tests that must see it caught.
   */
  allocDomain(type: IommuDomainType, flush: V3FlushOpsOptions = {}): SmmuDriverDomain {
    let asid = 1;
    while (this.asids.has(asid)) asid++;
    if (asid >= 1 << 16) throw new KernelError('ENOSPC', `${this.name}: no free ASID`);
    const domain = new SmmuDriverDomain({
      host: this,
      allocator: this.allocator,
      type,
      ias: 48,
      oas: 48,
      coherentWalk: this.coherent,
      flushOps: this.hw.flushOps(1, asid, flush),
      reservedRegions: [swMsiRegion()],
      context: asid,
      ops: ARM_SMMU_V3_OPS,
    });
    this.asids.set(asid, domain);
    return domain;
  }

  /** `arm_smmu_attach_dev`: a stage-1 CD and a CD-table STE per stream, each with CFGI + SYNC. */
  attachDev(domain: SmmuDriverDomain, endpoint: IommuEndpoint): void {
    const sids = this.masters.get(endpoint.device);
    // arm_smmu_attach_dev: a device behind another SMMU cannot join this SMMU's domain.
    if (sids === undefined) throw new KernelError('EINVAL', `${endpoint.device} is not behind ${this.name}`);
    if (this.asids.get(domain.context) !== domain)
      throw new KernelError('EINVAL', `${endpoint.device}: domain of another SMMU`);
    for (const sid of sids) {
      this.hw.attachStage1(sid, domain.pgtable, domain.context);
      this.steDomain.set(sid, domain);
    }
  }

  /** Back to an abort STE (`arm_smmu_blocked_domain`) for streams still on `domain`. */
  detachDev(domain: SmmuDriverDomain, endpoint: IommuEndpoint): void {
    for (const sid of this.masters.get(endpoint.device) ?? []) {
      if (this.steDomain.get(sid) !== domain) continue;
      this.steDomain.delete(sid);
      this.hw.writeSteWord0(sid, 1 | (R.STE_CFG_ABORT << 1));
    }
  }

  /**
   * `arm_smmu_domain_free_paging`: `free_io_pgtable_ops` (CMD_TLBI_NH_ASID + CMD_SYNC through
   * the flush ops, tables freed), then the ASID freed.
   */
  destroy(domain: SmmuDriverDomain, freeTables: () => void): void {
    if (this.asids.get(domain.context) !== domain)
      throw new KernelError('EINVAL', `ASID ${domain.context} does not hold this domain`);
    if ([...this.steDomain.values()].includes(domain))
      throw new KernelError('EBUSY', `ASID ${domain.context} still has streams attached`);
    freeTables();
    this.asids.delete(domain.context);
  }

  // generic_device_group, with the default DMA domain allocated with the group.
  private newGroup(): IommuGroup {
    const defaultDomain = this.allocDomain('dma');
    try {
      return this.probe.allocGroup({
        iommu: this.node,
        allocateDomain: () => this.allocDomain('unmanaged'),
        defaultDomain,
        cacheCoherent: () => this.coherent,
        reservedRegions: (): readonly IommuReservedRegion[] => [swMsiRegion()],
      });
    } catch (error) {
      defaultDomain.free();
      throw error;
    }
  }

  // arm_smmu_evtq_thread (6.12): drain the event queue; no fault handler takes these, so each
  // record is dumped: "event 0x%02x received:", then its four doublewords "\t0x%016llx".
  private evtqThread(): void {
    for (const record of this.hw.readEvents()) {
      this.events.push(record);
      this.log(`arm-smmu-v3 ${this.name}: event 0x${record.id.toString(16).padStart(2, '0')} received:`);
      for (const dword of record.dwords)
        this.log(`arm-smmu-v3 ${this.name}: \t0x${dword.toString(16).padStart(16, '0')}`);
    }
  }
}
