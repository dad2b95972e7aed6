import {
  type IommuGroup,
  IommuGroupIda,
  type IommuGroupIds,
  KernelError,
  type PhysAddr,
  type PhysicalMemory,
  rejectUnknownOptions,
} from '@vfiokit/core';
import { cdevDeviceOpenCount, cdevDmaRw, cdevPinPages, cdevUnpinPages } from './cdev/cdev-binding.js';
import { VfioContainer } from './container/container.js';
import { VfioDevice, type VfioDeviceSpec } from './device/vfio-device.js';
import { VfioGroupFile } from './group/group-file.js';
import { VfioGroup } from './group/vfio-group.js';
import { type ModuleParamValue, parseBoolParam, parseUintParam } from './kernel/module-params.js';
import { TAINT_USER } from './kernel/taint.js';
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
  /**
   * Module parameters by their kernel names, as on the command line
   * (`vfio.enable_unsafe_noiommu_mode`, `vfio_iommu_type1.allow_unsafe_interrupts`,
   * `vfio_iommu_type1.dma_entry_limit`; the module prefix may be left out). Applied after the
   * camel-case options, through {@link Vfio.setParam}.
   */
  readonly moduleParams?: Readonly<Record<string, ModuleParamValue>>;
  /** The IOMMU group id space shared with the IOMMU drivers (default: a private IDA from 0). */
  readonly iommuGroupIds?: IommuGroupIds;
  /** Kernel log lines (`dev_warn`), as `"<driver> <device>: <message>"`. */
  readonly log?: (line: string) => void;
  /**
   * `CONFIG_VFIO_DEVICE_CDEV`: each registered device that is not no-IOMMU also gets
   * `/dev/vfio/devices/vfio<index>` (default false, the Kconfig default while VFIO_GROUP is set).
   */
  readonly deviceCdev?: boolean;
  /**
   * NOT IN LINUX — the proposed no-IOMMU mode for the device cdev (Jacob Pan, Oct 2025, after
   * Yi Liu's earlier patch; not merged): with `deviceCdev`, a no-IOMMU device also gets
   * `/dev/vfio/devices/vfio<index>`, and VFIO_DEVICE_BIND_IOMMUFD binds it through an
   * `iommufd_access` (`vfio_iommufd_noiommu_bind`) for a caller with CAP_SYS_RAWIO (`EPERM`
   * otherwise) while `enable_unsafe_noiommu_mode` is on; the device still taints. Default false:
   * Linux 6.12, where `vfio_device_add` gives a no-IOMMU device no cdev.
   */
  readonly noiommuCdev?: boolean;
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

/**
 * An IOMMU group VFIO allocated itself (`vfio_noiommu_group_alloc`): for a no-IOMMU or an
 * emulated-IOMMU device, named `vfio-noiommu` (`/sys/kernel/iommu_groups/<id>/name`), with the
 * device added to it (its `iommu_group` link).
 */
export interface FakeIommuGroup {
  readonly id: number;
  readonly name: 'vfio-noiommu';
  readonly devices: readonly string[];
}

const VFIO_OPTION_KEYS = [
  'profile',
  'allowUnsafeInterrupts',
  'dmaEntryLimit',
  'enableUnsafeNoiommuMode',
  'moduleParams',
  'msiIsolation',
  'deviceDriver',
  'iommuGroupIds',
  'log',
  'deviceCdev',
  'noiommuCdev',
] as const satisfies readonly (keyof VfioOptions)[];

