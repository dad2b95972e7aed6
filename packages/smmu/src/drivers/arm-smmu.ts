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
import { ArmSmmuV2 } from '../hw/smmu-v2.js';
import * as R from '../hw/smmu-v2-regs.js';
import type { TablePageAllocator } from '../pgtable/page-allocator.js';
import { type SmmuDomainHost, SmmuDriverDomain } from './arm-smmu-domain.js';
import { ArmSmmuV2Programmer, type FlushOpsOptions } from './arm-smmu-hw.js';
import { ArmSmmuStreamMap, smrId } from './arm-smmu-stream-map.js';
import type { IommuFwspec, IommuLink, IommuMaster, IommuOps } from './iommu-master.js';
import type { IommuProbe } from './iommu-probe.js';

/** `arm_smmu_of_match`: the compatibles arm-smmu binds and the architecture version of each. */
export const ARM_SMMU_COMPATIBLES: Readonly<Record<string, 1 | 2>> = {
  'arm,smmu-v1': 1,
  'arm,smmu-v2': 2,
  'arm,mmu-400': 1,
  'arm,mmu-401': 1,
  'arm,mmu-500': 2,
  'cavium,smmu-v2': 2,
  'nvidia,smmu-500': 2,
  'qcom,smmu-v2': 2,
};

// `arm_smmu_ops.default_domain_ops`: one per driver, so type1 tries to share a domain between
// groups of arm-smmu, and the driver's attach (EINVAL for another SMMU's domain) decides.
const ARM_SMMU_OPS: object = Object.freeze({ driver: 'arm-smmu' });

/** Options of an {@link ArmSmmuDriver}. */
export interface ArmSmmuDriverOptions {
  /** The IOMMU probe path the instances register with. */
  readonly probe: IommuProbe;
  /** The device tree the SMMU and master nodes come from. */
  readonly tree: OfTree;
  /** The register model behind an SMMU device (`devm_ioremap_resource`). */
  readonly mmio: (device: Device) => MmioDevice | undefined;
  /** Where page tables are allocated (the kernel's pages, in the memory the SMMU walks). */
  readonly allocator: TablePageAllocator;
  /**
   * `arm-smmu.disable_bypass` (default true, CONFIG_ARM_SMMU_DISABLE_BYPASS_BY_DEFAULT=y):
   * unmatched streams and unused stream map entries fault instead of bypassing.
   */
  readonly disableBypass?: boolean;
  /** dmesg lines (`dev_err_ratelimited` of the context fault handler, probe errors). */
  readonly log?: (line: string) => void;
}

/** A context fault as `arm_smmu_context_fault` read it before clearing FSR. */
export interface ArmSmmuContextFault {
  readonly contextBank: number;
  readonly fsr: number;
  readonly far: number;
  readonly fsynr: number;
  readonly cbfrsynra: number;
}

/** A global fault as `arm_smmu_global_fault` read it before clearing sGFSR. */
export interface ArmSmmuGlobalFault {
  readonly gfsr: number;
  readonly gfsynr0: number;
  readonly gfsynr1: number;
  readonly gfsynr2: number;
}

interface MasterCfg {
  readonly fwspec: IommuFwspec;
  readonly smendx: number[];
  readonly dmaCoherent: boolean;
}

/**
 * The arm-smmu driver (drivers/iommu/arm/arm-smmu/arm-smmu.c, Linux 6.12) as a platform
 * driver: `arm_smmu_device_probe` reads the ID registers, resets the SMMU
 * (`arm_smmu_device_reset`), probes the SMR mask width (`arm_smmu_test_smr_masks`) and
 * registers the instance, whose masters then get stream map entries and IOMMU groups.
 * `suppress_bind_attrs`, as upstream.
 */
export class ArmSmmuDriver {
  readonly spec: DriverSpec;
  readonly ops: IommuOps;
  private readonly instances = new Map<string, ArmSmmuInstance>();
  private readonly options: ArmSmmuDriverOptions;

