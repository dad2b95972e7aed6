import { KernelError, type PhysAddr, type PhysicalMemory } from '@vfiokit/core';
import { VfioContainer } from './container/container.js';
import { VfioDevice, type VfioDeviceSpec } from './device/vfio-device.js';
import { VfioGroupFile } from './group/group-file.js';
import { VfioGroup } from './group/vfio-group.js';
import type { IommuGroup } from './iommu/iommu-group.js';
import { KERNEL_V6_18, type KernelProfile, viabilityByDmaOwnership } from './profile.js';
import {
  type1DmaRw,
  type1PinPages,
  type1UnpinPages,
  VFIO_PIN_PAGES_MAX_ENTRIES,
} from './type1/external-pin.js';
import { type MsiIsolation, NO_ISOLATED_MSI } from './type1/msi-isolation.js';
import type { Type1Iommu, Type1Params } from './type1/type1-iommu.js';
import type { VfioFile } from './user/file.js';
import type { Task } from './user/task.js';

/** Module parameters of vfio.ko and vfio_iommu_type1.ko; writable at run time like their 0644 files. */
export interface VfioParams extends Type1Params {
  /** `vfio.enable_unsafe_noiommu_mode` (default false). */
  enableUnsafeNoiommuMode: boolean;
}

/** Options of a {@link Vfio} core. */
export interface VfioOptions {
  /** Kernel behaviour to model (default v6.18). */
  readonly profile?: KernelProfile;
  /** `allow_unsafe_interrupts` (default false). */
  readonly allowUnsafeInterrupts?: boolean;
  /** `dma_entry_limit` (default 65535). */
  readonly dmaEntryLimit?: number;
  /** `enable_unsafe_noiommu_mode` (default false). */
  readonly enableUnsafeNoiommuMode?: boolean;
  /** MSI isolation answers (default: nothing isolated, as for DT devices without `msi-parent`). */
  readonly msiIsolation?: MsiIsolation;
  /**
   * The driver bound to a device, for pre-v5.19 viability (every device of the group unbound,
   * or bound to a VFIO driver or pci-stub). Default: nothing bound.
   */
  readonly deviceDriver?: (device: string) => string | null;
}

/** A device registration: the bus driver's ops plus the device's IOMMU group (if any). */
export interface VfioGroupDeviceSpec extends VfioDeviceSpec {
  readonly iommuGroup: IommuGroup | undefined;
}

// vfio_dev_driver_allowed (pre-v5.19 drivers/vfio/vfio.c) plus the VFIO bus drivers themselves.
const LEGACY_VIABLE_DRIVERS = new Set(['vfio-platform', 'vfio-amba', 'vfio-pci', 'pci-stub']);

/**
 * The VFIO core (drivers/vfio/vfio_main.c, group.c, container.c): device registration into
 * groups, `/dev/vfio/vfio` and `/dev/vfio/<group>`, module parameters and the kernel profile.
 */
export class Vfio {
  readonly profile: KernelProfile;
  readonly params: VfioParams;
  readonly msiIsolation: MsiIsolation;
  /** Set once a no-IOMMU group was created (`add_taint(TAINT_USER)`). */
  tainted = false;
  private readonly groupsByName = new Map<string, VfioGroup>();
  private readonly deviceDriver: (device: string) => string | null;

  constructor(options: VfioOptions = {}) {
    this.profile = options.profile ?? KERNEL_V6_18;
    this.params = {
      allowUnsafeInterrupts: options.allowUnsafeInterrupts ?? false,
      dmaEntryLimit: options.dmaEntryLimit ?? 65535,
      enableUnsafeNoiommuMode: options.enableUnsafeNoiommuMode ?? false,
    };
    this.msiIsolation = options.msiIsolation ?? NO_ISOLATED_MSI;
    this.deviceDriver = options.deviceDriver ?? (() => null);
  }

  /** Groups with registered devices, by `/dev/vfio` name. */
  get groups(): ReadonlyMap<string, VfioGroup> {
    return this.groupsByName;
  }

