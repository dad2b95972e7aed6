import {
  type DmaPort,
  type IommuGroup,
  KernelError,
  type KernelVersion,
  kernelAtLeast,
  type MmioDevice,
  type PhysAddr,
  physAddr,
  TranslatedDmaPort,
  toSafeNumber,
} from '@vfiokit/core';
import {
  type DeviceTree,
  type DtDevice,
  type DtNode,
  OF_KERNEL_RANGE,
  parseFdt,
  populate,
} from '@vfiokit/devicetree';
import { MdevBus, type MttyParent, mttyParent, type OfDmaCapabilityPolicy } from '@vfiokit/emulated-iommu';
import { checkMsiFrameViability, type MsiDeviceBinding } from '@vfiokit/kvm';
import { type Device, DriverCore, type DriverSpec, PLATFORM_DEVID_AUTO } from '@vfiokit/platform-bus';
import { type ResetModuleDefinition, ResetRegistry } from '@vfiokit/reset-modules';
import { SmmuDmaPort } from '@vfiokit/smmu';
import {
  bindReportsProbeError,
  type IrqTriggerType,
  type MsiIsolation,
  SimpleIrqChip,
  Vfio,
  type VfioMetaDriverOptions,
  vfioMetaDriverData,
} from '@vfiokit/vfio';
import { modelFor, regionModelsFor } from './device-models.js';
import { AddressMap } from './devices/address-map.js';
import { VirtualClock } from './devices/clock.js';
import { hostDrivers } from './drivers/host-drivers.js';
import { emulatedIommuDriver, hostDmaPolicy, vfioMetaDrivers } from './emulated/emulated-drivers.js';
import { HostFs } from './fs/host-fs.js';
import { type HostDeviceIommu, HostIommu } from './iommu/host-iommu.js';
import { HostIrqLines } from './irq/host-irq.js';
import { HostScheduler } from './irq/host-scheduler.js';
import { type HostKvmInfo, type HostMsiModels, hostKvmInfo, hostMsiModels } from './kvm/host-kvm.js';
import { checkHostOptions, type HostOptions, ORACLE_RESET_MODULES } from './options.js';
import { bootParams, type HostParams } from './params.js';
import { HostProcess, type HostProcessOptions } from './process/host-process.js';

/** `TAINT_FLAGS_COUNT` of Linux 6.12 (include/linux/panic.h: TAINT_TEST is bit 18). */
export const TAINT_FLAGS_COUNT = 19;

/**
 * A Linux host assembled from a device tree and a kernel command line: the devices
 * of_platform_populate() creates, on platform-bus's platform and AMBA buses, with register
 * models behind QEMU virt's cells; the host drivers of the oracle's kernel; the reset
 * registry with the built-in reset modules; `vfio-platform` and `vfio-amba` with the
 * command line's module parameters; a sysfs/proc/dev view ({@link fs}); and processes that
 * open `/dev/vfio` nodes and issue ioctls ({@link spawn}).
 */
