import {
  type IommuDmaOwnership,
  IommuGroup,
  type IommuGroupIds,
  type IommuGroupOptions,
  isKernelError,
  KernelError,
  rejectUnknownOptions,
} from '@vfiokit/core';
import type { IommuFwspec, IommuMaster, IommuOps } from './iommu-master.js';

/** Options of an {@link IommuProbe}. */
export interface IommuProbeOptions {
  /** `iommu_group_ida`: shared with VFIO's fake groups so ids come out as on the kernel. */
  readonly groupIds: IommuGroupIds;
  /** The DMA-ownership book the driver core's `dma_configure` uses too. */
  readonly ownership: IommuDmaOwnership;
  /**
   * Every device on the IOMMU buses in `bus_iommu_probe` order: `iommu_buses[]` lists the
   * platform bus before AMBA, and each bus walks its devices in the order they were added.
   */
  readonly masters: () => readonly IommuMaster[];
  /** Called when a master joins a group (probe) or leaves it (release). */
  readonly onGroupChange?: (device: string, group: IommuGroup | undefined) => void;
}

/** What happened to one master the last time it was probed. */
export type IommuProbeOutcome =
  | { readonly kind: 'grouped'; readonly group: IommuGroup; readonly fwspec: IommuFwspec }
  /** `-ENODEV` from of_iommu_configure: no `iommus`, or an unavailable IOMMU node. */
  | { readonly kind: 'no-iommu' }
  /** `-EPROBE_DEFER`: the IOMMU node has no registered instance yet. */
  | { readonly kind: 'deferred'; readonly iommu: string }
  /** Any other error: the device has no group (of_dma_configure_id logs it and goes on). */
  | { readonly kind: 'failed'; readonly error: KernelError };

/**
 * The firmware half of the IOMMU probe path for device-tree masters: drivers/iommu/of_iommu.c
 * `of_iommu_configure` → `of_iommu_configure_dev` → `of_iommu_xlate` (one `iommus` entry at a
 * time, `iommu_fwspec_init` then the driver's `of_xlate`), then drivers/iommu/iommu.c
 * `__iommu_probe_device` (`probe_device`, `device_group`, `iommu_group_add_device`), and
 * `iommu_device_register` → `bus_iommu_probe`, which since Linux 6.11 replays `dma_configure`
 * for every driverless device on the IOMMU buses, so masters get their groups when their
 * IOMMU probes. Group ids come from one IDA (`iommu_group_alloc`).
 */
export class IommuProbe {
  private readonly ids: IommuGroupIds;
  private readonly book: IommuDmaOwnership;
  private readonly allMasters: () => readonly IommuMaster[];
  private readonly onGroupChange: (device: string, group: IommuGroup | undefined) => void;
  private readonly instances = new Map<string, IommuOps>();
  private readonly outcomes = new Map<string, IommuProbeOutcome>();
  private readonly allGroups: IommuGroup[] = [];

  constructor(options: IommuProbeOptions) {
    rejectUnknownOptions(options, ['groupIds', 'ownership', 'masters', 'onGroupChange'], 'IommuProbe');
    this.ids = options.groupIds;
    this.book = options.ownership;
    this.allMasters = options.masters;
    this.onGroupChange = options.onGroupChange ?? (() => undefined);
  }

  /** Groups formed so far, in creation (id allocation) order. */
  get groups(): readonly IommuGroup[] {
    return this.allGroups.filter((group) => group.devices.length > 0);
  }

  /** The registered IOMMU instances by node path. */
  get registered(): ReadonlyMap<string, IommuOps> {
    return this.instances;
  }

  /** The group of a master, if it has one. */
  groupOf(device: string): IommuGroup | undefined {
    const outcome = this.outcomes.get(device);
    return outcome?.kind === 'grouped' ? outcome.group : undefined;
  }

  /** The fwspec of a grouped master: its IOMMU node and firmware IDs. */
  fwspecOf(device: string): IommuFwspec | undefined {
    const outcome = this.outcomes.get(device);
    return outcome?.kind === 'grouped' ? outcome.fwspec : undefined;
  }

  /** How the last probe of `device` ended (undefined: never probed). */
  outcome(device: string): IommuProbeOutcome | undefined {
    return this.outcomes.get(device);
  }