  /**
   * `vfio_register_group_dev`: the device joins the VFIO group of its IOMMU group. Without one,
   * a no-IOMMU group when that mode is on (tainting the kernel), else `EINVAL`; `EINVAL` too when
   * the IOMMU cannot enforce cache coherency for it (`IOMMU_CAP_CACHE_COHERENCY`).
   */
  registerGroupDevice(spec: VfioGroupDeviceSpec): VfioDevice {
    const iommuGroup = spec.iommuGroup;
    let group: VfioGroup;
    if (iommuGroup === undefined) {
      if (!this.params.enableUnsafeNoiommuMode)
        throw new KernelError('EINVAL', `${spec.name} has no IOMMU group`);
      group = new VfioGroup(this.nextGroupId(), 'noiommu', null);
      this.tainted = true;
    } else {
      if (!iommuGroup.cacheCoherent(spec.name)) {
        throw new KernelError(
          'EINVAL',
          `${spec.name}: the IOMMU cannot enforce cache coherency (IOMMU_CAP_CACHE_COHERENCY)`,
        );
      }
      group = this.groupsByName.get(`${iommuGroup.id}`) ?? new VfioGroup(iommuGroup.id, 'iommu', iommuGroup);
    }
    return this.addDevice(group, spec);
  }

  /** `vfio_register_emulated_iommu_dev`: always a new emulated group; no IOMMU, no coherency check, no taint. */
  registerEmulatedIommuDevice(spec: VfioDeviceSpec): VfioDevice {
    return this.addDevice(new VfioGroup(this.nextGroupId(), 'emulated', null), spec);
  }

  /**
   * `vfio_unregister_group_dev`: the device leaves its group once every fd of it is closed —
   * at once (returning nothing) when none is open, else when the returned promise settles.
   */
  unregisterDevice(device: VfioDevice): void | Promise<void> {
    const group = this.groupOf(device);
    if (group === undefined) throw new KernelError('ENODEV', `${device.name} is not registered`);
    const leave = (): void => {
      group.devices.splice(group.devices.indexOf(device), 1);
      if (group.devices.length === 0) this.groupsByName.delete(group.name);
    };
    const waiting = device.unregister();
    if (waiting === undefined) {
      leave();
      return undefined;
    }
    return waiting.then(leave);
  }

  /**
   * `vfio_pin_pages` (drivers/vfio/vfio_main.c → type1): for emulated-IOMMU devices. `EINVAL`
   * for npage 0, a device not open or without `dma_unmap`; `E2BIG` past
   * VFIO_PIN_PAGES_MAX_ENTRIES; `ENOTTY` for a backend that cannot pin (no-IOMMU); then type1's
   * errors. Returns the physical pages.
   */
  pinPages(device: VfioDevice, iova: number, npage: number, prot: number): PhysAddr[] {
    this.checkPinArgs(device, npage);
    if (npage > VFIO_PIN_PAGES_MAX_ENTRIES)
      throw new KernelError('E2BIG', `${npage} pages > ${VFIO_PIN_PAGES_MAX_ENTRIES}`);
    const iommu = this.pinBackend(device);
    const first = iommu.dmas.find(iova, 1);
    return type1PinPages(iommu, iova, npage, prot, first?.task.rlimitMemlock ?? 0);
  }

  /** `vfio_unpin_pages`. */
  unpinPages(device: VfioDevice, iova: number, npage: number): void {
    this.checkPinArgs(device, npage);
    type1UnpinPages(this.pinBackend(device), iova, npage);
  }

  /** `vfio_dma_rw`: `EINVAL` for no data or a device not open; then type1's checks. */
  dmaRw(device: VfioDevice, memory: PhysicalMemory, iova: number, data: Uint8Array, write: boolean): void {
    if (data.length === 0 || device.openCount === 0)
      throw new KernelError('EINVAL', 'vfio_dma_rw: no data or device not open');
    const iommu = this.groupOf(device)?.container?.type1;
    if (iommu === undefined || iommu === null)
      throw new KernelError('ENOTTY', 'the container backend has no dma_rw');
    type1DmaRw(iommu, memory, iova, data, write);
  }