export class Host {
  /** The parsed device tree. */
  readonly tree: DeviceTree;
  /** The devices of_platform_populate() created, in creation order. */
  readonly dtDevices: readonly DtDevice[];
  /** The driver core (platform and AMBA buses). */
  readonly core: DriverCore;
  readonly vfio: Vfio;
  /** The reset registry (mode `upstream`: only Linux's reset modules can be in it). */
  readonly resets: ResetRegistry;
  /** The reset modules built in (`=y`) and registered at boot, in that order. */
  readonly resetModules: readonly ResetModuleDefinition[];
  /** The interrupt lines (GIC INTIDs from the device tree). */
  readonly irqChip: HostIrqLines;
  /**
   * Where the interrupt chip's deferred work runs (resends of `enable_irq`, device-side line
   * changes): after the system call or eventfd write that scheduled it returns.
   */
  readonly scheduler: HostScheduler = new HostScheduler();
  /** Model time: register models' timers run on it; only {@link advanceTime} moves it. */
  readonly clock: VirtualClock;
  /** Module parameters in effect. */
  readonly params: HostParams;
  /** The command line as given. */
  readonly cmdline: string;
  /** Unknown parameters without a value, and everything after `--`: init's arguments. */
  readonly initArgs: readonly string[];
  /** Unknown `name=value` parameters: init's environment. */
  readonly initEnv: readonly string[];
  /** The mdev bus (drivers/vfio/mdev), with the `mtty` parent registered at boot. */
  readonly mdev: MdevBus;
  /** The `mtty` sample (CONFIG_SAMPLE_VFIO_MDEV_MTTY=y in the oracle kernel): its devices are emulated-IOMMU VFIO devices. */
  readonly mtty: MttyParent;
  /** The sysfs/proc/dev view. */
  readonly fs: HostFs;
  /** The same view under the name issue 10 gives it (`host.sysfs.run('echo … > …')`). */
  readonly sysfs: HostFs;
  /** Kernel log lines (parameter errors, vfio warnings), without timestamps. */
  readonly log: string[];
  /** The physical MMIO map of the register models. */
  readonly mmioMap: AddressMap = new AddressMap();
  private readonly models = new Map<string, MmioDevice>();
  // Register models of devices with several regions, by region index (the AMD xgbe).
  private readonly regionModels = new Map<string, readonly MmioDevice[]>();
  // Models that count time themselves (reset-modules' devices), advanced by reset delays.
  private readonly tickers = new Map<string, (us: number) => void>();
  private nextPid = 1;
  /** The process whose system call is running (`current`). */
  current: HostProcess | null = null;
  /**
   * The IOMMUs: SMMU models and drivers (`@vfiokit/smmu`), their groups, the group-id IDA
   * shared with VFIO, and the memory the SMMUs walk.
   */
  readonly iommu: HostIommu;
  /** What the host's GIC lets KVM do; `/dev/kvm` exists when `kvm.available`. */
  readonly kvm: HostKvmInfo;
  /** The host's MSI controllers as `@vfiokit/kvm` models: vfio's MsiIsolation comes from them. */
  readonly msi: HostMsiModels;

