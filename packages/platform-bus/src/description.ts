import type { MmioDevice, PhysAddr } from '@vfiokit/core';

/** The two buses this package models. */
export type BusName = 'platform' | 'amba';

/** One MMIO window of a device (an `IORESOURCE_MEM` resource). */
export interface MmioResource {
  /** CPU physical base address. */
  readonly start: PhysAddr;
  /** Size in bytes. */
  readonly size: number;
  /** `reg-names` entry, when the device tree gives one. */
  readonly name?: string;
}

/**
 * What a device is, as whoever creates it (device-tree population in `@vfiokit/host`, or a
 * test) describes it. It mirrors the fields `of_platform_populate()` fills in
 * (drivers/of/platform.c: of_platform_device_create_pdata / of_amba_device_create), so a
 * populated DT device maps onto it field by field.
 */
export interface DeviceDescription {
  /**
   * The device's name. For a device-tree or ACPI device it is the kernel device name
   * (`12ce0000.i2c`, `9010000.pl031`), which is also `pdev->name`. For a platform device
   * with an {@link id} it is `pdev->name` (`serial8250`), from which the device name is
   * built (`serial8250.0`). A platform device without `id`, `ofNode` or `acpiIds` may be
   * given by its device name: a trailing `.<n>` or `.<n>.auto` is read as the id
   * (`serial8250.0` is `pdev->name` `serial8250`, id 0). Platform matching (id table, driver
   * name) and the `platform:` modalias use `pdev->name`. A `/` becomes `!` in the device name
   * only.
   */
  readonly name: string;
  /**
   * Platform only: `pdev->id`. An id ≥ 0 names the device `<name>.<id>`;
   * `PLATFORM_DEVID_AUTO` (−2) `<name>.<n>.auto` with the lowest free `n`; absent or
   * `PLATFORM_DEVID_NONE` (−1) `<name>`, as of_platform_populate() creates devices.
   */
  readonly id?: number;
  /**
   * The name of the parent platform device (the bus device of_platform_populate() created
   * the node under, e.g. `soc`); absent for devices at the root, whose parent is the
   * `platform` bus device, so they sit in `/sys/devices/platform/` — AMBA devices populated
   * from the device tree too (drivers/of/platform.c: `dev->dev.parent = parent ? : &platform_bus`).
   */
  readonly parent?: string;
  /** The bus the device sits on: AMBA for nodes compatible with `arm,primecell`. */
  readonly bus: BusName;
  /** Full path of the device-tree node (`/soc/i2c@12ce0000`); absent for devices made in code. */
  readonly ofNode?: string;
  /** The node's `compatible` list, most specific first (used by OF matching). */
  readonly compatible?: readonly string[];
  /** ACPI `_HID`/`_CID` ids (used by ACPI matching); DT systems leave this empty. */
  readonly acpiIds?: readonly string[];
  /** MMIO resources in `reg` order. */
  readonly regions?: readonly MmioResource[];
  /** Linux IRQ numbers (virqs or GIC SPI numbers, as the creator chooses), in `interrupts` order. */
  readonly irqs?: readonly number[];
  /**
   * AMBA only: the `arm,primecell-periphid` property. When present the PrimeCell ID registers
   * are never read (drivers/of/platform.c: of_amba_device_create).
   */
  readonly periphid?: number;
  /**
   * AMBA only: the register model of the device's first region, used to read the PrimeCell
   * ID registers at `size − 0x20` (PeriphID0..3) and `size − 0x10` (PCellID0..3) as
   * drivers/amba/bus.c amba_read_periphid() does, first at device add (amba_device_add())
   * and again at each match while the periphid is still 0. Absent means the registers cannot be read
   * yet (no clock / power domain yet): `amba_match` then returns `EPROBE_DEFER`. A model can
   * be supplied later with {@link Device.providePrimecellRegisters}.
   */
  readonly primecell?: MmioDevice;
  /** IOMMU group number, when the device sits behind an IOMMU (`/sys/kernel/iommu_groups/<n>`). */
  readonly iommuGroup?: number;
  /** The 2013 proposal's per-device flag: never auto-probed, bound only by an explicit sysfs `bind`. */
  readonly explicitBindOnly?: boolean;
  /** Initial `driver_override` (as if written before the device was added). */
  readonly driverOverride?: string;
}
