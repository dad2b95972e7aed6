import {
  EventEmitter,
  ImmediateScheduler,
  IommuDmaOwnership,
  KernelError,
  rejectUnknownOptions,
  type Scheduler,
} from '@vfiokit/core';
import { ambaProxyDriver } from './amba-proxy.js';
import { Bus } from './bus.js';
import type { CoreContext } from './core-context.js';
import { registerCore } from './core-registry.js';
import { DeferredProbe } from './deferred-probe.js';
import type { BusName } from './description.js';
import type { Device } from './device.js';
import { type DmaConfigureHook, platformDmaConfigure } from './dma-configure.js';
import type { DriverCoreEvents } from './events.js';
import { optionKeys } from './options.js';
import { Sysfs } from './sysfs.js';

const OPTION_KEYS = optionKeys<DriverCoreOptions>({
  scheduler: true,
  dmaConfigure: true,
  asyncProbeDrivers: true,
  indexedMatching: true,
  legacyBindStore: true,
  driverOverrideDeviceLock: true,
  ambaStubDriver: true,
  sysfsBindOnlyAttribute: true,
});

/** Options of a {@link DriverCore}. */
export interface DriverCoreOptions {
  /**
   * Where async probes and the deferred-probe work run (default: an `ImmediateScheduler`,
   * which runs them as soon as the current operation finishes). Inject a `ManualScheduler`
   * or `fastCheckScheduler` to explore interleavings.
   */
  readonly scheduler?: Scheduler;
  /**
   * The buses' `dma_configure`/`dma_cleanup` (default: {@link platformDmaConfigure} over a
   * fresh {@link IommuDmaOwnership}, reachable as `core.iommuOwnership`).
   */
  readonly dmaConfigure?: DmaConfigureHook;
  /**
   * `driver_async_probe=` on the kernel command line: driver names, or `'*'` for all; a list
   * holding `'*'` makes every driver async except the other names it lists.
   */
  readonly asyncProbeDrivers?: readonly string[] | '*';
  /**
   * Look candidate drivers up in the match index (default `true`). `false` scans every
   * registered driver as the kernel's bus_for_each_drv() does: same result, for comparison.
   */
  readonly indexedMatching?: boolean;
  /**
   * Sysfs `bind` as before v5.13 (default `false`): bind_store() refused a bound device with
   * `ENODEV` (not `EBUSY`), and any probe failure, `EPROBE_DEFER` included, also came back as
   * `ENODEV` because really_probe() returned 0 for "driver did not accept the device"; a
   * deferring probe was queued for retry. Commit "driver core: Flow the return code from
   * ->probe() through to sysfs bind" (v5.13) changed both.
   */
  readonly legacyBindStore?: boolean;
  /**
   * `driver_override` writes take the device lock, as driver_set_override()
   * (drivers/base/driver.c) of mainline v6.12 does, so a write during a remove that waits
   * blocks until the remove ends (default `false`). Linux 6.12 as the oracle records it
   * (6.12.118, with the generic driver_override: `__device_set_driver_override` in
   * drivers/base/dd.c) keeps the string under its own spinlock: the write completes at once
   * (oracle transcript `queued-behind-blocked-unbind`).
   */
  readonly driverOverrideDeviceLock?: boolean;
  /**
   * Register the `amba-proxy` stub driver on the AMBA bus (default `true`, as every kernel
   * built with module support does: drivers/amba/bus.c amba_stub_drv_init). `false` is a
   * kernel without `CONFIG_MODULES`, where an AMBA device with unreadable IDs and no AMBA
   * driver is never matched, so never deferred and never announced.
   */
  readonly ambaStubDriver?: boolean;
  /**
   * Give every device the 2013 proposal's `sysfs_bind_only` attribute file (default `false`:
   * Linux has no such file). The {@link Device.explicitBindOnly} flag itself works either way.
   */
  readonly sysfsBindOnlyAttribute?: boolean;
}

/** A device waiting on the deferred-probe list. */
export interface DeferredDevice {
  readonly bus: BusName;
  readonly device: string;
}

/**
 * The driver core of one kernel: the `platform` and `amba` buses, the deferred-probe lists
 * (global across buses, as in drivers/base/dd.c), the scheduler async work runs on, the
 * DMA-configure hook, uevent-like events and the sysfs facade.
 */