  /** @internal use {@link createHost}. */
  constructor(dtb: Uint8Array | DeviceTree, options: HostOptions) {
    const boot = bootParams(options);
    this.params = boot.params;
    this.cmdline = options.cmdline ?? '';
    this.initArgs = boot.initArgs;
    this.initEnv = boot.initEnv;
    this.log = [...boot.log];
    this.tree = dtb instanceof Uint8Array ? parseFdt(dtb) : dtb;
    this.dtDevices = populate(this.tree, { kernel: ofKernelFor(this.params.profile.version) }).devices;
    this.clock = new VirtualClock();
    this.kvm = hostKvmInfo(this.tree);
    this.msi = hostMsiModels(this.tree, this.dtDevices);
    this.irqChip = new HostIrqLines(new SimpleIrqChip(irqLines(this.dtDevices), this.scheduler));
    this.core = new DriverCore({
      asyncProbeDrivers: this.params.driver_async_probe,
      legacyBindStore: !bindReportsProbeError(this.params.profile),
      // amba_stub_drv_init() registers amba-proxy only when IS_ENABLED(CONFIG_MODULES); the
      // oracle's kernel has modules off.
      ambaStubDriver: false,
    });
    // Built-in reset modules register at boot (module_vfio_reset_handler → module_init). The
    // registry is in mode `upstream`, so a module Linux does not ship (vfiokit's PL330) is
    // refused with ENOENT: only Linux's modules exist unless a caller builds its own registry.
    this.resets = new ResetRegistry();
    this.resetModules = options.resetModules ?? ORACLE_RESET_MODULES;
    for (const module of this.resetModules) this.resets.register(module);
    const ram = this.tree.root.children.find((node) => node.name.startsWith('memory'));
    this.iommu = new HostIommu({
      tree: this.tree,
      devices: this.dtDevices,
      core: this.core,
      // 64 MiB into RAM: the kernel's own memory, below what allocateRam hands to processes.
      tableBase: (ram === undefined ? 0x4000_0000 : firstRegBase(ram, this.tree.root)) + 0x400_0000,
      log: (line) => this.log.push(line),
    });
    this.vfio = new Vfio({
      // One IDA for the SMMU drivers' groups and vfio's fake groups (iommu_group_ida).
      iommuGroupIds: this.iommu.groupIds,
      profile: this.params.profile,
      allowUnsafeInterrupts: this.params.allow_unsafe_interrupts,
      msiIsolation: this.msiIsolation(),
      dmaEntryLimit: this.params.dma_entry_limit,
      enableUnsafeNoiommuMode: this.params.enable_unsafe_noiommu_mode,
      // CONFIG_VFIO_DEVICE_CDEV=y in the oracle's kernel.
      deviceCdev: true,
      // vfio's dev_warn lines (the no-IOMMU taint at registration, a no-IOMMU device opened).
      log: (line) => this.log.push(line),
    });
    // mtty_dev_init (module_init): mdev_register_driver, the `mtty` class device, then
    // mdev_register_parent with types mtty-1 and mtty-2.
    this.mdev = new MdevBus();
    this.mtty = mttyParent({ vfio: this.vfio });
    this.mdev.registerParent(this.mtty.spec);
    this.fs = new HostFs(this);
    this.sysfs = this.fs;
    for (const dt of this.dtDevices) {
      const model = modelFor(dt, {
        clock: this.clock,
        setIrqLevel: (irq, asserted) => this.irqChip.chip.setLevel(irq, asserted),
        dma: (device) => this.dmaPortOf(device),
      });
      const multi =
        model === undefined
          ? regionModelsFor(dt, {
              clock: this.clock,
              setIrqLevel: (irq, asserted) => this.irqChip.chip.setLevel(irq, asserted),
              dma: (device) => this.dmaPortOf(device),
            })
          : undefined;
      if (multi !== undefined) {
        this.regionModels.set(dt.name, multi.regions);
        this.tickers.set(dt.name, multi.tick);
        dt.regions.forEach((region, i) => {
          const regionModel = multi.regions[i];
          if (regionModel !== undefined)
            this.mmioMap.add(toSafeNumber(region.address), toSafeNumber(region.size), regionModel);
        });
        const first = multi.regions[0];
        if (first !== undefined) this.models.set(dt.name, first);
        continue;
      }
      if (model === undefined) continue;
      this.models.set(dt.name, model);
      const ticking = model as MmioDevice & { tick?: (us: number) => void };
      if (typeof ticking.tick === 'function') this.tickers.set(dt.name, (us) => ticking.tick?.(us));
      const region = dt.regions[0];
      if (region !== undefined)
        this.mmioMap.add(toSafeNumber(region.address), toSafeNumber(region.size), model);
    }
    // The SMMUs' register models, made with their drivers.
    for (const dt of this.dtDevices) {
      const smmu = this.iommu.smmus.models.get(dt.name);
      const region = dt.regions[0];
      if (smmu === undefined) continue;
      this.models.set(dt.name, smmu);
      if (region !== undefined)
        this.mmioMap.add(toSafeNumber(region.address), toSafeNumber(region.size), smmu);
    }
    this.boot();
  }