  constructor(options: ArmSmmuDriverOptions) {
    rejectUnknownOptions(
      options,
      ['probe', 'tree', 'mmio', 'allocator', 'disableBypass', 'log'],
      'ArmSmmuDriver',
    );
    this.options = options;
    this.spec = {
      name: 'arm-smmu',
      ofMatchTable: Object.keys(ARM_SMMU_COMPATIBLES),
      suppressBindAttrs: true,
      probe: (device, match) => this.deviceProbe(device, match.compatible),
    };
    this.ops = {
      name: 'arm-smmu',
      ofXlate: (fwspec, link) => this.ofXlate(fwspec, link),
      probeDevice: (master, fwspec) => this.instanceOf(fwspec).probeDevice(master, fwspec),
      releaseDevice: (master, fwspec) => this.instanceOf(fwspec).releaseDevice(master),
      cacheCoherent: (master, fwspec) => this.instanceOf(fwspec).capableCacheCoherency(master),
      reservedRegions: () => armSmmuResvRegions(),
    };
  }

  /** The instance probed for an SMMU node. */
  instance(node: string): ArmSmmuInstance | undefined {
    return this.instances.get(node);
  }

  private instanceOf(fwspec: IommuFwspec): ArmSmmuInstance {
    // arm_smmu_get_by_fwnode: the fwspec's first IOMMU node.
    const instance = this.instances.get(fwspec.iommu);
    if (instance === undefined) throw new KernelError('ENODEV', `${fwspec.iommu}: no arm-smmu instance`);
    return instance;
  }

  // arm_smmu_device_probe (the DT part: arm_smmu_device_dt_probe for the version and
  // coherency, then cfg_probe, reset and iommu_device_register).
  private deviceProbe(device: Device, compatible: string | undefined): void {
    const path = device.description.ofNode;
    const node = path === undefined ? undefined : this.options.tree.find(path);
    if (path === undefined || node === undefined)
      throw new KernelError('ENODEV', `${device.name}: no OF node`);
    const matched = ARM_SMMU_COMPATIBLES[compatible ?? ''] !== undefined ? compatible : node.compatible[0];
    const version = ARM_SMMU_COMPATIBLES[matched ?? ''];
    if (version === undefined) throw new KernelError('ENODEV', `${device.name}: not an arm-smmu`);
    const regs = this.options.mmio(device);
    if (regs === undefined) throw new KernelError('ENODEV', `${device.name}: no registers`);
    const instance = new ArmSmmuInstance({
      node: path,
      name: device.name,
      regs,
      version,
      aarch64: version === 2 || matched === 'arm,mmu-401',
      // arm_smmu_device_dt_probe: of_dma_is_coherent(dev->of_node) → ARM_SMMU_FEAT_COHERENT_WALK,
      // which overrides ID0.CTTW.
      coherentWalk: isDmaCoherent(this.options.tree, node),
      allocator: this.options.allocator,
      probe: this.options.probe,
      disableBypass: this.options.disableBypass ?? true,
      log: this.options.log ?? (() => undefined),
    });
    this.instances.set(path, instance);
    device.drvdata = instance;
    this.options.probe.register(path, this.ops);
  }

  // arm_smmu_of_xlate: fwid = SMR ID from cell 0, SMR mask from cell 1 or `stream-match-mask`.
  private ofXlate(fwspec: IommuFwspec, link: IommuLink): void {
    let fwid = 0;
    if (link.args.length > 0) fwid |= (link.args[0] ?? 0) & 0xffff;
    if (link.args.length > 1) fwid |= ((link.args[1] ?? 0) & 0xffff) << 16;
    else {
      const mask = this.options.tree.find(link.target)?.u32('stream-match-mask');
      if (mask !== undefined) fwid |= (mask & 0xffff) << 16;
    }
    // iommu_fwspec_add_ids.
    fwspec.ids.push(fwid >>> 0);
  }
}

/**
 * `arm_smmu_get_resv_regions`: the software MSI window, then `iommu_dma_get_resv_regions`
 * (for a device-tree master `of_iommu_get_resv_regions`, which reads reserved-memory
 * `iommu-addresses`; not modelled, so it adds nothing).
 */
export function armSmmuResvRegions(): readonly IommuReservedRegion[] {
  return [swMsiRegion()];
}

