import { KernelError, rejectUnknownOptions } from '@vfiokit/core';
import { deviceInitialProbe, driverAttach } from './attach.js';
import { bindStore } from './bind-store.js';
import type { BusType } from './bus-type.js';
import { BUS_TYPES } from './bus-types.js';
import { allDone, andThen, type Completion, isPromise } from './completion.js';
import type { BusContext, CoreContext } from './core-context.js';
import { contextOf } from './core-registry.js';
import type { BusName, DeviceDescription, MmioResource } from './description.js';
import { Device, type DriverSpec, stateOf } from './device.js';
import { whenUnlocked, withDeviceLock } from './device-lock.js';
import {
  checkPlatformId,
  PLATFORM_DEVID_AUTO,
  type PlatformNaming,
  splitPlatformName,
} from './device-name.js';
import { rejectMisspeltDriverKeys } from './driver-spec-keys.js';
import type { ProbeTrigger } from './events.js';
import { DriverIndex } from './match-index.js';
import type { AmbaId } from './match-info.js';
import { optionKeys } from './options.js';
import { attachWalk, ensureIdentified } from './probe.js';
import { releaseDriver } from './release.js';
import { cString, lookupName } from './sysfs-string.js';

const DESCRIPTION_KEYS = optionKeys<DeviceDescription>({
  name: true,
  id: true,
  parent: true,
  bus: true,
  ofNode: true,
  compatible: true,
  acpiIds: true,
  regions: true,
  irqs: true,
  periphid: true,
  primecell: true,
  iommuGroup: true,
  explicitBindOnly: true,
  driverOverride: true,
});

const REGION_KEYS = optionKeys<MmioResource>({ start: true, size: true, name: true });

const AMBA_ID_KEYS = optionKeys<AmbaId>({ id: true, mask: true, data: true });

/** `PAGE_SIZE − 1`: driver_set_override() refuses writes of this many bytes (drivers/base/driver.c). */
const OVERRIDE_MAX = 4095;

/**
 * One bus (`struct bus_type` with its `subsys_private`): its devices, its drivers in
 * registration order, `drivers_autoprobe`, and the operations user space and the kernel
 * perform on it. Every failing operation throws a `KernelError` with the errno the kernel
 * returns; operations that may wait for a driver's remove return a {@link Completion}.
 */
export class Bus {
  /** `platform` or `amba`. */
  readonly name: BusName;
  /** What makes this bus differ from the other: match, modalias, attributes, identification. */
  readonly type: BusType;
  readonly #core: CoreContext;
  /** This bus as the driver core's steps see it. */
  readonly #context: BusContext;
  /** Registered drivers, indexed for matching. */
  readonly index: DriverIndex = new DriverIndex();
  /** `drivers_autoprobe` (default on): automatic probing on device add and driver registration. */
  autoprobe = true;
  private readonly deviceMap = new Map<string, Device>();
  /** Drivers whose driver_unregister() still waits for a device's remove, by name. */
  readonly #leaving = new Map<string, DriverSpec>();
  private readonly autoIds = new Set<number>();
  private nextSeq = 0;