  // Initcall order: the PL011 drivers at arch_initcall, devices at arch_initcall_sync
  // (of_platform_default_populate_init), every other driver at device_initcall.
  private boot(): void {
    const drivers = hostDrivers({
      mmio: (device) => this.models.get(device.name),
      irqChip: this.irqChip,
      rtcRegistered: () => this.addAlarmtimer(),
      rtcAdded: (device) => this.addRtc(device.name),
      rtcRemoved: (device) => this.removeRtc(device.name),
    });
    const early = drivers.filter((d) => d.spec.name === 'sbsa-uart' || d.spec.name === 'uart-pl011');
    for (const driver of early) void this.core.bus(driver.bus).registerDriver(driver.spec);
    for (const dt of this.dtDevices) this.addDevice(dt);
    // The IOMMU drivers bind before the masters' drivers (fw_devlink: the SMMU is their
    // supplier); each SMMU's probe forms its masters' groups.
    this.iommu.registerDrivers();
    for (const driver of drivers) {
      if (!early.includes(driver)) void this.core.bus(driver.bus).registerDriver(driver.spec);
    }
    const vfioOptions: VfioMetaDriverOptions = {
      vfio: this.vfio,
      resets: this.resets,
      irqChip: this.irqChip,
      // The groups the SMMU drivers formed (QEMU virt's SMMUv3 covers PCIe only: none there).
      iommuGroupOf: (device) => this.iommu.groupOf(device.name),
      mmio: (device, _resource, index) =>
        this.regionModels.get(device.name)?.[index] ??
        (index === 0 ? this.models.get(device.name) : undefined),
      // A reset module's udelay/usleep_range: model time passes for the device's registers.
      delay: (us) => {
        for (const tick of this.tickers.values()) tick(us);
      },
      log: (line) => this.log.push(line),
    };
    this.vfioDriverOptions = vfioOptions;
    // vfiokit.emulated_generic=1 (NOT IN LINUX): vfio-platform/vfio-amba as the 2024 RFC would
    // patch them, judging IOMMU-less devices by the DMA-capability policy.
    const meta = vfioMetaDrivers(
      vfioOptions,
      this.params.reset_required,
      this.params.emulated_generic ? this.dmaPolicy : undefined,
    );
    void this.core.platform.registerDriver(this.withNoiommuGroup(meta.platform));
    void this.core.amba.registerDriver(this.withNoiommuGroup(meta.amba));
  }

  private vfioDriverOptions: VfioMetaDriverOptions | undefined;
  private policy: OfDmaCapabilityPolicy | undefined;

  /**
   * NOT IN LINUX — vfiokit's DMA-capability policy over this host's device tree, with the
   * `dma_policy` options (`vfiokit.dma_*`): what the RFC's vfio-platform asks at probe.
   */
  get dmaPolicy(): OfDmaCapabilityPolicy {
    this.policy ??= hostDmaPolicy(this.tree, this.dtDevices, this.params.dma_policy);
    return this.policy;
  }

  /**
   * NOT IN LINUX — loads one of vfiokit's device-specific emulated-IOMMU VFIO drivers
   * (`vfio-pl011`, `vfio-pl031`, `vfio-pl061`; issue #12, the maintainer's design) as
   * `modprobe <name>` loads an out-of-tree module: the driver registers on its bus and binds
   * only through `driver_override`. Not loaded at boot, so the host stays the oracle's kernel
   * until asked. `ENOENT` for no such driver, `EEXIST` when it is loaded already.
   */
  loadEmulatedDriver(name: string): void {
    const options = this.vfioDriverOptions;
    if (options === undefined) throw new KernelError('ENODEV', 'the host has not booted');
    const driver = emulatedIommuDriver(name, options);
    const bus = this.core.bus(driver.bus);
    if (bus.driver(driver.name) !== undefined)
      throw new KernelError('EEXIST', `module ${name} is already loaded`);
    void bus.registerDriver(this.withNoiommuGroup(driver));
  }

  /**
   * kernel/time/alarmtimer.c alarmtimer_rtc_add_device(): the first RTC with alarms gets an
   * `alarmtimer` platform device (PLATFORM_DEVID_AUTO: `alarmtimer.0.auto`), never removed
   * and never made again (`rtcdev` keeps the RTC). Its parent in the kernel is the RTC class
   * device (`…/9010000.pl031/rtc/rtc0/`), which the model does not have: it sits at the top of
   * /sys/devices/platform.
   */
  private addAlarmtimer(): void {
    if (this.alarmtimerAdded) return;
    this.alarmtimerAdded = true;
    void this.core.platform.addDevice({ name: 'alarmtimer', bus: 'platform', id: PLATFORM_DEVID_AUTO });
  }