interface InstanceOptions {
  readonly node: string;
  readonly name: string;
  readonly regs: MmioDevice;
  readonly version: 1 | 2;
  /**
   * Whether stage-1 contexts use the AArch64 format: every SMMUv2, and the MMU-401
   * (`ARM_SMMU_V1_64K`: ARM_SMMU_FEAT_FMT_AARCH64_64K, which arm_smmu_init_domain_context
   * prefers on a 64-bit kernel); other SMMUv1s (smmu-v1, MMU-400) use AArch32 LPAE.
   */
  readonly aarch64: boolean;
  readonly coherentWalk: boolean;
  readonly allocator: TablePageAllocator;
  readonly probe: IommuProbe;
  readonly disableBypass: boolean;
  readonly log: (line: string) => void;
}

/** One probed SMMUv1/v2 (`struct arm_smmu_device`). */
export class ArmSmmuInstance implements SmmuDomainHost {
  /** The SMMU's device-tree node. */
  readonly node: string;
  readonly version: 1 | 2;
  /** Stage-1 contexts in the AArch64 format (see {@link InstanceOptions.aarch64}). */
  readonly aarch64: boolean;
  /** `ARM_SMMU_FEAT_COHERENT_WALK` as firmware set it. */
  readonly coherentWalk: boolean;
  /** `smmu->streamid_mask` after `arm_smmu_test_smr_masks`. */
  readonly streamidMask: number;
  /** `smmu->smr_mask_mask`. */
  readonly smrMaskMask: number;
  readonly numContextBanks: number;
  readonly numS2ContextBanks: number;
  readonly streamMap: ArmSmmuStreamMap<IommuGroup>;
  /** Context faults the handler reported, oldest first. */
  readonly faults: ArmSmmuContextFault[] = [];
  /** Global faults (sGFSR) the handler reported and cleared, oldest first. */
  readonly globalFaults: ArmSmmuGlobalFault[] = [];
  readonly hw: ArmSmmuV2Programmer;
  private readonly name: string;
  private readonly regs: MmioDevice;
  private readonly allocator: TablePageAllocator;
  private readonly probe: IommuProbe;
  private readonly log: (line: string) => void;
  private readonly masters = new Map<string, MasterCfg>();
  private readonly contextMap: (SmmuDriverDomain | null)[];
  // Which domain each stream map entry translates through (S2CR TRANS), if any.
  private readonly entryDomain: (SmmuDriverDomain | null)[];
  private readonly initType: number;

  constructor(options: InstanceOptions) {
    this.node = options.node;
    this.name = options.name;
    this.regs = options.regs;
    this.version = options.version;
    this.aarch64 = options.aarch64;
    this.coherentWalk = options.coherentWalk;
    this.allocator = options.allocator;
    this.probe = options.probe;
    this.log = options.log;
    // arm_smmu_device_cfg_probe.
    const id0 = this.regs.read(R.GR0_ID0, 4);
    const id1 = this.regs.read(R.GR0_ID1, 4);
    if ((id0 & (1 << 27)) === 0)
      throw new KernelError('ENODEV', `${this.name}: stream indexing (no ID0.SMS) is not modelled`);
    if ((id0 & (1 << 30)) === 0)
      throw new KernelError('ENODEV', `${this.name}: no stage-1 translation (stage-2 domains not modelled)`);
    const numMappingGroups = id0 & 0xff;
    if (numMappingGroups === 0) throw new KernelError('ENODEV', `${this.name}: stream-matching without SMRs`);
    this.numContextBanks = id1 & 0xff;
    this.numS2ContextBanks = (id1 >>> 16) & 0xff;
    if (this.numS2ContextBanks > this.numContextBanks)
      throw new KernelError('ENODEV', `${this.name}: impossible number of S2 context banks`);
    this.initType = options.disableBypass ? R.S2CR_TYPE_FAULT : R.S2CR_TYPE_BYPASS;
    this.streamMap = new ArmSmmuStreamMap(numMappingGroups, this.initType);
    this.contextMap = new Array<SmmuDriverDomain | null>(this.numContextBanks).fill(null);
    this.entryDomain = new Array<SmmuDriverDomain | null>(numMappingGroups).fill(null);
    this.hw = new ArmSmmuV2Programmer(this.regs, { v1: this.version === 1 });
    // arm_smmu_device_reset: every entry to its initial value, banks off, TLBs clean.
    this.hw.reset();
    if (!options.disableBypass) {
      // arm-smmu.disable_bypass=0: free entries bypass, and so do unmatched streams (sCR0.USFCFG
      // clear in arm_smmu_device_reset).
      for (let i = 0; i < numMappingGroups; i++) this.hw.writeS2cr(i, R.S2CR_TYPE_BYPASS, 0);
      this.regs.write(R.GR0_sCR0, 4, this.regs.read(R.GR0_sCR0, 4) & ~R.sCR0_USFCFG);
    }
    // arm_smmu_test_smr_masks on the first (free) entry: which ID and MASK bits stick.
    let streamidMask = 2 ** ((id0 >>> 9) & 0xf) - 1;
    this.regs.write(R.GR0_SMR_BASE, 4, streamidMask);
    streamidMask = this.regs.read(R.GR0_SMR_BASE, 4) & 0xffff;
    this.regs.write(R.GR0_SMR_BASE, 4, (streamidMask << 16) >>> 0);
    this.smrMaskMask = (this.regs.read(R.GR0_SMR_BASE, 4) >>> 16) & 0xffff;
    this.regs.write(R.GR0_SMR_BASE, 4, 0);
    this.streamidMask = streamidMask;
    // The context interrupt (requested per domain in the kernel; one handler for all banks here).
    if (this.regs instanceof ArmSmmuV2) {
      this.regs.on('context-irq', (cb) => this.contextFault(cb));
      this.regs.on('global-irq', () => this.globalFault());
    }
  }

