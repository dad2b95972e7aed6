import { isKernelError, KernelError } from '@vfiokit/core';
import { readPeriphid } from './amba-periphid.js';
import type { Bus } from './bus.js';
import type { Device } from './device.js';
import type { DriverSpec, MatchInfo } from './driver.js';
import type { ProbeTrigger } from './events.js';
import { busMatch } from './match.js';
import { modalias } from './modalias.js';

/**
 * The outcome of one probe attempt, with the kernel's sign convention
 * (drivers/base/dd.c): `bound` is 0; `probe-error` is a positive value (the driver's probe
 * failed, so the next driver may try); `core-error` is negative (the core refused: device
 * dead, already bound, dma_configure failed), which stops a device_attach walk.
 */
export type ProbeOutcome =
  | { readonly kind: 'bound' }
  | { readonly kind: 'probe-error'; readonly error: KernelError }
  | { readonly kind: 'core-error'; readonly error: KernelError };

const BOUND: ProbeOutcome = { kind: 'bound' };

/** A match result: how it matched, no match, or `EPROBE_DEFER` (AMBA periphid unreadable). */
export type MatchResult = MatchInfo | null | 'defer';

/**
 * The AMBA half of `amba_match()` (drivers/amba/bus.c): if the periphid is still 0, read it
 * from the PrimeCell ID registers; any failure is reported as `EPROBE_DEFER` ("returning any
 * error other than -EPROBE_DEFER from bus match can cause driver registration failure").
 * On success the suppressed `add` uevent goes out. Returns whether the periphid is known.
 */
export function ensurePeriphid(bus: Bus, device: Device): boolean {
  if (device.bus !== 'amba' || device.core.periphid !== 0) return true;
  // ioremap of the whole resource (resource_size(&dev->res)); a device made in code without
  // regions uses its register model's size.
  const size = device.regions[0]?.size ?? device.core.primecell?.size ?? 0;
  try {
    device.core.periphid = readPeriphid(device.core.primecell, size);
  } catch (error) {
    if (!isKernelError(error)) throw error;
    return false;
  }
  if (device.core.ueventSuppressed) {
    device.core.ueventSuppressed = false;
    if (bus.core.observed('add'))
      bus.core.emit('add', { bus: bus.name, device: device.name, modalias: modalias(device) });
  }
  return true;
}

/** `driver_match_device()`: the bus match, with the AMBA periphid read first. */
export function driverMatchDevice(bus: Bus, driver: DriverSpec, device: Device): MatchResult {
  if (!ensurePeriphid(bus, device)) return 'defer';
  return busMatch(device, driver);
}

/** `driver_allows_async_probing()` (drivers/base/dd.c). */
export function allowsAsyncProbing(bus: Bus, driver: DriverSpec): boolean {
  switch (driver.probeType ?? 'default') {
    case 'prefer-async':
      return true;
    case 'force-sync':
      return false;
    default: {
      // cmdline_requested_async_probing(): `*` flips the default, and the names listed
      // beside it are the exceptions (async_probe_default != listed).
      const names = bus.core.asyncProbeDrivers;
      if (names === '*') return true;
      return names.includes('*') !== names.includes(driver.name);
    }
  }
}

function failProbe(
  bus: Bus,
  device: Device,
  driver: DriverSpec,
  error: KernelError,
  stage: 'probe' | 'dma_configure',
  via: ProbeTrigger,
): void {
  device.lastProbeError = { driver: driver.name, code: error.code, message: error.message, stage };
  bus.core.emit('probe-failed', {
    bus: bus.name,
    device: device.name,
    driver: driver.name,
    code: error.code,
    message: error.message,
    stage,
    via,
  });
}

/** `device_unbind_cleanup()`: the device forgets its driver. */
function unbindCleanup(device: Device): void {
  device.core.driver = null;
  device.core.match = null;
  device.drvdata = undefined;
}

/**
 * `really_probe()` (drivers/base/dd.c), reduced to the steps this model has:
 * `dev->driver = drv`; `bus->dma_configure` (the injected hook; a failure is a core error);
 * the driver's probe (a failure is a probe error, with `prevent_deferred_probe` turning
 * `EPROBE_DEFER` into `ENXIO` as platform_probe does); on failure `dma_cleanup` and
 * device_unbind_cleanup; on success driver_bound().
 */
function reallyProbe(
  bus: Bus,
  driver: DriverSpec,
  device: Device,
  match: MatchInfo,
  via: ProbeTrigger,
): ProbeOutcome {
  device.core.driver = driver;
  device.core.match = match;
  try {
    bus.core.dmaConfigure.configure(device, driver);
  } catch (error) {
    unbindCleanup(device);
    if (!isKernelError(error)) throw error;
    failProbe(bus, device, driver, error, 'dma_configure', via);
    return { kind: 'core-error', error };
  }
  try {
    driver.probe(device, match);
  } catch (thrown) {
    bus.core.dmaConfigure.cleanup(device, driver);
    unbindCleanup(device);
    if (!isKernelError(thrown)) throw thrown;
    let error = thrown;
    if (error.code === 'EPROBE_DEFER' && driver.preventDeferredProbe === true) {
      // drivers/base/platform.c platform_probe(): "probe deferral not supported".
      error = new KernelError('ENXIO', `${driver.name}: probe deferral not supported`, { cause: thrown });
    }
    failProbe(bus, device, driver, error, 'probe', via);
    return { kind: 'probe-error', error };
  }
  driverBound(bus, driver, device, match, via);
  return BOUND;
}