  private alarmtimerAdded = false;
  private readonly rtcIds = new Map<string, number>();
  private readonly rtcIdsInUse = new Set<number>();
  private rtcHeldByAlarmtimer: number | undefined;

  // drivers/rtc/class.c: `rtc%d` from rtc_ida, lowest free. alarmtimer_rtc_add_device() takes a
  // reference on the first RTC with alarms and never drops it, so that id is never freed and
  // a later registration gets the next one (rtc0, then rtc1 at every rebind).
  private addRtc(device: string): void {
    let id = 0;
    while (this.rtcIdsInUse.has(id)) id++;
    this.rtcIdsInUse.add(id);
    this.rtcIds.set(device, id);
    if (this.rtcHeldByAlarmtimer === undefined) this.rtcHeldByAlarmtimer = id;
  }

  private removeRtc(device: string): void {
    const id = this.rtcIds.get(device);
    if (id === undefined) return;
    this.rtcIds.delete(device);
    if (id !== this.rtcHeldByAlarmtimer) this.rtcIdsInUse.delete(id);
  }

  /** The `rtc<N>` class device under a bound RTC (`<dev>/rtc/rtc<N>`), if any. */
  rtcOf(device: string): string | undefined {
    const id = this.rtcIds.get(device);
    return id === undefined ? undefined : `rtc${id}`;
  }

  /** The `vfio<N>` device under a device bound to a vfio meta driver (`<dev>/vfio-dev/vfio<N>`). */
  vfioDevOf(device: string): string | undefined {
    const bound = this.device(device);
    const data = bound === undefined ? undefined : vfioMetaDriverData(bound);
    const index = data === undefined ? undefined : this.vfio.deviceIndex(data.vfioDevice);
    return index === undefined ? undefined : `vfio${index}`;
  }

  private addDevice(dt: DtDevice): void {
    const model = this.models.get(dt.name);
    void this.core.bus(dt.bus).addDevice({
      name: dt.name,
      bus: dt.bus,
      ofNode: dt.path,
      // drivers/of/platform.c of_platform_bus_create: a bus node's children are created under
      // the bus device (`/sys/devices/platform/soc/…`), not at the top.
      ...(dt.parent === undefined ? {} : { parent: dt.parent }),
      compatible: dt.compatible,
      regions: dt.regions.map((r) => ({
        start: physAddr(toSafeNumber(r.address)),
        size: toSafeNumber(r.size),
        ...(r.name === undefined ? {} : { name: r.name }),
      })),
      irqs: dt.irqs.flatMap((irq) => (irq.intid === undefined ? [] : [irq.intid])),
      ...(dt.periphid === undefined ? {} : { periphid: dt.periphid }),
      ...(dt.bus === 'amba' && model !== undefined ? { primecell: model } : {}),
    });
  }

  /**
   * vfio allocates the IOMMU group of a no-IOMMU (or emulated-IOMMU) device itself
   * (vfio_noiommu_group_alloc: iommu_group_alloc, name `vfio-noiommu`, iommu_group_add_device)
   * and takes the device out of it when the device leaves vfio (vfio_device_remove_group →
   * iommu_group_remove_device). vfio keeps those groups ({@link Vfio.fakeIommuGroups}); the
   * host only mirrors the membership into platform-bus's device, whose sysfs shows the
   * `iommu_group` link and `/sys/kernel/iommu_groups/<n>`, after the meta driver's probe and
   * once its remove has completed.
   */
  private withNoiommuGroup(driver: DriverSpec): DriverSpec {
    return {
      ...driver,
      probe: (device, match) => {
        driver.probe(device, match);
        this.syncIommuGroupLink(device);
      },
      remove: (device) => {
        const result = driver.remove?.(device);
        if (result === undefined) {
          this.syncIommuGroupLink(device);
          return undefined;
        }
        return result.then(() => this.syncIommuGroupLink(device));
      },
    };
  }