  /** `arm_smmu_capable(IOMMU_CAP_CACHE_COHERENCY)`: coherent walks or a coherent master. */
  capableCacheCoherency(master: IommuMaster): boolean {
    return this.coherentWalk || master.dmaCoherent;
  }

  /** The stream map entries of a master (`cfg->smendx`). */
  entriesOf(device: string): readonly number[] | undefined {
    return this.masters.get(device)?.smendx;
  }

  /**
   * `arm_smmu_probe_device` (ID and mask range checks, `arm_smmu_master_alloc_smes`, the
   * entries written) then `arm_smmu_device_group`.
   */
  probeDevice(master: IommuMaster, fwspec: IommuFwspec): { group: IommuGroup; endpoint: IommuEndpoint } {
    if (this.masters.has(master.name)) throw new KernelError('EEXIST', `${master.name} is probed already`);
    for (const fwid of fwspec.ids) {
      const sid = smrId(fwid);
      const mask = fwid >>> 16;
      if ((sid & ~this.streamidMask) !== 0)
        throw this.probeError(
          master,
          `stream ID 0x${sid.toString(16)} out of range for SMMU (0x${this.streamidMask.toString(16)})`,
        );
      if ((mask & ~this.smrMaskMask) !== 0)
        throw this.probeError(
          master,
          `SMR mask 0x${mask.toString(16)} out of range for SMMU (0x${this.smrMaskMask.toString(16)})`,
        );
    }
    const smendx = this.streamMap.allocSmes(fwspec.ids);
    for (const idx of smendx) this.writeSme(idx);
    this.masters.set(master.name, { fwspec, smendx, dmaCoherent: master.dmaCoherent });
    let group: IommuGroup;
    try {
      group = this.streamMap.deviceGroup(smendx, () => this.newGroup());
    } catch (error) {
      this.releaseDevice(master);
      throw error;
    }
    return { group, endpoint: { device: master.name, streamIds: fwspec.ids.map(smrId) } };
  }

  /** `arm_smmu_release_device` → `arm_smmu_master_free_smes`. */
  releaseDevice(master: IommuMaster): void {
    const cfg = this.masters.get(master.name);
    if (cfg === undefined) throw new KernelError('ENODEV', `${master.name} is not probed`);
    for (const idx of cfg.smendx) {
      if (this.streamMap.freeSme(idx)) {
        this.entryDomain[idx] = null;
        this.writeSme(idx);
      }
    }
    this.masters.delete(master.name);
  }

