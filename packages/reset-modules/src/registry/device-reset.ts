import { isKernelError, KernelError, type ResetTarget, rejectUnknownOptions } from '@vfiokit/core';
import type { ResetLookupSource, ResetModuleHandle } from './lookup.js';
import type { ResetRegistryMode } from './mode.js';
import type { AcpiCompanion, ResetControl, ResetDeviceInfo } from './providers.js';
import type { ResetReport } from './report.js';

/** Options of the probe-time lookup; unknown keys are refused with `EINVAL`. */
export interface GetResetOptions {
  /** The vfio-platform/vfio-amba module parameter `reset_required` (default 1 in Linux). */
  readonly resetRequired: boolean;
}

/** When a reset is run, which decides what a failure does (drivers/vfio/platform/vfio_platform_common.c). */
export type ResetPhase = 'open' | 'close' | 'ioctl';

/** The result of a reset run at open or close. */
export interface ResetOutcome {
  readonly phase: ResetPhase;
  /** The failure, `null` when the reset succeeded. */
  readonly error: KernelError | null;
  /** The kernel's warning for this failure, `null` when it logs none. */
  readonly warning: string | null;
}

type Provider =
  | { readonly kind: 'acpi-rst'; readonly acpi: AcpiCompanion }
  | { readonly kind: 'reset-module'; readonly handle: ResetModuleHandle }
  | { readonly kind: 'reset-controller'; readonly lines: readonly ResetControl[] }
  | { readonly kind: 'none' };

/**
 * A device's reset as the vfio platform drivers hold it from probe to remove: the provider
 * found by `ResetRegistry.getReset`, its report, and the calls the driver makes.
 *
 * - `hasReset` is `vfio_platform_has_reset` (sets `VFIO_DEVICE_FLAGS_RESET` in GET_INFO).
 * - `call` is `vfio_platform_call_reset` (VFIO_DEVICE_RESET): no reset → `EINVAL`.
 * - `callOnOpen` / `callOnClose` apply `reset_required` exactly as
 *   `vfio_platform_open_device` / `vfio_platform_close_device` do.
 * - `release` is `vfio_platform_put_reset` (from `vfio_platform_release_common`).
 */
export class DeviceReset {
  readonly report: ResetReport;
  readonly resetRequired: boolean;
  private readonly provider: Provider;
  private released = false;

  private constructor(provider: Provider, report: ResetReport, resetRequired: boolean) {
    this.provider = provider;
    this.report = report;
    this.resetRequired = resetRequired;
  }

  /** @internal Use `ResetRegistry.getReset`. */
  static probe(registry: ResetLookupSource, device: ResetDeviceInfo, options: GetResetOptions): DeviceReset {
    rejectUnknownOptions(options, ['resetRequired'], 'getReset');
    rejectUnknownOptions(device, ['name', 'compatible', 'acpi', 'resets'], 'getReset device');
    if (device.acpi !== undefined) rejectUnknownOptions(device.acpi, ['hid', 'rst'], 'getReset device.acpi');
    if (typeof options?.resetRequired !== 'boolean')
      throw new KernelError('EINVAL', 'getReset: resetRequired must be a boolean (the module parameter)');
    const required = options.resetRequired;
    const mode = registry.mode;
    const make = (provider: Provider, compatible: string | null, loaderAlias: string | null): DeviceReset =>
      new DeviceReset(
        provider,
        describe(device, provider, { compatible, loaderAlias, required, mode }),
        required,
      );
    const missing = (
      compatible: string | null,
      loaderAlias: string | null,
      why: string | null,
    ): DeviceReset => {
      // vfio_platform_init_common: `if (ret && vdev->reset_required)` → "No reset function
      // found for device %s" and the probe fails with vfio_platform_get_reset's -ENOENT.
      if (required) {
        throw new KernelError(
          'ENOENT',
          `No reset function found for device ${device.name}${why === null ? '' : ` (${why})`}`,
        );
      }
      return make({ kind: 'none' }, compatible, loaderAlias);
    };

    // vfio_platform_get_reset: an ACPI device is reset by _RST or not at all.
    if (device.acpi !== undefined) {
      return device.acpi.rst === undefined
        ? missing(null, null, null)
        : make({ kind: 'acpi-rst', acpi: device.acpi }, null, null);
    }
    // vfio_platform_of_probe: the FIRST compatible string; without one the probe fails before
    // any reset lookup ("Cannot retrieve compat for %s"), whatever reset_required says.
    const compatible = device.compatible[0];
    if (compatible === undefined)
      throw new KernelError('EINVAL', `Cannot retrieve compat for ${device.name}`);
    const { handle, loaderAlias, loaderError } = registry.get(compatible);
    if (handle !== null) return make({ kind: 'reset-module', handle }, compatible, loaderAlias);
    // Beyond upstream, opt-in (mode 'vfiokit'): the device tree's `resets`, used only when no
    // module claims the device.
    const hasResets = device.resets !== undefined && device.resets.length > 0;
    if (hasResets && mode === 'vfiokit' && device.resets !== undefined) {
      return make({ kind: 'reset-controller', lines: device.resets }, compatible, loaderAlias);
    }
    const why: string[] = [];
    if (mode === 'upstream') {
      if (loaderError !== null && /not a Linux module/.test(loaderError.message))
        why.push(loaderError.message);
      if (hasResets) why.push("the device tree's resets are used only in registry mode 'vfiokit'");
    }
    return missing(
      compatible,
      loaderAlias,
      why.length === 0 ? null : `registry mode 'upstream': ${why.join('; ')}`,
    );
  }