  // QEMU virt's platform devices have no IOMMU group of their own, so a device's group is the
  // vfio-allocated group that lists it, if any.
  private syncIommuGroupLink(device: Device): void {
    const fake = [...this.vfio.fakeIommuGroups.values()].find((g) => g.devices.includes(device.name));
    device.iommuGroup = fake?.id ?? this.iommu.groupOf(device.name)?.id;
  }

  /** IOMMU groups the SMMU drivers formed (`/sys/kernel/iommu_groups`, vfio's fake ones aside). */
  get iommuGroups(): readonly IommuGroup[] {
    return this.iommu.groups;
  }

  /** The IOMMU group of a device behind an SMMU, if it has one. */
  iommuGroupOf(device: string): IommuGroup | undefined {
    return this.iommu.groupOf(device);
  }

  /** A device's IOMMU node, stream IDs and group id, if it is behind an SMMU with a group. */
  iommuOf(device: string): HostDeviceIommu | undefined {
    return this.iommu.iommuOf(device);
  }

  /**
   * vfio's MSI-isolation questions, answered from the MSI controller models; with
   * `msi_frame_viability` (NOT IN LINUX, seed 004) also the attach check: every other device
   * behind the same non-isolating frame must be unbound or VFIO-bound in the same container.
   */
  private msiIsolation(): MsiIsolation {
    const answers = this.msi.answers;
    if (!this.params.msi_frame_viability) return answers;
    return {
      ...answers,
      checkAttach: (devices, container) => {
        const bindings: Record<string, MsiDeviceBinding> = {};
        for (const dt of this.dtDevices) {
          const driver = this.core.findDevice(dt.name)?.driverName ?? undefined;
          const group = [...this.vfio.groups.values()].find((g) => g.devices.some((d) => d.name === dt.name));
          const attached = group?.container?.type1 ?? null;
          bindings[dt.name] = {
            ...(driver === undefined ? {} : { driver }),
            ...(attached === null ? {} : { container: attached === container ? 'this' : 'another' }),
          };
        }
        for (const device of devices) checkMsiFrameViability(this.msi.topology, device, 'this', bindings);
      },
    };
  }

  /**
   * A device's master port: through the SMMU model its `iommus` names (first stream ID), so
   * its DMA is translated by the tables the SMMU driver wrote, or faults there; untranslated
   * when the host models no SMMU in front of it.
   */
  private dmaPortOf(device: DtDevice): DmaPort {
    const link = device.iommus[0];
    const smmuDevice = link === undefined ? undefined : this.dtDevices.find((d) => d.path === link.target);
    const smmu = smmuDevice === undefined ? undefined : this.iommu.smmus.models.get(smmuDevice.name);
    const streamId = link?.args[0];
    if (smmu !== undefined && streamId !== undefined)
      return new SmmuDmaPort({ smmu, streamId, memory: this.iommu.memory });
    return new TranslatedDmaPort({ memory: this.iommu.memory, domain: null });
  }

  /** The name of IOMMU group `id` (`/sys/kernel/iommu_groups/<id>/name`), if it has one. */
  iommuGroupName(id: number): string | undefined {
    return this.vfio.fakeIommuGroups.get(id)?.name;
  }

  /** The register model behind a device's first region, if the host has one. */
  model(device: string): MmioDevice | undefined {
    return this.models.get(device);
  }

  /** A device on either bus. */
  device(name: string): Device | undefined {
    return this.core.findDevice(name);
  }

  /**
   * `/proc/sys/kernel/tainted`: vfio's taint (`TAINT_USER`, 64, once a no-IOMMU group was
   * created) plus what was written there.
   */
  get tainted(): number {
    return this.taintFlags | this.vfio.taint;
  }

  /**
   * `add_taint()` for each bit of `flags` below TAINT_FLAGS_COUNT (19 in 6.12), as a write
   * to /proc/sys/kernel/tainted does (proc_taint); taint is never cleared.
   */
  addTaint(flags: bigint): void {
    this.taintFlags |= Number(flags & ((1n << BigInt(TAINT_FLAGS_COUNT)) - 1n));
  }

  private taintFlags = 0;