  /**
   * `arm_smmu_domain_alloc_paging` → `arm_smmu_init_domain_context`: a stage-1 context bank
   * from NUMS2CB upwards (`ENOSPC` when none is free), ASID = bank, io-pgtable tables, the
   * bank written. AArch64 format; a v1 SMMU would use the AArch32 LPAE format, whose 32-bit
   * input range (ias 32, oas 40) is kept on the AArch64 descriptors (not modelled apart).
   * `flush.omitLeafTlbi` plants the missing-TLBI bug, for tests that must see it caught.
   */
  allocDomain(type: IommuDomainType, flush: FlushOpsOptions = {}): SmmuDriverDomain {
    const cb = this.contextMap.findIndex((d, i) => d === null && i >= this.numS2ContextBanks);
    if (cb < 0) throw new KernelError('ENOSPC', `${this.name}: no free context bank`);
    const domain = new SmmuDriverDomain({
      host: this,
      allocator: this.allocator,
      type,
      // arm_smmu_init_domain_context: AArch64 → ias = va_size, oas = ipa_size (ID2.IAS: 48 in the
      // model); AArch32 LPAE → ias = min(ias, 32), oas = min(oas, 40).
      ias: this.aarch64 ? 48 : 32,
      oas: this.aarch64 ? 48 : 40,
      coherentWalk: this.coherentWalk,
      flushOps: this.hw.flushOps(cb, flush),
      reservedRegions: armSmmuResvRegions(),
      context: cb,
      ops: ARM_SMMU_OPS,
    });
    this.contextMap[cb] = domain;
    this.hw.writeContextBank(cb, domain.pgtable);
    return domain;
  }

  /** `arm_smmu_attach_dev` → `arm_smmu_domain_add_master`: S2CR TRANS to the domain's bank. */
  attachDev(domain: SmmuDriverDomain, endpoint: IommuEndpoint): void {
    const cfg = this.masters.get(endpoint.device);
    // arm_smmu_attach_dev: "We don't support domains across different SMMUs" (EINVAL).
    if (cfg === undefined) throw new KernelError('EINVAL', `${endpoint.device} is not behind ${this.name}`);
    if (this.contextMap[domain.context] !== domain)
      throw new KernelError('EINVAL', `${endpoint.device}: domain of another SMMU`);
    for (const idx of cfg.smendx) {
      const s2cr = this.streamMap.s2crs[idx]!;
      this.entryDomain[idx] = domain;
      if (s2cr.type === R.S2CR_TYPE_TRANS && s2cr.cbndx === domain.context) continue;
      s2cr.type = R.S2CR_TYPE_TRANS;
      s2cr.cbndx = domain.context;
      this.hw.writeS2cr(idx, s2cr.type, s2cr.cbndx);
    }
  }

  /**
   * Leaving a domain for the core's blocking domain (`arm_smmu_blocked_domain`: S2CR FAULT).
   * Entries already moved to another domain are left alone.
   */
  detachDev(domain: SmmuDriverDomain, endpoint: IommuEndpoint): void {
    const cfg = this.masters.get(endpoint.device);
    if (cfg === undefined) return;
    for (const idx of cfg.smendx) {
      if (this.entryDomain[idx] !== domain) continue;
      const s2cr = this.streamMap.s2crs[idx]!;
      this.entryDomain[idx] = null;
      s2cr.type = R.S2CR_TYPE_FAULT;
      s2cr.cbndx = 0;
      this.hw.writeS2cr(idx, s2cr.type, s2cr.cbndx);
    }
  }

  /**
   * `arm_smmu_destroy_domain_context`: the bank written without a domain (SCTLR 0), then
   * `free_io_pgtable_ops` (TLBIASID + sync, tables freed), then the bank back in the bitmap.
   */
  destroy(domain: SmmuDriverDomain, freeTables: () => void): void {
    if (this.contextMap[domain.context] !== domain)
      throw new KernelError('EINVAL', `context bank ${domain.context} does not hold this domain`);
    if (this.entryDomain.includes(domain))
      throw new KernelError('EBUSY', `context bank ${domain.context} still has streams attached`);
    this.regs.write(this.hw.contextBankBase(domain.context) + R.CB_SCTLR, 4, 0);
    freeTables();
    this.hw.disableContextBank(domain.context);
    this.contextMap[domain.context] = null;
  }