export class DriverCore extends EventEmitter<DriverCoreEvents> {
  /** The platform bus. */
  readonly platform: Bus;
  /** The AMBA (PrimeCell) bus. */
  readonly amba: Bus;
  /** Where async probes and deferred-probe work run. */
  readonly scheduler: Scheduler;
  /** The buses' DMA configure/cleanup hook. */
  readonly dmaConfigure: DmaConfigureHook;
  /** The default hook's IOMMU ownership, when no hook was injected. */
  readonly iommuOwnership: IommuDmaOwnership | undefined;
  /** `driver_async_probe=`. */
  readonly asyncProbeDrivers: readonly string[] | '*';
  /** Whether attach looks drivers up in the match index (else it scans them all). */
  readonly indexedMatching: boolean;
  /** Whether sysfs `bind` reports errors as kernels before v5.13 did. */
  readonly legacyBindStore: boolean;
  /** Whether `driver_override` writes wait for the device lock (mainline v6.12's driver_set_override). */
  readonly driverOverrideDeviceLock: boolean;
  /** The sysfs facade over these buses. */
  readonly sysfs: Sysfs;
  readonly #devicePaths = new Map<string, Device>();
  readonly #deferred: DeferredProbe;

  constructor(options: DriverCoreOptions = {}) {
    super();
    // A typo in an option is an error, not a silently ignored default.
    rejectUnknownOptions(options, OPTION_KEYS, 'DriverCore');
    this.scheduler = options.scheduler ?? new ImmediateScheduler();
    if (options.dmaConfigure === undefined) {
      this.iommuOwnership = new IommuDmaOwnership();
      this.dmaConfigure = platformDmaConfigure(this.iommuOwnership);
    } else {
      this.iommuOwnership = undefined;
      this.dmaConfigure = options.dmaConfigure;
    }
    this.asyncProbeDrivers = options.asyncProbeDrivers ?? [];
    this.indexedMatching = options.indexedMatching ?? true;
    this.legacyBindStore = options.legacyBindStore ?? false;
    this.driverOverrideDeviceLock = options.driverOverrideDeviceLock ?? false;
    const deferred = new DeferredProbe(
      this.scheduler,
      (event) => this.emit('deferred', event),
      (device) => this.bus(device.bus).probeDevice(device, 'deferred'),
    );
    this.#deferred = deferred;
    const emit = this.emit.bind(this) as (event: keyof DriverCoreEvents, ...args: unknown[]) => boolean;
    // The buses see the kernel-global state through this one object, not through DriverCore.
    const context: CoreContext = {
      scheduler: this.scheduler,
      dmaConfigure: this.dmaConfigure,
      asyncProbeDrivers: this.asyncProbeDrivers,
      indexedMatching: this.indexedMatching,
      legacyBindStore: this.legacyBindStore,
      driverOverrideDeviceLock: this.driverOverrideDeviceLock,
      devicePaths: this.#devicePaths,
      get deferredTriggerCount() {
        return deferred.triggerCount;
      },
      observed: (event) => this.observed(event),
      emit: (event, ...args) => {
        emit(event, ...args);
      },
      deferredAdd: (device, driver, reason) => deferred.add(device, driver, reason),
      deferredDel: (device) => deferred.delete(device),
      triggerDeferredProbe: () => deferred.trigger(),
      platformDevice: (name) => this.platform.devices.find((device) => device.name === name),
      reportBug: (error) =>
        this.scheduler.schedule('driver bug', () => {
          throw error;
        }),
    };
    registerCore(this, context);
    this.platform = new Bus('platform', this);
    this.amba = new Bus('amba', this);
    this.sysfs = new Sysfs({
      platform: this.platform,
      amba: this.amba,
      bus: (name) => this.bus(name),
      devicePaths: this.#devicePaths,
      sysfsBindOnlyAttribute: options.sysfsBindOnlyAttribute ?? false,
    });
    if (options.ambaStubDriver ?? true) void this.amba.registerDriver(ambaProxyDriver());
  }

  /** The bus called `name`; `ENOENT` for any other name. */
  bus(name: string): Bus {
    if (name === 'platform') return this.platform;
    if (name === 'amba') return this.amba;
    throw new KernelError('ENOENT', `no bus ${name}`);
  }

  /** The live device `name` on either bus (platform first). */
  findDevice(name: string): Device | undefined {
    return this.platform.device(name) ?? this.amba.device(name);
  }

  /** Whether anyone listens for `event` (so events are built only when observed). */
  observed(event: keyof DriverCoreEvents): boolean {
    return this.listenerCount(event) > 0;
  }

  /** `deferred_trigger_count`: how many times the deferred list was triggered. */
  get deferredTriggerCount(): number {
    return this.#deferred.triggerCount;
  }

  /** Devices on the deferred-probe lists (debugfs `devices_deferred`), pending then active. */
  get deferredDevices(): readonly DeferredDevice[] {
    return this.#deferred.devices.map((device) => ({ bus: device.bus, device: device.name }));
  }

  /**
   * `driver_deferred_probe_trigger()`: moves every pending device to the active list and
   * queues the deferred-probe work (once: queueing queued work is a no-op), which probes the
   * active devices again with bus_probe_device(). Runs after every successful bind; call it
   * directly for the other kernel triggers (late initcall, the end of suspend).
   */
  triggerDeferredProbe(): void {
    this.#deferred.trigger();
  }
}