  private checkPinArgs(device: VfioDevice, npage: number): void {
    if (npage <= 0 || device.openCount === 0 || device.ops.dmaUnmap === undefined) {
      throw new KernelError('EINVAL', `vfio_pin_pages: ${device.name} not open, no dma_unmap, or no pages`);
    }
  }

  private pinBackend(device: VfioDevice): Type1Iommu {
    const container = this.groupOf(device)?.container;
    if (container === null || container === undefined)
      throw new KernelError('EINVAL', `${device.name} has no container`);
    const iommu = container.type1;
    if (iommu === null) throw new KernelError('ENOTTY', 'the container backend cannot pin pages');
    return iommu;
  }

  /** The VFIO group holding `device`, if registered. */
  groupOf(device: VfioDevice): VfioGroup | undefined {
    return [...this.groupsByName.values()].find((g) => g.devices.includes(device));
  }

  /** `open("/dev/vfio/vfio")`: a new, empty container. */
  openContainer(): VfioContainer {
    return new VfioContainer({
      params: this.params,
      msiIsolation: this.msiIsolation,
      profile: this.profile,
      noiommuEnabled: () => this.params.enableUnsafeNoiommuMode,
    });
  }

  /**
   * `open("/dev/vfio/<name>")` (vfio_group_fops_open): `ENOENT` for no such node, `ENODEV`
   * once its devices are gone, `EPERM` for a no-IOMMU group without CAP_SYS_RAWIO, `EBUSY`
   * when it is open already (single opener).
   */
  openGroup(current: Task, name: string, install: (file: VfioFile) => number): VfioGroupFile {
    const group = this.groupsByName.get(name);
    if (group === undefined) throw new KernelError('ENOENT', `/dev/vfio/${name} does not exist`);
    if (group.registeredDevices.length === 0)
      throw new KernelError('ENODEV', `group ${name} is being torn down`);
    if (group.kind === 'noiommu' && !current.capable('CAP_SYS_RAWIO')) {
      throw new KernelError('EPERM', 'no-IOMMU groups need CAP_SYS_RAWIO');
    }
    if (group.opened) throw new KernelError('EBUSY', `group ${name} is open already`);
    group.opened = true;
    return new VfioGroupFile(group, {
      viable: (g) => this.viable(g),
      deviceFdNeedsViability: !viabilityByDmaOwnership(this.profile),
      installFile: (_task, file) => install(file),
    });
  }

  /**
   * Group viability: from v5.19 a group is viable while no kernel driver owns its DMA
   * (`!iommu_group_dma_owner_claimed`); before, while every device is unbound or bound to a
   * VFIO driver (or pci-stub).
   */
  viable(group: VfioGroup): boolean {
    const iommuGroup = group.iommuGroup;
    if (iommuGroup === null) return true;
    if (viabilityByDmaOwnership(this.profile)) return !iommuGroup.dmaOwnerClaimed();
    return iommuGroup.devices.every((d) => {
      const driver = this.deviceDriver(d);
      return driver === null || LEGACY_VIABLE_DRIVERS.has(driver);
    });
  }

  private addDevice(group: VfioGroup, spec: VfioDeviceSpec): VfioDevice {
    // vfio_group_find_or_alloc: WARN_ON(vfio_group_has_device(group, dev)) → -EINVAL.
    if (group.devices.some((d) => d.name === spec.name)) {
      throw new KernelError('EINVAL', `${spec.name} is registered already`);
    }
    const device = new VfioDevice(spec);
    group.devices.push(device);
    this.groupsByName.set(group.name, group);
    return device;
  }

  // iommu_group_alloc for fake groups: ids from a range the IOMMU drivers' groups do not use
  // in this model (the kernel shares one IDA; a separate range keeps device trees' ids stable).
  private nextGroupId(): number {
    while (
      this.groupsByName.has(`${this.syntheticId}`) ||
      this.groupsByName.has(`noiommu-${this.syntheticId}`)
    ) {
      this.syntheticId++;
    }
    return this.syntheticId++;
  }

  private syntheticId = 1000;
}