  // generic_device_group → iommu_group_alloc; the default domain (IOMMU_DOMAIN_DMA, as
  // CONFIG_IOMMU_DEFAULT_DMA_STRICT arm64 kernels make it) is allocated with the group.
  private newGroup(): IommuGroup {
    const defaultDomain = this.allocDomain('dma');
    try {
      return this.probe.allocGroup({
        iommu: this.node,
        allocateDomain: () => this.allocDomain('unmanaged'),
        defaultDomain,
        cacheCoherent: (device) => this.coherentWalk || this.masterCoherent(device),
        reservedRegions: () => armSmmuResvRegions(),
      });
    } catch (error) {
      defaultDomain.free();
      throw error;
    }
  }

  // device_get_dma_attr() of a probed master.
  private masterCoherent(device: string): boolean {
    return this.masters.get(device)?.dmaCoherent ?? false;
  }

  // arm_smmu_write_sme: S2CR then SMR.
  private writeSme(idx: number): void {
    const s2cr = this.streamMap.s2crs[idx]!;
    const smr = this.streamMap.smrs[idx]!;
    this.hw.writeS2cr(idx, s2cr.type, s2cr.cbndx);
    this.hw.writeSmr(idx, smr.id, smr.mask, smr.valid);
  }

  // arm_smmu_context_fault: read FSR (nothing to do without a fault), FSYNR0, FAR,
  // CBFRSYNRA, report, then write FSR back to clear it.
  private contextFault(cb: number): void {
    const base = this.hw.contextBankBase(cb);
    const fsr = this.regs.read(base + R.CB_FSR, 4);
    if ((fsr & R.FSR_FAULT) === 0) return;
    const fsynr = this.regs.read(base + R.CB_FSYNR0, 4);
    const far = this.regs.read(base + R.CB_FAR + 4, 4) * 0x1_0000_0000 + this.regs.read(base + R.CB_FAR, 4);
    const cbfrsynra = this.regs.read(0x1000 + R.GR1_CBFRSYNRA_BASE + 4 * cb, 4);
    this.faults.push({ contextBank: cb, fsr, far, fsynr, cbfrsynra });
    this.log(
      `arm-smmu ${this.name}: Unhandled context fault: fsr=0x${fsr.toString(16)}, iova=0x${far.toString(16).padStart(8, '0')}, fsynr=0x${fsynr.toString(16)}, cbfrsynra=0x${cbfrsynra.toString(16)}, cb=${cb}`,
    );
    this.regs.write(base + R.CB_FSR, 4, fsr);
  }

  // arm_smmu_global_fault: read sGFSR and the syndromes (nothing to do without a fault), report
  // (an unidentified stream with disable_bypass names the ID and the parameter), clear.
  private globalFault(): void {
    const gfsr = this.regs.read(R.GR0_sGFSR, 4);
    if (gfsr === 0) return;
    const gfsynr0 = this.regs.read(R.GR0_sGFSYNR0, 4);
    const gfsynr1 = this.regs.read(R.GR0_sGFSYNR1, 4);
    const gfsynr2 = this.regs.read(R.GR0_sGFSYNR2, 4);
    this.globalFaults.push({ gfsr, gfsynr0, gfsynr1, gfsynr2 });
    const hex8 = (value: number): string => `0x${value.toString(16).padStart(8, '0')}`;
    this.log(
      this.initType === R.S2CR_TYPE_FAULT && (gfsr & R.sGFSR_USF) !== 0
        ? `arm-smmu ${this.name}: Blocked unknown Stream ID 0x${(gfsynr1 & 0xffff).toString(16)}; boot with "arm-smmu.disable_bypass=0" to allow, but this may have security implications`
        : `arm-smmu ${this.name}: Unexpected global fault, this could be serious`,
    );
    this.log(
      `arm-smmu ${this.name}: \tGFSR ${hex8(gfsr)}, GFSYNR0 ${hex8(gfsynr0)}, GFSYNR1 ${hex8(gfsynr1)}, GFSYNR2 ${hex8(gfsynr2)}`,
    );
    this.regs.write(R.GR0_sGFSR, 4, gfsr);
  }

  private probeError(master: IommuMaster, message: string): KernelError {
    this.log(`${master.name}: ${message}`);
    return new KernelError('EINVAL', `${master.name}: ${message}`);
  }
}
