/**
 * `struct mdev_type` (include/linux/mdev.h): one type a parent offers. Its sysfs directory is
 * `<driver name>-<sysfs_name>` (mdev_type_add: dev_driver_string(parent) is the parent's
 * class name for mtty's class device).
 */
export interface MdevTypeSpec {
  /** `type->sysfs_name`, e.g. `1`. */
  readonly sysfsName: string;
  /** `type->pretty_name`: the `name` file; no `name` file when absent. */
  readonly prettyName?: string;
}

/** A created mediated device (`struct mdev_device`), named by its UUID. */
export interface MdevDevice {
  /** The UUID in canonical lowercase form: `dev_name(&mdev->dev)`. */
  readonly uuid: string;
  /** The parent's name (`mtty`). */
  readonly parent: string;
  /** The type's directory name (`mtty-1`). */
  readonly type: string;
  /** The type as the parent declared it. */
  readonly typeSpec: MdevTypeSpec;
}

/**
 * `struct mdev_driver` (include/linux/mdev.h): probe/remove of a created device and the
 * type's `available_instances`. `remove` may wait (vfio_unregister_group_dev waits for open
 * device fds): it then returns a promise.
 */
export interface MdevDriver {
  /** `driver.name`: `/sys/bus/mdev/drivers/<name>`. */
  readonly name: string;
  /** `device_api`: the type's `device_api` file (`vfio-pci` for mtty). */
  readonly deviceApi: string;
  /** `.probe`: a failure is the create write's errno (mdev_device_create → device_driver_attach). */
  probe(mdev: MdevDevice): void;
  /** `.remove`. */
  remove(mdev: MdevDevice): void | Promise<void>;
  /** `.get_available`: the `available_instances` file. */
  getAvailable(type: MdevTypeSpec): number;
  /** Sysfs groups the driver adds to each bound device (`dev_groups`, e.g. mtty's `vendor`). */
  readonly deviceGroups?: readonly string[];
}

/** `mdev_register_parent` arguments: the parent device, its driver and its types. */
export interface MdevParentSpec {
  /** `dev_name(parent->dev)`: `/sys/class/mdev_bus/<name>`. */
  readonly name: string;
  /** `dev_driver_string(parent->dev)`: the prefix of the type directories. */
  readonly driverString: string;
  /** The sysfs path of the parent device, relative to `/sys/devices` (`virtual/mtty/mtty`). */
  readonly devicePath: string;
  readonly driver: MdevDriver;
  readonly types: readonly MdevTypeSpec[];
}
