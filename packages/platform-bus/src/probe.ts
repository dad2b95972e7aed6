import { isKernelError, KernelError } from '@vfiokit/core';
import { type Completion, isPromise } from './completion.js';
import type { BusContext } from './core-context.js';
import { type Device, type DriverSpec, stateOf } from './device.js';
import { holding } from './device-lock.js';
import type { ProbeTrigger } from './events.js';
import type { RegisteredDriver } from './match-index.js';
import type { MatchInfo } from './match-info.js';

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

/** A match result: how it matched, no match, or `EPROBE_DEFER` (the device cannot be identified yet). */
export type MatchResult = MatchInfo | null | 'defer';

/**
 * Identifies the device if its bus needs it (amba_match() in drivers/amba/bus.c reads the
 * periphid while it is still 0); any failure is `EPROBE_DEFER` ("returning any error other
 * than -EPROBE_DEFER from bus match can cause driver registration failure"). On success a
 * held-back `add` uevent goes out. Returns whether the device is identified.
 */
export function ensureIdentified(bus: BusContext, device: Device): boolean {
  if (bus.type.identified(device)) return true;
  let id: number;
  try {
    id = bus.type.identify(device);
  } catch (error) {
    if (!isKernelError(error)) throw error;
    return false;
  }
  if (stateOf(device).identified(id) && bus.core.observed('add')) {
    bus.core.emit('add', { bus: bus.name, device: device.name, modalias: bus.type.modalias(device) });
  }
  return true;
}

/** `driver_match_device()`: the bus match, after identifying the device. */
export function driverMatchDevice(bus: BusContext, driver: DriverSpec, device: Device): MatchResult {
  if (!ensureIdentified(bus, device)) return 'defer';
  return bus.type.match(device, driver);
}