  /** A new process (root, as the oracle's runner: CAP_SYS_RAWIO and CAP_IPC_LOCK). */
  spawn(options: HostProcessOptions = {}): HostProcess {
    return new HostProcess(this, this.nextPid++, options);
  }

  /** Lets model time pass (device timers fire, their interrupts are delivered). */
  advanceTime(ms: number): void {
    this.clock.advance(Math.round(ms * 1_000_000));
  }

  /**
   * @internal Physical pages of host RAM for a process's anonymous memory: a bump allocator
   * over the device tree's first memory node, above its first 128 MiB (the kernel's own).
   */
  allocateRam(size: number): PhysAddr {
    const memory = this.tree.root.children.find((node) => node.name.startsWith('memory'));
    const base = memory === undefined ? 0x4000_0000 : firstRegBase(memory, this.tree.root);
    if (this.ramNext === 0) this.ramNext = base + 0x800_0000;
    const start = this.ramNext;
    this.ramNext += size;
    return physAddr(start);
  }

  private ramNext = 0;

  /** @internal a pid for a forked process. */
  allocatePid(): number {
    return this.nextPid++;
  }
}

// The first `reg` base of a root-level node, in the root's `#address-cells` (of_n_addr_cells:
// OF_ROOT_NODE_ADDR_CELLS_DEFAULT = 1 when absent; QEMU virt has 2, most 32-bit Arm boards 1).
// Rounded up to a page; a base the model's 48-bit physical space cannot hold with room above it
// falls back to 1 GiB.
function firstRegBase(node: DtNode, root: DtNode): number {
  const reg = node.properties.find((p) => p.name === 'reg')?.value;
  const cellsProp = root.properties.find((p) => p.name === '#address-cells')?.value;
  const cells =
    cellsProp === undefined || cellsProp.length < 4
      ? 1
      : new DataView(cellsProp.buffer, cellsProp.byteOffset).getUint32(0);
  if (reg === undefined || (cells !== 1 && cells !== 2) || reg.length < cells * 4) return 0x4000_0000;
  const view = new DataView(reg.buffer, reg.byteOffset, reg.byteLength);
  const base = cells === 1 ? view.getUint32(0) : view.getUint32(0) * 2 ** 32 + view.getUint32(4);
  // Whole pages: a memory node may start mid-page (Realtek RTD1195: after the boot ROM).
  const page = Math.ceil(base / 0x1000) * 0x1000;
  return page + 0x1000_0000 < 2 ** 48 ? page : 0x4000_0000;
}

// The interrupt lines the devices use, with their trigger from the device tree (GIC INTIDs).
function irqLines(devices: readonly DtDevice[]): Record<number, IrqTriggerType> {
  const lines: Record<number, IrqTriggerType> = {};
  for (const device of devices) {
    for (const irq of device.irqs) {
      if (irq.intid === undefined || irq.trigger === undefined || irq.trigger === 'none') continue;
      lines[irq.intid] = irq.trigger;
    }
  }
  return lines;
}

/**
 * Boots a host from a device tree (a DTB or a parsed tree) and a kernel command line.
 * Options are checked (`EINVAL` for an unknown key or a mistyped value); parameters of the
 * command line the host does not know are kept for init, as the kernel does.
 */
export function createHost(dtb: Uint8Array | DeviceTree, options?: HostOptions): Host {
  return new Host(dtb, checkHostOptions(options));
}

/**
 * The drivers/of behaviour of the host's kernel version. `populate()` models v6.12 to v6.18
 * (the `#address-cells` rule of `of_match_bus` changed in v6.13); a profile outside that range
 * (kept for vfio or driver-core behaviours such as the v5.13 sysfs bind) populates as the
 * nearest modelled release.
 */
function ofKernelFor(version: KernelVersion): KernelVersion {
  const { min, max } = OF_KERNEL_RANGE;
  if (!kernelAtLeast(version, min[0], min[1])) return min;
  return kernelAtLeast(version, max[0], max[1]) ? max : version;
}