// The module parameters vfio.ko and vfio_iommu_type1.ko declare, by module.
const PARAM_MODULES: Readonly<Record<string, string>> = {
  enable_unsafe_noiommu_mode: 'vfio',
  allow_unsafe_interrupts: 'vfio_iommu_type1',
  dma_entry_limit: 'vfio_iommu_type1',
};

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
  private readonly ids: IommuGroupIds;
  private readonly fakeGroups = new Map<number, { id: number; name: 'vfio-noiommu'; devices: string[] }>();
  private readonly log: (line: string) => void;
  private readonly deviceCdev: boolean;
  /** NOT IN LINUX — the proposed no-IOMMU cdev profile ({@link VfioOptions.noiommuCdev}). */
  readonly noiommuCdev: boolean;
  // vfio.device_ida: `device->index`, allocated for every vfio_device (vfio_init_device).
  private readonly deviceIndexes = new Map<VfioDevice, number>();

  constructor(options: VfioOptions = {}) {
    rejectUnknownOptions(options, VFIO_OPTION_KEYS, 'Vfio');
    this.profile = options.profile ?? KERNEL_V6_18;
    this.params = {
      allowUnsafeInterrupts: options.allowUnsafeInterrupts ?? false,
      dmaEntryLimit: options.dmaEntryLimit ?? 65535,
      enableUnsafeNoiommuMode: options.enableUnsafeNoiommuMode ?? false,
    };
    this.msiIsolation = options.msiIsolation ?? NO_ISOLATED_MSI;
    this.deviceDriver = options.deviceDriver ?? (() => null);
    this.ids = options.iommuGroupIds ?? new IommuGroupIda();
    this.log = options.log ?? (() => undefined);
    this.deviceCdev = options.deviceCdev ?? false;
    this.noiommuCdev = options.noiommuCdev ?? false;
    for (const [name, value] of Object.entries(options.moduleParams ?? {})) this.setParam(name, value);
  }

  /**
   * Writes a module parameter by its kernel name, as `/sys/module/<m>/parameters/<p>` (all
   * three are 0644) or the kernel command line would: `enable_unsafe_noiommu_mode` or
   * `vfio.enable_unsafe_noiommu_mode`, `[vfio_iommu_type1.]allow_unsafe_interrupts`,
   * `[vfio_iommu_type1.]dma_entry_limit`. Values as `param_set_bool` / `param_set_uint` parse
   * them; `EINVAL` for a bad value, `ENOENT` for a parameter these modules do not have.
   */
  setParam(name: string, value: ModuleParamValue): void {
    const param = this.paramName(name);
    if (param === 'enable_unsafe_noiommu_mode')
      this.params.enableUnsafeNoiommuMode = parseBoolParam(name, value);
    else if (param === 'allow_unsafe_interrupts')
      this.params.allowUnsafeInterrupts = parseBoolParam(name, value);
    else this.params.dmaEntryLimit = parseUintParam(name, value);
  }

  /** Reads a module parameter as its sysfs file prints it (`Y`/`N` for bools, decimal for ints). */
  param(name: string): string {
    const param = this.paramName(name);
    if (param === 'enable_unsafe_noiommu_mode') return this.params.enableUnsafeNoiommuMode ? 'Y' : 'N';
    if (param === 'allow_unsafe_interrupts') return this.params.allowUnsafeInterrupts ? 'Y' : 'N';
    return `${this.params.dmaEntryLimit}`;
  }

  private paramName(
    name: string,
  ): 'enable_unsafe_noiommu_mode' | 'allow_unsafe_interrupts' | 'dma_entry_limit' {
    const dot = name.indexOf('.');
    const module = dot < 0 ? undefined : name.slice(0, dot);
    const param = dot < 0 ? name : name.slice(dot + 1);
    const owner = PARAM_MODULES[param];
    if (owner === undefined || (module !== undefined && module !== owner))
      throw new KernelError('ENOENT', `no module parameter ${name}`);
    return param as 'enable_unsafe_noiommu_mode' | 'allow_unsafe_interrupts' | 'dma_entry_limit';
  }

  /** The taint bits VFIO added (`/proc/sys/kernel/tainted` contribution): `1 << TAINT_USER` = 64 once tainted. */
  get taint(): number {
    return this.tainted ? 1 << TAINT_USER : 0;
  }

  /** The IOMMU groups VFIO allocated for no-IOMMU and emulated devices, by id. */
  get fakeIommuGroups(): ReadonlyMap<number, FakeIommuGroup> {
    return this.fakeGroups;
  }

  /**
   * `ls /dev/vfio`: the group char devices (`<id>`, `noiommu-<id>`) and the `vfio` misc device,
   * sorted as `ls` sorts. (The device cdevs under `/dev/vfio/devices` are not modelled.)
   */
  devNodes(): string[] {
    const names = [...this.groupsByName.keys(), 'vfio'];
    if (this.deviceNodes().length > 0) names.push('devices');
    return names.sort(byBytes);
  }

  /**
   * `ls /dev/vfio/devices`: `vfio<index>` for every registered device outside no-IOMMU groups
   * when the device cdev is configured (`vfio_device_add`: no-IOMMU devices get no cdev).
   */
  deviceNodes(): string[] {
    if (!this.deviceCdev) return [];
    const names: string[] = [];
    for (const [device, index] of this.deviceIndexes)
      if ((this.noiommuCdev || this.groupOf(device)?.kind !== 'noiommu') && device.registered)
        names.push(`vfio${index}`);
    return names.sort(byBytes);
  }

  /** `device->index` (the `vfio<index>` device name), while registered. */
  deviceIndex(device: VfioDevice): number | undefined {
    return this.deviceIndexes.get(device);
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
      // vfio_group_find_or_alloc: no IOMMU group and no no-IOMMU mode is -EINVAL.
      if (!this.params.enableUnsafeNoiommuMode)
        throw new KernelError('EINVAL', `${spec.name} has no IOMMU group`);
      // With the mode on: a fake group, then add_taint(TAINT_USER) and the dev_warn, on every
      // such registration (group.c vfio_group_find_or_alloc, v6.12).
      group = this.fakeGroup('noiommu', spec.name);
      this.tainted = true;
      this.log(`${devPrefix(spec)}: Adding kernel taint for vfio-noiommu group on device`);
    } else {
      if (!iommuGroup.cacheCoherent(spec.name)) {
        throw new KernelError(
          'EINVAL',
          `${spec.name}: the IOMMU cannot enforce cache coherency (IOMMU_CAP_CACHE_COHERENCY)`,
        );
      }
      group = this.groupsByName.get(`${iommuGroup.id}`) ?? new VfioGroup(iommuGroup.id, 'iommu', iommuGroup);
      // One id space: a fake group must not take the id of a real group.
      if (!this.ids.has(iommuGroup.id)) this.ids.reserve(iommuGroup.id);
    }
    return this.addDevice(group, spec);
  }

  /** `vfio_register_emulated_iommu_dev`: always a new emulated group; no IOMMU, no coherency check, no taint. */
  registerEmulatedIommuDevice(spec: VfioDeviceSpec): VfioDevice {
    return this.addDevice(this.fakeGroup('emulated', spec.name), spec);
  }

  // vfio_noiommu_group_alloc: iommu_group_alloc (lowest free id), named "vfio-noiommu", the
  // device added; the VFIO group is `noiommu-<id>` for no-IOMMU, `<id>` for emulated devices.
  private fakeGroup(kind: 'noiommu' | 'emulated', device: string): VfioGroup {
    const id = this.ids.alloc();
    this.fakeGroups.set(id, { id, name: 'vfio-noiommu', devices: [device] });
    return new VfioGroup(id, kind, null);
  }

  // The fake IOMMU group lives until the VFIO group's last reference: the group char device
  // while open (vfio_group_release → iommu_group_put).
  private freeFakeGroup(group: VfioGroup): void {
    if (group.kind === 'iommu' || !this.fakeGroups.has(group.id)) return;
    this.fakeGroups.delete(group.id);
    this.ids.free(group.id);
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
      this.deviceIndexes.delete(device);
      // vfio_device_remove_group: fake groups lose the device (iommu_group_remove_device).
      const fake = this.fakeGroups.get(group.id);
      if (group.kind !== 'iommu' && fake !== undefined)
        fake.devices.splice(fake.devices.indexOf(device.name), 1);
      if (group.devices.length === 0) {
        this.groupsByName.delete(group.name);
        // vfio_device_remove_group: the last device gone, an open group file's container link
        // is cut (vfio_group_detach_container): backend detached, DMA ownership released.
        const container = group.container;
        if (container !== null) {
          container.detachGroup(group);
          group.container = null;
          group.containerUsers = 0;
        }
        if (!group.opened) this.freeFakeGroup(group);
      }
    };
    return device.unregister(leave);
  }

  /**
   * `vfio_pin_pages` (drivers/vfio/vfio_main.c → type1): for emulated-IOMMU devices. `EINVAL`
   * for npage 0, a device not open or without `dma_unmap`; `E2BIG` past
   * VFIO_PIN_PAGES_MAX_ENTRIES; `ENOTTY` for a backend that cannot pin (no-IOMMU); then type1's
   * errors. Returns the physical pages.
   */
  pinPages(device: VfioDevice, iova: number, npage: number, prot: number): PhysAddr[] {
    // vfio_pin_pages refuses only `!npage`: a negative count passes to type1, whose loop
    // pins nothing and returns 0 (after its v2, vaddr and device-list checks).
    this.checkPinArgs(device, npage === 0 ? 0 : 1);
    // vfio_pin_pages: a device bound through its cdev pins through its iommufd_access.
    const viaIommufd = cdevPinPages(device, iova, npage, prot);
    if (viaIommufd !== undefined) return viaIommufd;
    if (npage > VFIO_PIN_PAGES_MAX_ENTRIES)
      throw new KernelError('E2BIG', `${npage} pages > ${VFIO_PIN_PAGES_MAX_ENTRIES}`);
    const iommu = this.pinBackend(device);
    const first = iommu.dmas.find(iova, 1);
    return type1PinPages(iommu, iova, npage, prot, first?.task.rlimitMemlock ?? 0);
  }

  /**
   * `vfio_unpin_pages`: void in the kernel, which WARNs and does nothing for a device not open
   * or without `dma_unmap`, and for `npage <= 0` or past VFIO_PIN_PAGES_MAX_ENTRIES
   * (vfio_device_container_unpin_pages); the model reports those driver bugs as `EINVAL`.
   */
  unpinPages(device: VfioDevice, iova: number, npage: number): void {
    this.checkPinArgs(device, npage);
    if (cdevUnpinPages(device, iova, npage)) return;
    if (npage > VFIO_PIN_PAGES_MAX_ENTRIES)
      throw new KernelError(
        'EINVAL',
        `WARN_ON: vfio_unpin_pages of ${npage} pages > ${VFIO_PIN_PAGES_MAX_ENTRIES}`,
      );
    type1UnpinPages(this.pinBackend(device), iova, npage);
  }

  /**
   * `vfio_dma_rw`: `EINVAL` for no data or a device not open; then type1's checks. `current`
   * is the calling context: a process (whose mm must be the mapping's, else `EFAULT`) or
   * null/omitted for a kernel thread, as mdev drivers' work items call it.
   */
  dmaRw(
    device: VfioDevice,
    memory: PhysicalMemory,
    iova: number,
    data: Uint8Array,
    write: boolean,
    current: Task | null = null,
  ): void {
    if (data.length === 0 || device.openCount === 0)
      throw new KernelError('EINVAL', 'vfio_dma_rw: no data or device not open');
    if (cdevDmaRw(device, memory, iova, data, write, current === null)) return;
    const iommu = this.groupOf(device)?.container?.type1;
    if (iommu === undefined || iommu === null)
      throw new KernelError('ENOTTY', 'the container backend has no dma_rw');
    type1DmaRw(iommu, memory, iova, data, write, current);
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
    // group->drivers: dropped only once a device's unregistration completed (remove_group).
    if (group.devices.length === 0) throw new KernelError('ENODEV', `group ${name} is being torn down`);
    if (group.kind === 'noiommu' && !current.capable('CAP_SYS_RAWIO')) {
      throw new KernelError('EPERM', 'no-IOMMU groups need CAP_SYS_RAWIO');
    }
    // group.c vfio_group_fops_open: devices bound through their cdev block the group.
    if (cdevDeviceOpenCount(group) > 0)
      throw new KernelError('EBUSY', `group ${name} has devices open through their cdev`);
    if (group.opened) throw new KernelError('EBUSY', `group ${name} is open already`);
    group.opened = true;
    return new VfioGroupFile(group, {
      viable: (g) => this.viable(g),
      deviceFdNeedsViability: !viabilityByDmaOwnership(this.profile),
      installFile: (_task, file) => install(file),
      log: this.log,
      released: (g) => {
        if (g.devices.length === 0) this.freeFakeGroup(g);
      },
      msiIsolation: this.msiIsolation,
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
    let index = 0;
    const used = new Set(this.deviceIndexes.values());
    while (used.has(index)) index++;
    this.deviceIndexes.set(device, index);
    group.devices.push(device);
    this.groupsByName.set(group.name, group);
    return device;
  }
}

// dev_printk's prefix: dev_driver_string (the bound driver, during probe) and dev_name.
function devPrefix(spec: VfioDeviceSpec): string {
  return spec.driver === undefined ? spec.name : `${spec.driver} ${spec.name}`;
}

// ls sorts by bytes (strcmp) in the C locale.
function byBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