  /**
   * `iommu_group_alloc` with the driver's callbacks: the next id of the shared IDA, the shared
   * ownership book.
   */
  allocGroup(options: Omit<IommuGroupOptions, 'id' | 'ownership'>): IommuGroup {
    const id = this.ids.alloc();
    try {
      const group = new IommuGroup({ ...options, id, ownership: this.book });
      this.allGroups.push(group);
      return group;
    } catch (error) {
      this.ids.free(id);
      throw error;
    }
  }

  /**
   * `iommu_device_register(iommu, ops, dev)` then `bus_iommu_probe` over the buses: every
   * master not in a group yet is probed again. `EEXIST` for a node registered twice.
   */
  register(node: string, ops: IommuOps): void {
    if (this.instances.has(node)) throw new KernelError('EEXIST', `${node} is registered already`);
    this.instances.set(node, ops);
    for (const master of this.allMasters()) {
      if (this.groupOf(master.name) === undefined) this.probe(master);
    }
  }

  /**
   * `of_iommu_configure` + `iommu_probe_device` for one master (a device added to a bus, or
   * the replay of `bus_iommu_probe`). A master already in a group is left alone.
   */
  probe(master: IommuMaster): IommuProbeOutcome {
    const existing = this.outcomes.get(master.name);
    if (existing?.kind === 'grouped') return existing;
    const outcome = this.configure(master);
    this.outcomes.set(master.name, outcome);
    if (outcome.kind === 'grouped') this.onGroupChange(master.name, outcome.group);
    return outcome;
  }

  /** `iommu_release_device`: the master leaves its group (device removed from its bus). */
  release(master: IommuMaster): void {
    const outcome = this.outcomes.get(master.name);
    this.outcomes.delete(master.name);
    if (outcome?.kind !== 'grouped') return;
    outcome.group.removeDevice(master.name);
    outcome.fwspec.ops.releaseDevice(master, outcome.fwspec);
    this.dropIfEmpty(outcome.group);
    this.onGroupChange(master.name, undefined);
  }

  // iommu_group_release: the id goes back to the IDA with the group's last reference.
  private dropIfEmpty(group: IommuGroup): void {
    const at = this.allGroups.indexOf(group);
    if (group.devices.length > 0 || at < 0) return;
    this.ids.free(group.id);
    this.allGroups.splice(at, 1);
  }

  private configure(master: IommuMaster): IommuProbeOutcome {
    let fwspec: IommuFwspec | undefined;
    // of_iommu_configure_dev: -ENODEV unless an entry is translated; stop at the first error.
    for (const link of master.iommus) {
      // of_iommu_xlate: an unavailable IOMMU node means no IOMMU.
      if (!link.targetAvailable) return { kind: 'no-iommu' };
      const ops = this.instances.get(link.target);
      // iommu_fwspec_init: no instance for the node yet → driver_deferred_probe_check_state.
      if (ops === undefined) return { kind: 'deferred', iommu: link.target };
      // A later entry must belong to the same driver (ops), not the same instance.
      if (fwspec === undefined) fwspec = { iommu: link.target, ops, ids: [] };
      else if (fwspec.ops !== ops)
        return failed(
          new KernelError('EINVAL', `${master.name}: ${link.target} is behind another IOMMU driver`),
        );
      try {
        ops.ofXlate(fwspec, link);
      } catch (error) {
        if (!isKernelError(error)) throw error;
        return failed(error);
      }
    }
    if (fwspec === undefined) return { kind: 'no-iommu' };
    let probed: ReturnType<IommuOps['probeDevice']>;
    try {
      probed = fwspec.ops.probeDevice(master, fwspec);
    } catch (error) {
      if (!isKernelError(error)) throw error;
      return failed(error);
    }
    const { group, endpoint } = probed;
    try {
      // iommu_group_add_device, then the device attaches to the group's current domain.
      group.addDevice(endpoint);
    } catch (error) {
      if (!isKernelError(error)) throw error;
      fwspec.ops.releaseDevice(master, fwspec);
      this.dropIfEmpty(group);
      return failed(error);
    }
    return { kind: 'grouped', group, fwspec };
  }
}

function failed(error: KernelError): IommuProbeOutcome {
  return { kind: 'failed', error };
}
