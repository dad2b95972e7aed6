/**
 * The ACPI companion of a device, as far as reset is concerned
 * (drivers/vfio/platform/vfio_platform_common.c: vfio_platform_acpi_probe records
 * `acpi_device_hid`, vfio_platform_acpi_has_reset asks `acpi_has_method(handle, "_RST")`).
 */
export interface AcpiCompanion {
  /** The ACPI hardware ID (`vdev->acpihid`), e.g. `AMDI8001`. */
  readonly hid: string;
  /**
   * The `_RST` method, when the device's namespace defines one. Evaluating it throws a
   * `KernelError` when ACPI reports a failure (the kernel turns any failure into `EINVAL`).
   */
  readonly rst?: () => void;
}

/**
 * One line of a device-tree `resets` property, resolved to its reset controller
 * (`struct reset_control` from `of_reset_control_get_exclusive`; drivers/reset/core.c).
 */
export interface ResetControl {
  /** The controller's device name, for reports. */
  readonly controller: string;
  /** The reset line's specifier (the cell after the phandle). */
  readonly id: number;
  /** `reset_control_reset()`: pulses the line (assert, then deassert). */
  reset(): void;
}

/**
 * What the reset lookup needs to know about a device: the facts `vfio_platform_init_common`
 * gathers before calling `vfio_platform_get_reset`.
 */
export interface ResetDeviceInfo {
  /** The device's name on its bus (`fff50000.ethernet`). */
  readonly name: string;
  /** The `compatible` list; only the FIRST entry selects a module (`device_property_read_string`). */
  readonly compatible: readonly string[];
  /** Present when the device was enumerated by ACPI: then only `_RST` is considered. */
  readonly acpi?: AcpiCompanion;
  /** The device tree's `resets`, resolved (vfiokit's generic reset-controller provider). */
  readonly resets?: readonly ResetControl[];
}