/** `driver_allows_async_probing()` (drivers/base/dd.c). */
export function allowsAsyncProbing(bus: BusContext, driver: DriverSpec): boolean {
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
  bus: BusContext,
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

/**
 * `really_probe()` (drivers/base/dd.c), reduced to the steps this model has:
 * `dev->driver = drv`; `bus->dma_configure` (the injected hook; a failure is a core error);
 * the driver's probe (a throw or a rejected promise is a probe error, with
 * `prevent_deferred_probe` turning `EPROBE_DEFER` into `ENXIO` as platform_probe does); on
 * failure `dma_cleanup` and device_unbind_cleanup; on success driver_bound(). A probe that
 * returns a promise holds the device lock until it settles, as the kernel's probe runs
 * under device_lock.
 */
function reallyProbe(
  bus: BusContext,
  driver: DriverSpec,
  device: Device,
  match: MatchInfo,
  via: ProbeTrigger,
): Completion<ProbeOutcome> {
  stateOf(device).probing(driver, match);
  try {
    bus.core.dmaConfigure.configure(device, driver);
  } catch (error) {
    stateOf(device).unbound();
    device.drvdata = undefined;
    if (!isKernelError(error)) throw error;
    failProbe(bus, device, driver, error, 'dma_configure', via);
    return { kind: 'core-error', error };
  }
  let result: void | Promise<void>;
  try {
    result = driver.probe(device, match);
  } catch (thrown) {
    return probeFailed(bus, driver, device, via, thrown);
  }
  // A probe that finishes at once takes no closure: attach is a hot path.
  if (!isPromise(result)) return probeSucceeded(bus, driver, device, match, via);
  // The lock itself never rejects: operations queued behind it run whatever the probe did.
  return holding(
    device,
    result.then(
      () => probeSucceeded(bus, driver, device, match, via),
      (thrown: unknown) => probeFailed(bus, driver, device, via, thrown),
    ),
  );
}

/** really_probe() after a successful probe: driver_bound(). */
function probeSucceeded(
  bus: BusContext,
  driver: DriverSpec,
  device: Device,
  match: MatchInfo,
  via: ProbeTrigger,
): ProbeOutcome {
  driverBound(bus, driver, device, match, via);
  return BOUND;
}

/** really_probe() after a failed probe: dma_cleanup, device_unbind_cleanup(), the failure. */
function probeFailed(
  bus: BusContext,
  driver: DriverSpec,
  device: Device,
  via: ProbeTrigger,
  thrown: unknown,
): ProbeOutcome {
  try {
    bus.core.dmaConfigure.cleanup(device, driver);
  } finally {
    // device_unbind_cleanup(), whatever the cleanup hook did: a failed probe never
    // leaves the device half-bound.
    stateOf(device).unbound();
    device.drvdata = undefined;
  }
  if (!isKernelError(thrown)) throw thrown;
  let error = thrown;
  if (error.code === 'EPROBE_DEFER' && driver.preventDeferredProbe === true) {
    // drivers/base/platform.c platform_probe(): "probe deferral not supported".
    error = new KernelError('ENXIO', `${driver.name}: probe deferral not supported`, { cause: thrown });
  }
  failProbe(bus, device, driver, error, 'probe', via);
  return { kind: 'probe-error', error };
}

/**
 * `driver_bound()`: the device leaves the deferred list, the bind uevent goes out, and every
 * successful bind retries all deferred devices (driver_deferred_probe_trigger()).
 */
function driverBound(
  bus: BusContext,
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
  bus: BusContext,
  driver: DriverSpec,
  device: Device,
  match: MatchInfo,
  via: ProbeTrigger,
): Completion<ProbeOutcome> {
  if (stateOf(device).dead)
    return { kind: 'core-error', error: new KernelError('ENODEV', `${device.name} is gone`) };
  const bound = stateOf(device).driver;
  if (bound !== null) {
    return {
      kind: 'core-error',
      error: new KernelError('EBUSY', `${device.name} is already bound to ${bound.name}`),
    };
  }
  stateOf(device).matched();
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
  bus: BusContext,
  driver: DriverSpec,
  device: Device,
  match: MatchInfo,
  via: ProbeTrigger,
): Completion<ProbeOutcome> {
  if (device.explicitBindOnly) {
    return {
      kind: 'core-error',
      error: new KernelError('ENODEV', `${device.name} binds only on explicit request`),
    };
  }
  const triggerCount = bus.core.deferredTriggerCount;
  const probed = probeOnce(bus, driver, device, match, via);
  // No closure when the probe finished at once (the common case on attach).
  if (!isPromise(probed)) return deferIfAsked(bus, driver, device, triggerCount, probed);
  return holding(
    device,
    probed.then((outcome) => deferIfAsked(bus, driver, device, triggerCount, outcome)),
  );
}

/** driver_probe_device() after the probe: `EPROBE_DEFER` queues the device (and re-triggers if a trigger was missed). */
function deferIfAsked(
  bus: BusContext,
  driver: DriverSpec,
  device: Device,
  triggerCount: number,
  outcome: ProbeOutcome,
): ProbeOutcome {
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

/** How one device_attach walk runs. */
export interface AttachWalk {
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
 * a core error → the walk stops; a bind ends it. A probe that waits resumes the walk when
 * it settles.
 */
export function attachWalk(bus: BusContext, device: Device, walk: AttachWalk): Completion<AttachResult> {
  const haveAsync = false;
  if (!bus.type.identified(device)) {
    // amba_match() identifies the device before anything else, for the first driver it is called with.
    const first = bus.index.all.find((entry) => eligible(entry.spec, walk.automatic));
    if (first === undefined) return { bound: false, error: undefined, haveAsync };
    if (!ensureIdentified(bus, device)) {
      const error = deferMatch(bus, device, null);
      return { bound: false, error, haveAsync };
    }
  }
  const candidates = bus.core.indexedMatching ? bus.index.candidates(device) : bus.index.all;
  return walkFrom(bus, device, walk, candidates, 0, haveAsync);
}

/** How a probe outcome ends the walk, or `undefined` to go on with the next driver. */
function decided(outcome: ProbeOutcome, haveAsync: boolean): AttachResult | undefined {
  if (outcome.kind === 'bound') return { bound: true, error: undefined, haveAsync };
  if (outcome.kind === 'core-error') return { bound: false, error: outcome.error, haveAsync };
  return undefined;
}

/**
 * The attach walk from candidate `start` on. A plain function rather than a closure per
 * attach (attach is the hot path); only a probe that waits allocates its continuation.
 */
function walkFrom(
  bus: BusContext,
  device: Device,
  walk: AttachWalk,
  candidates: readonly RegisteredDriver[],
  start: number,
  haveAsyncSoFar: boolean,
): Completion<AttachResult> {
  let haveAsync = haveAsyncSoFar;
  const automatic = walk.automatic;
  for (let i = start; i < candidates.length; i++) {
    const spec = (candidates[i] as RegisteredDriver).spec;
    if (!eligible(spec, automatic)) continue;
    const matched = bus.type.match(device, spec);
    if (matched === null) continue;
    const async = allowsAsyncProbing(bus, spec);
    if (async) haveAsync = true;
    if (walk.checkAsync && async !== walk.wantAsync) continue;
    const outcome = driverProbeDevice(bus, spec, device, matched, walk.via);
    if (isPromise(outcome)) {
      const next = i + 1;
      const sawAsync = haveAsync;
      return holding(
        device,
        outcome.then(
          (settled) => decided(settled, sawAsync) ?? walkFrom(bus, device, walk, candidates, next, sawAsync),
        ),
      );
    }
    const result = decided(outcome, haveAsync);
    if (result !== undefined) return result;
  }
  return { bound: false, error: undefined, haveAsync };
}

/** A match returned `EPROBE_DEFER`: `dev->can_match = true` and onto the deferred list. */
export function deferMatch(bus: BusContext, device: Device, driver: DriverSpec | null): KernelError {
  stateOf(device).matched();
  const reason = 'PrimeCell ID registers are not readable yet';
  bus.core.deferredAdd(device, driver?.name ?? null, reason);
  return new KernelError('EPROBE_DEFER', `${device.name}: ${reason}`);
}

/** Watches a waiting result of automatic probing: kernel errors are the kernel's to ignore, bugs are reported. */
export function watch(bus: BusContext, result: Completion<unknown>): void {
  if (isPromise(result)) result.catch((error: unknown) => bus.core.reportBug(error));
}