/**
 * `driver_bound()`: the device leaves the deferred list, the bind uevent goes out, and every
 * successful bind retries all deferred devices (driver_deferred_probe_trigger()).
 */
function driverBound(
  bus: Bus,
  driver: DriverSpec,
  device: Device,
  match: MatchInfo,
  via: ProbeTrigger,
): void {
  device.lastProbeError = undefined;
  bus.core.deferredDel(device);
  if (bus.core.observed('bind')) {
    bus.core.emit('bind', { bus: bus.name, device: device.name, driver: driver.name, match, via });
  }
  bus.core.triggerDeferredProbe();
}

/**
 * `__driver_probe_device()`: `ENODEV` for a dead device, `EBUSY` for a bound one (both core
 * errors), else really_probe().
 */
export function probeOnce(
  bus: Bus,
  driver: DriverSpec,
  device: Device,
  match: MatchInfo,
  via: ProbeTrigger,
): ProbeOutcome {
  if (device.core.dead)
    return { kind: 'core-error', error: new KernelError('ENODEV', `${device.name} is gone`) };
  if (device.core.driver !== null) {
    return {
      kind: 'core-error',
      error: new KernelError('EBUSY', `${device.name} is already bound to ${device.core.driver.name}`),
    };
  }
  device.core.canMatch = true;
  return reallyProbe(bus, driver, device, match, via);
}

/**
 * `driver_probe_device()`: __driver_probe_device() plus deferral: an `EPROBE_DEFER` puts
 * the device on the pending list, and if a trigger happened while this probe ran the
 * deferred work is triggered again so the wakeup is not lost. Every automatic probe comes
 * through here, so this is where the 2013 `explicitBindOnly` flag refuses them (as the
 * "explicit" argument proposed for driver_probe_device() would), including async probes
 * queued before the flag was set.
 */
export function driverProbeDevice(
  bus: Bus,
  driver: DriverSpec,
  device: Device,
  match: MatchInfo,
  via: ProbeTrigger,
): ProbeOutcome {
  if (device.explicitBindOnly) {
    return {
      kind: 'core-error',
      error: new KernelError('ENODEV', `${device.name} binds only on explicit request`),
    };
  }
  const triggerCount = bus.core.deferredTriggerCount;
  const outcome = probeOnce(bus, driver, device, match, via);
  if (outcome.kind !== 'bound' && outcome.error.code === 'EPROBE_DEFER') {
    bus.core.deferredAdd(device, driver.name, outcome.error.message);
    if (triggerCount !== bus.core.deferredTriggerCount) bus.core.triggerDeferredProbe();
  }
  return outcome;
}

/** Automatic probing skips the 2013 proposal's `sysfsBindOnly` drivers. */
function eligible(driver: DriverSpec, automatic: boolean): boolean {
  return !automatic || driver.sysfsBindOnly !== true;
}

interface AttachWalk {
  /** Only drivers whose async policy equals `wantAsync` probe (the two passes of __device_attach). */
  readonly checkAsync: boolean;
  readonly wantAsync: boolean;
  /** Automatic probing: skips the 2013 proposal's `sysfsBindOnly` drivers. */
  readonly automatic: boolean;
  readonly via: ProbeTrigger;
}

/** What a device_attach walk ended with. */
export interface AttachResult {
  readonly bound: boolean;
  /** A negative error that stopped the walk (match `EPROBE_DEFER`, or a core error). */
  readonly error: KernelError | undefined;
  /** Some matching driver wants async probing (`data.have_async`). */
  readonly haveAsync: boolean;
}

/**
 * `bus_for_each_drv(__device_attach_driver)`: walks the matching drivers in registration
 * order (candidates from the index, then the exact match). No match → next driver; match
 * `EPROBE_DEFER` → the device is deferred and the walk stops; a probe error → next driver;
 * a core error → the walk stops; a bind ends it.
 */
export function attachWalk(bus: Bus, device: Device, walk: AttachWalk): AttachResult {
  let haveAsync = false;
  if (device.bus === 'amba' && device.core.periphid === 0) {
    // amba_match() reads the periphid before anything else, for the first driver it is called with.
    const first = bus.index.all.find((entry) => eligible(entry.spec, walk.automatic));
    if (first === undefined) return { bound: false, error: undefined, haveAsync };
    if (!ensurePeriphid(bus, device)) {
      const error = deferMatch(bus, device, null);
      return { bound: false, error, haveAsync };
    }
  }
  const candidates = bus.core.indexedMatching ? bus.index.candidates(device) : bus.index.all;
  for (const { spec } of candidates) {
    if (!eligible(spec, walk.automatic)) continue;
    const match = busMatch(device, spec);
    if (match === null) continue;
    const async = allowsAsyncProbing(bus, spec);
    if (async) haveAsync = true;
    if (walk.checkAsync && async !== walk.wantAsync) continue;
    const outcome = driverProbeDevice(bus, spec, device, match, walk.via);
    if (outcome.kind === 'bound') return { bound: true, error: undefined, haveAsync };
    if (outcome.kind === 'core-error') return { bound: false, error: outcome.error, haveAsync };
  }
  return { bound: false, error: undefined, haveAsync };
}

/** A match returned `EPROBE_DEFER`: `dev->can_match = true` and onto the deferred list. */
export function deferMatch(bus: Bus, device: Device, driver: DriverSpec | null): KernelError {
  device.core.canMatch = true;
  const reason = 'PrimeCell ID registers are not readable yet';
  bus.core.deferredAdd(device, driver?.name ?? null, reason);
  return new KernelError('EPROBE_DEFER', `${device.name}: ${reason}`);
}