  /** `vfio_platform_has_reset`: whether VFIO_DEVICE_FLAGS_RESET is reported. */
  get hasReset(): boolean {
    return this.provider.kind !== 'none';
  }

  /**
   * `vfio_platform_call_reset`: runs the reset on `target` and throws what it failed with.
   * `EINVAL` when the device has no reset ("no reset function found!") or `_RST` failed.
   */
  call(target: ResetTarget): void {
    this.assertHeld();
    const provider = this.provider;
    switch (provider.kind) {
      case 'acpi-rst':
        try {
          provider.acpi.rst?.();
        } catch (error) {
          if (!isKernelError(error)) throw error;
          // vfio_platform_acpi_call_reset: any ACPI_FAILURE → -EINVAL (status in extra_dbg).
          throw new KernelError('EINVAL', `_RST of ${target.name} failed: ${error.message}`, {
            cause: error,
          });
        }
        return;
      case 'reset-module':
        provider.handle.reset(target);
        return;
      case 'reset-controller':
        for (const line of provider.lines) line.reset();
        return;
      case 'none':
        throw new KernelError('EINVAL', `${target.name}: no reset function found!`);
    }
  }

  /**
   * The reset in `vfio_platform_open_device`: a failure fails the open when `reset_required`
   * (warning "reset driver is required and reset call failed in open"), and is ignored otherwise.
   */
  callOnOpen(target: ResetTarget): ResetOutcome {
    const error = this.attempt(target);
    if (error === null) return { phase: 'open', error: null, warning: null };
    if (this.resetRequired) {
      throw new KernelError(
        error.code,
        `reset driver is required and reset call failed in open (${error.negativeErrno}) ${error.message}`,
        { cause: error },
      );
    }
    return { phase: 'open', error, warning: null };
  }

  /**
   * The reset in `vfio_platform_close_device`: never fails the close; when it fails and
   * `reset_required` the kernel WARNs "reset driver is required and reset call failed in release".
   */
  callOnClose(target: ResetTarget): ResetOutcome {
    const error = this.attempt(target);
    if (error === null) return { phase: 'close', error: null, warning: null };
    const warning = this.resetRequired
      ? `reset driver is required and reset call failed in release (${error.negativeErrno}) ${error.message}`
      : null;
    return { phase: 'close', error, warning };
  }

  /** `vfio_platform_put_reset`: drops the module reference; `EINVAL` when done already. */
  release(): void {
    this.assertHeld();
    this.released = true;
    if (this.provider.kind === 'reset-module') this.provider.handle.release();
  }

  private attempt(target: ResetTarget): KernelError | null {
    try {
      this.call(target);
      return null;
    } catch (error) {
      if (!isKernelError(error)) throw error;
      return error;
    }
  }

  private assertHeld(): void {
    if (this.released) throw new KernelError('EINVAL', `the reset of ${this.report.device} was released`);
  }
}

interface ReportContext {
  readonly compatible: string | null;
  readonly loaderAlias: string | null;
  readonly required: boolean;
  readonly mode: ResetRegistryMode;
}

function describe(device: ResetDeviceInfo, provider: Provider, context: ReportContext): ResetReport {
  const { compatible, loaderAlias, required, mode } = context;
  const base = { device: device.name, mode, compatible, loaderAlias, resetRequired: required };
  // Which mode decided, on every line: the same device reads differently in the other mode.
  const decided = `; registry mode '${mode}'`;
  switch (provider.kind) {
    case 'acpi-rst':
      return {
        ...base,
        provider: 'acpi-rst',
        upstream: true,
        owner: null,
        deprecation: null,
        summary: `${device.name}: reset by ACPI _RST of ${provider.acpi.hid}${decided}`,
      };
    case 'reset-module':
      return {
        ...base,
        provider: 'reset-module',
        // Upstream only when Linux ships the module: without it vfio_platform_get_reset finds none.
        upstream: provider.handle.upstream,
        owner: provider.handle.owner,
        deprecation: provider.handle.deprecation,
        summary: `${device.name}: reset by module ${provider.handle.owner} for "${provider.handle.compatible}"${
          loaderAlias === null ? '' : ` (loaded for ${loaderAlias})`
        }${provider.handle.upstream ? '' : '; not upstream Linux, which would find no reset'}${
          provider.handle.deprecation === null
            ? ''
            : `; deprecated since ${provider.handle.deprecation.since}`
        }${decided}`,
      };
    case 'reset-controller':
      return {
        ...base,
        provider: 'reset-controller',
        upstream: false,
        owner: null,
        deprecation: null,
        summary: `${device.name}: reset by the device tree's resets (${provider.lines
          .map((l) => `${l.controller}#${l.id}`)
          .join(', ')}); not upstream Linux, which would find no reset${decided}`,
      };
    case 'none':
      return {
        ...base,
        provider: 'none',
        upstream: true,
        owner: null,
        deprecation: null,
        summary: `${device.name}: no reset${
          device.acpi === undefined ? ` for "${compatible ?? ''}"` : ` (${device.acpi.hid} has no _RST)`
        }; allowed only because reset_required is off${decided}`,
      };
  }
}