  /** Buses are made by a `DriverCore`, which passes itself as `owner`. */
  constructor(name: BusName, owner: object) {
    const core = contextOf(owner);
    this.name = name;
    this.type = BUS_TYPES[name];
    this.#core = core;
    const live = (): readonly Device[] => this.devices;
    this.#context = {
      name,
      type: this.type,
      index: this.index,
      core,
      get devices() {
        return live();
      },
    };
  }

  /**
   * The live device called `name`, found as `bus_find_device_by_name()` finds it: the name
   * is compared as a C string with sysfs_streq() (drivers/base/core.c device_match_name), so
   * `"d0\n"` and `"d0\0junk"` both find `d0`.
   */
  device(name: string): Device | undefined {
    const device = this.deviceMap.get(lookupName(name));
    return device === undefined || stateOf(device).dead ? undefined : device;
  }

  /** Live devices in the order they were added. */
  get devices(): readonly Device[] {
    return [...this.deviceMap.values()].filter((device) => !stateOf(device).dead);
  }

  /** The registered driver called `name`. */
  driver(name: string): DriverSpec | undefined {
    return this.index.byName(name)?.spec;
  }

  /** Registered drivers in registration order. */
  get drivers(): readonly DriverSpec[] {
    return this.index.all.map((entry) => entry.spec);
  }

  /**
   * Drivers being unregistered whose detach still waits for a device's remove (vfio with the
   * device open). bus_remove_driver() (drivers/base/bus.c) removes the bind, unbind and uevent
   * files and stops matching first, and drops the driver's kobject only after driver_detach(),
   * so their sysfs directories stay until then, and the name stays taken.
   */
  get unregistering(): readonly DriverSpec[] {
    return [...this.#leaving.values()];
  }

  private requireDevice(name: string): Device {
    const device = this.device(name);
    if (device === undefined)
      throw new KernelError('ENODEV', `no device ${lookupName(name)} on the ${this.name} bus`);
    return device;
  }

  /** The driver's sysfs bind/unbind file: `ENOENT` when it does not exist. */
  private bindFileDriver(name: string, file: 'bind' | 'unbind'): DriverSpec {
    const driver = this.driver(name);
    if (driver === undefined) throw new KernelError('ENOENT', `no driver ${name} on the ${this.name} bus`);
    if (driver.suppressBindAttrs === true) {
      throw new KernelError('ENOENT', `${name} sets suppress_bind_attrs: it has no ${file} file`);
    }
    return driver;
  }

  /**
   * `device_add()` + `bus_probe_device()`: names the device (platform_device_add(): `pdev->name`
   * and `pdev->id`, `/` → `!`), places it under its parent in `/sys/devices/platform/`,
   * registers it (`EEXIST` if the name is taken on the bus or in the parent's directory,
   * `EINVAL` for an unknown description field, an empty name, a bad id, an unknown parent,
   * or a device of the other bus),
   * sends the `add` uevent (an AMBA device first tries to read its periphid, and holds the
   * uevent back until it is known) and, with `drivers_autoprobe` on, probes it.
   */
  addDevice(description: DeviceDescription): Device {
    // A misspelt field (`compatibles`) would silently change how the device matches.
    rejectUnknownOptions(description, DESCRIPTION_KEYS, 'addDevice');
    for (const region of description.regions ?? [])
      rejectUnknownOptions(region, REGION_KEYS, 'addDevice regions');
    if (description.bus !== this.name) {
      throw new KernelError(
        'EINVAL',
        `${description.name} is an ${description.bus} device, not ${this.name}`,
      );
    }
    if (description.name.length === 0) {
      throw new KernelError('EINVAL', 'a device needs a name');
    }
    if (description.id !== undefined) {
      if (!this.type.deviceIds) throw new KernelError('EINVAL', `${this.name} devices have no id`);
      checkPlatformId(description.id);
    }
    let parent: Device | undefined;
    if (description.parent !== undefined) {
      parent = this.#core.platformDevice(description.parent);
      if (parent === undefined) {
        throw new KernelError(
          'EINVAL',
          `parent ${description.parent} of ${description.name} is not a platform device`,
        );
      }
    }
    const naming = this.namingOf(description);
    const auto = description.id === PLATFORM_DEVID_AUTO ? this.lowestFreeAutoId() : undefined;
    const device = new Device(description, auto, parent, naming);
    if (this.deviceMap.has(device.name) || this.#core.devicePaths.has(device.sysfsPath)) {
      throw new KernelError('EEXIST', `${this.name} device ${device.name} already exists`);
    }
    if (auto !== undefined) this.autoIds.add(auto);
    if (naming?.auto === true) this.autoIds.add(naming.id);
    this.deviceMap.set(device.name, device);
    this.#core.devicePaths.set(device.sysfsPath, device);
    // drivers/amba/bus.c amba_device_add(): a device whose IDs are not hard-coded is read
    // before device_add(); when they cannot be read yet, uevents stay suppressed until
    // amba_match() reads them (and sends the held-back add uevent then).
    if (!ensureIdentified(this.#context, device)) stateOf(device).suppressUevents();
    else if (this.#core.observed('add')) {
      this.#core.emit('add', { bus: this.name, device: device.name, modalias: this.type.modalias(device) });
    }
    this.probeDevice(device, 'device_add');
    return device;
  }

  /**
   * A platform device described by its device name (`serial8250.0`, `alarmtimer.0.auto`)
   * rather than by `pdev->name` and `id`: the name platform_device_add() would have built is
   * read back, so matching and the modalias see `pdev->name`. Device-tree and ACPI devices
   * are always PLATFORM_DEVID_NONE (their names are taken as they are), and an explicit
   * `id` (PLATFORM_DEVID_NONE included) says how to read the name.
   */
  private namingOf(description: DeviceDescription): PlatformNaming | undefined {
    if (!this.type.deviceIds || description.id !== undefined) return undefined;
    if (description.ofNode !== undefined || description.acpiIds !== undefined) return undefined;
    return splitPlatformName(description.name);
  }

  /** `ida_alloc(&platform_devid_ida)`: the lowest id no `.auto` device holds. */
  private lowestFreeAutoId(): number {
    let id = 0;
    while (this.autoIds.has(id)) id++;
    return id;
  }

  /**
   * `device_del()` (hotplug removal): the device is marked dead, leaves the deferred list,
   * its driver is released (waiting for the driver's remove if it waits) and the `remove`
   * uevent goes out. `ENODEV` if there is no such device.
   */
  removeDevice(name: string): Completion {
    const device = this.requireDevice(name);
    stateOf(device).died();
    this.#core.deferredDel(device);
    const done = (): void => {
      this.deviceMap.delete(device.name);
      this.#core.devicePaths.delete(device.sysfsPath);
      // platform_device_del(): an AUTO id goes back to the ida.
      if (device.description.id === PLATFORM_DEVID_AUTO || device.name.endsWith('.auto')) {
        this.autoIds.delete(device.id);
      }
      this.#core.emit('remove', { bus: this.name, device: device.name });
    };
    // device_del() cannot fail: the device goes whatever its driver's remove does, and a
    // driver's bug still reaches the caller afterwards.
    let released: Completion;
    try {
      released = withDeviceLock(device, () => releaseDriver(this.#context, device));
    } catch (error) {
      done();
      throw error;
    }
    if (!isPromise(released)) {
      done();
      return undefined;
    }
    return released.then(done, (error: unknown) => {
      done();
      throw error;
    });
  }

  /**
   * `driver_register()`: `EBUSY` when a driver of that name is registered (the kernel's
   * "is already registered, aborting"), then, with `drivers_autoprobe` on, `driver_attach()`
   * over the existing devices. A `sysfsBindOnly` driver is never attached automatically.
   */
  registerDriver(driver: DriverSpec): Completion {
    // A DriverSpec is a struct drivers extend (recordingDriver adds `probed`, as a kernel driver
    // embeds struct device_driver): only misspelt fields are refused. An id-table entry is plain
    // data, where a misspelt `mask` would silently match every periphid whose masked value is 0.
    rejectMisspeltDriverKeys(driver);
    for (const entry of driver.ambaIdTable ?? [])
      rejectUnknownOptions(entry, AMBA_ID_KEYS, 'registerDriver ambaIdTable');
    // kobject_add_internal() refuses an empty name; a `/` is allowed and shows as `!` in the
    // driver's sysfs directory (kobject_set_name_vargs), while matching keeps drv->name.
    if (driver.name.length === 0) throw new KernelError('EINVAL', 'a driver needs a name');
    // driver_register(): driver_find() also finds a driver whose unregister still waits.
    if (this.index.byName(driver.name) !== undefined || this.#leaving.has(driver.name)) {
      throw new KernelError('EBUSY', `driver ${driver.name} is already registered on the ${this.name} bus`);
    }
    this.index.add({ spec: driver, seq: this.nextSeq++ });
    if (!this.autoprobe || driver.sysfsBindOnly === true) return undefined;
    return driverAttach(this.#context, driver);
  }

  /**
   * `driver_unregister()`: the driver leaves the bus (no new binds), queued async attaches of
   * it are dropped (the kernel flushes them with async_synchronize_full() and then detaches,
   * which ends in the same state), and every device bound to it is released.
   */
  unregisterDriver(name: string): Completion {
    const entry = this.index.byName(name);
    if (entry === undefined) throw new KernelError('ENODEV', `no driver ${name} on the ${this.name} bus`);
    this.index.remove(entry);
    const results: Completion[] = [];
    for (const device of this.deviceMap.values()) {
      stateOf(device).dropAsync(entry.spec);
      if (stateOf(device).driver === entry.spec) {
        results.push(
          withDeviceLock(device, () =>
            stateOf(device).driver === entry.spec ? releaseDriver(this.#context, device) : undefined,
          ),
        );
      }
    }
    const done = allDone(results);
    if (!isPromise(done)) return undefined;
    this.#leaving.set(name, entry.spec);
    const gone = (): void => {
      this.#leaving.delete(name);
    };
    return done.then(gone, (error: unknown) => {
      gone();
      throw error;
    });
  }

  /**
   * `/sys/bus/<bus>/drivers/<drv>/bind` (drivers/base/bus.c bind_store): `ENOENT` without a
   * bind file, `ENODEV` for no such device or no match (an AMBA match that defers still
   * attempts the attach), then device_driver_attach(): `EBUSY` when already bound, the
   * probe's own error otherwise, and `EPROBE_DEFER` as `EAGAIN` — without queueing the device
   * for retry, since device_driver_attach() calls __driver_probe_device() rather than
   * driver_probe_device() (drivers/base/dd.c, v5.13 and later; see `legacyBindStore` for
   * older kernels). The match is tested without the device lock, with the
   * `driver_override` of the moment; the attach waits for a remove in progress. Works with
   * `drivers_autoprobe` off, on `explicitBindOnly` devices and for `sysfsBindOnly` drivers.
   */
  bind(driverName: string, deviceName: string): Completion {
    const driver = this.bindFileDriver(driverName, 'bind');
    const device = this.requireDevice(deviceName);
    return bindStore(this.#context, driver, device);
  }

  /**
   * `/sys/bus/<bus>/drivers/<drv>/unbind` (drivers/base/bus.c unbind_store): `ENOENT` without
   * an unbind file, `ENODEV` unless the device exists and `dev->driver == drv` — a test made
   * without the device lock, so it also passes while that driver's remove is still running.
   * Then device_driver_detach() takes the device lock (waiting for a remove in progress) and
   * releases whatever driver is still bound, which is nothing once that remove has finished:
   * a second unbind during vfio's blocked remove waits for it and succeeds.
   */
  unbind(driverName: string, deviceName: string): Completion {
    const driver = this.bindFileDriver(driverName, 'unbind');
    const device = this.requireDevice(deviceName);
    if (stateOf(device).driver !== driver) {
      throw new KernelError('ENODEV', `${device.name} is not bound to ${driver.name}`);
    }
    return withDeviceLock(device, () => releaseDriver(this.#context, device));
  }

  /**
   * Writes `driver_override` as driver_set_override() does (drivers/base/driver.c): `EINVAL`
   * when the write is PAGE_SIZE − 1 bytes or more; the string ends at the first NUL
   * (strlen) and is cut at the first newline (strnchr); an empty result — `""`, `"\n"`, or
   * anything starting with a newline — clears it. It does not unbind or reprobe: unbind,
   * then `bind` or `drivers_probe`. The string is swapped under its own lock (the generic
   * driver_override, `__device_set_driver_override` in drivers/base/dd.c, as the oracle's
   * Linux 6.12 has it), so a write during a remove that waits completes at once; with
   * `driverOverrideDeviceLock` it takes the device lock as mainline v6.12's
   * driver_set_override() does, and waits behind the remove (a {@link Completion}).
   */
  setDriverOverride(deviceName: string, value: string): Completion {
    const device = this.requireDevice(deviceName);
    if (new TextEncoder().encode(value).length >= OVERRIDE_MAX) {
      throw new KernelError('EINVAL', 'driver_override is too long');
    }
    const string = cString(value);
    const newline = string.indexOf('\n');
    const name = newline < 0 ? string : string.slice(0, newline);
    const set = (): void => stateOf(device).setOverride(name.length === 0 ? null : name);
    // Mainline v6.12's driver_set_override() swaps the string under device_lock(dev): a write
    // during a remove that waits (vfio with its fd open) blocks until that remove has finished.
    if (this.#core.driverOverrideDeviceLock) return withDeviceLock(device, set);
    set();
    return undefined;
  }

  /**
   * `/sys/bus/<bus>/drivers_probe` (drivers_probe_store → bus_rescan_devices_helper →
   * device_attach): `ENODEV` for no such device; a bound device is left alone; otherwise a
   * synchronous attach over all drivers. Finding no driver, or a driver's probe failing, is
   * not an error; a negative error that stops the walk (an AMBA match deferral, a refused
   * dma_configure) is reported as `EINVAL`, as drivers_probe_store() does, with the walk's
   * error as the cause. An `explicitBindOnly` device is not probed (only `bind` binds it).
   */
  driversProbe(deviceName: string): Completion {
    const device = this.requireDevice(deviceName);
    // bus_rescan_devices_helper() tests `!dev->driver` without the device lock: a device
    // whose driver's remove is still waiting (vfio, fd open) is skipped at once and ends up
    // unbound when that remove finishes — the hand-back race a VMM script has to handle.
    if (stateOf(device).driver !== null || device.explicitBindOnly) return undefined;
    return withDeviceLock(device, () => {
      if (stateOf(device).driver !== null) return;
      const walked = attachWalk(this.#context, device, {
        checkAsync: false,
        wantAsync: false,
        automatic: true,
        via: 'drivers_probe',
      });
      return andThen(walked, (result) => {
        if (result.error === undefined) return;
        // drivers/base/bus.c drivers_probe_store(): err starts as -EINVAL and becomes the
        // count only when bus_rescan_devices_helper() returns 0.
        throw new KernelError('EINVAL', `${device.name}: device_attach() failed: ${result.error.message}`, {
          cause: result.error,
        });
      });
    });
  }

  /**
   * `bus_rescan_devices()`: device_attach() for every unbound device, in order; the first
   * negative error stops the walk and is thrown. `explicitBindOnly` devices are skipped.
   */
  rescan(): Completion {
    return this.rescanFrom([...this.deviceMap.values()], 0);
  }

  /** Continues a rescan at `start`; a device whose lock is held is waited for, in order. */
  private rescanFrom(devices: readonly Device[], start: number): Completion {
    for (let i = start; i < devices.length; i++) {
      const device = devices[i]!;
      if (stateOf(device).dead || device.explicitBindOnly) continue;
      // bus_rescan_devices_helper(): `if (!dev->driver)` before any lock, so a device whose
      // remove is still waiting is skipped, not waited for.
      if (stateOf(device).driver !== null) continue;
      const held = stateOf(device).lock;
      if (held !== null) return held.then(() => this.rescanFrom(devices, i));
      const walked = attachWalk(this.#context, device, {
        checkAsync: false,
        wantAsync: false,
        automatic: true,
        via: 'rescan',
      });
      const next = i + 1;
      if (isPromise(walked)) {
        return walked.then((result) => {
          if (result.error !== undefined) throw result.error;
          return this.rescanFrom(devices, next);
        });
      }
      if (walked.error !== undefined) throw walked.error;
    }
    return undefined;
  }

  /**
   * `bus_probe_device()` → `device_initial_probe()`: with `drivers_autoprobe` on and the
   * device not `explicitBindOnly`, a synchronous pass over drivers that probe synchronously,
   * then, if the device is still unbound and some matching driver wants async probing, an
   * async pass on the scheduler (drivers/base/dd.c __device_attach).
   */
  probeDevice(device: Device, via: ProbeTrigger): void {
    if (!this.autoprobe || device.explicitBindOnly) return;
    const state = stateOf(device);
    if (state.dead) return;
    // A free lock (every fresh device) probes at once, without a closure: attach is the hot path.
    if (state.lock === null) deviceInitialProbe(this.#context, device, via);
    else whenUnlocked(device, () => deviceInitialProbe(this.#context, device, via));
  }
}
