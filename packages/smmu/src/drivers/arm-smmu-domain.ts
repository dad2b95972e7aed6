import {
  type IommuDomainType,
  type IommuEndpoint,
  type IommuReservedRegion,
  KernelError,
} from '@vfiokit/core';
import type { DomainFlushOps } from '../pgtable/lpae-domain.js';
import { ArmLpaeDomain } from '../pgtable/lpae-domain.js';
import type { TablePageAllocator } from '../pgtable/page-allocator.js';

/** What a driver domain asks of its SMMU instance. */
export interface SmmuDomainHost {
  /** Programs the endpoint's streams to translate through `domain` (S2CR TRANS / STE S1). */
  attachDev(domain: SmmuDriverDomain, endpoint: IommuEndpoint): void;
  /**
   * The endpoint leaves `domain`. The core attaches the next domain before it detaches the
   * previous one, so the instance blocks the streams only if they still point at `domain`.
   */
  detachDev(domain: SmmuDriverDomain, endpoint: IommuEndpoint): void;
  /**
   * Frees the context (bank, ASID) at domain free: the driver's teardown, which calls
   * `freeTables` (free_io_pgtable_ops: flush all, then the tables) at the point it does.
   */
  destroy(domain: SmmuDriverDomain, freeTables: () => void): void;
}

/** Options of a {@link SmmuDriverDomain}. */
export interface SmmuDriverDomainOptions {
  readonly host: SmmuDomainHost;
  readonly allocator: TablePageAllocator;
  readonly type: IommuDomainType;
  readonly ias: number;
  readonly oas: number;
  readonly coherentWalk: boolean;
  readonly flushOps: DomainFlushOps;
  readonly reservedRegions: readonly IommuReservedRegion[];
  /** Context bank (arm-smmu) or ASID (arm-smmu-v3) the domain translates with. */
  readonly context: number;
  /** The driver's `iommu_domain_ops`: one object per driver, shared by all its instances. */
  readonly ops: object;
}

/**
 * A paging domain of an SMMU driver: an {@link ArmLpaeDomain} (stage-1 io-pgtable-arm tables,
 * flushed with the driver's TLBI sequences) whose attach and detach program the SMMU.
 */
export class SmmuDriverDomain extends ArmLpaeDomain {
  /** The context bank (arm-smmu) or ASID (arm-smmu-v3). */
  readonly context: number;
  /** `domain->ops`: type1 shares a domain only between groups whose domains have the same. */
  readonly ops: object;
  private readonly host: SmmuDomainHost;
  private freed = false;

  constructor(options: SmmuDriverDomainOptions) {
    super({
      allocator: options.allocator,
      format: 'ARM_64_LPAE_S1',
      ias: options.ias,
      oas: options.oas,
      coherentWalk: options.coherentWalk,
      type: options.type,
      reservedRegions: options.reservedRegions,
      flushOps: options.flushOps,
    });
    this.host = options.host;
    this.context = options.context;
    this.ops = options.ops;
  }

  override attach(endpoint: IommuEndpoint): void {
    super.attach(endpoint);
    try {
      this.host.attachDev(this, endpoint);
    } catch (error) {
      super.detach(endpoint);
      throw error;
    }
  }

  override detach(endpoint: IommuEndpoint): void {
    super.detach(endpoint);
    this.host.detachDev(this, endpoint);
  }

  /** `domain_free`: the context goes back to the SMMU, then the tables to the allocator. */
  override free(): void {
    if (this.freed) throw new KernelError('EINVAL', `domain (context ${this.context}) freed twice`);
    this.host.destroy(this, () => super.free());
    this.freed = true;
  }
}
