import { KernelError } from '@vfiokit/core';
import { guidParse, UUID_STRING_LEN } from './guid.js';
import type { MdevDevice, MdevParentSpec, MdevTypeSpec } from './types.js';

interface Parent {
  readonly spec: MdevParentSpec;
  readonly types: ReadonlyMap<string, MdevTypeSpec>;
}

/**
 * The mdev bus (drivers/vfio/mdev/mdev_core.c, mdev_sysfs.c): parents registered with their
 * types, devices created by writing a UUID to a type's `create` and removed through their
 * `remove` file. The kernel's errnos: a write that is not 36 or 37 bytes, or whose first 36
 * bytes are not a UUID, is `EINVAL` (create_store, guid_parse); a UUID already in use on any
 * parent is `EEXIST` (mdev_device_create); a probe failure (mtty: `ENOSPC` with no ports
 * left) is the write's errno.
 */
export class MdevBus {
  private readonly parents = new Map<string, Parent>();
  // mdev_list, in creation order.
  private readonly devices: MdevDevice[] = [];

  /** `mdev_register_parent`: `EEXIST` for a parent of that name already registered. */
  registerParent(spec: MdevParentSpec): void {
    if (this.parents.has(spec.name)) throw new KernelError('EEXIST', `mdev parent ${spec.name} exists`);
    const types = new Map<string, MdevTypeSpec>();
    for (const type of spec.types) types.set(`${spec.driverString}-${type.sysfsName}`, type);
    this.parents.set(spec.name, { spec, types });
  }

  /** `/sys/class/mdev_bus`: the parents' names. */
  parentNames(): string[] {
    return [...this.parents.keys()];
  }

  /** A registered parent, or undefined. */
  parent(name: string): MdevParentSpec | undefined {
    return this.parents.get(name)?.spec;
  }

  /** `mdev_supported_types`: the type directory names of a parent (`ENOENT` for no parent). */
  typeNames(parent: string): string[] {
    return [...this.getParent(parent).types.keys()];
  }

  /** A type of a parent by directory name, or undefined. */
  type(parent: string, type: string): MdevTypeSpec | undefined {
    return this.parents.get(parent)?.types.get(type);
  }

  /** `available_instances` (available_instances_show → `get_available`). */
  availableInstances(parent: string, type: string): number {
    const p = this.getParent(parent);
    return p.spec.driver.getAvailable(this.getType(p, type));
  }

  /** The created devices, in creation order; only `parent`/`type`'s when given. */
  list(parent?: string, type?: string): MdevDevice[] {
    return this.devices.filter(
      (d) => (parent === undefined || d.parent === parent) && (type === undefined || d.type === type),
    );
  }

  /** A device by UUID (canonical form), or undefined. */
  device(uuid: string): MdevDevice | undefined {
    return this.devices.find((d) => d.uuid === uuid);
  }

  /**
   * A write to `<type>/create` (mdev_sysfs.c create_store): `EINVAL` unless 36 or 37 bytes whose
   * first 36 are a UUID (a 37th byte is never looked at); then mdev_device_create: `EEXIST`
   * for a UUID in use on any parent, then the driver's probe, whose error is returned (the
   * device is deleted again). Returns the byte count.
   */
  create(parent: string, type: string, data: string): number {
    const p = this.getParent(parent);
    const typeSpec = this.getType(p, type);
    if (data.length < UUID_STRING_LEN || data.length > UUID_STRING_LEN + 1)
      throw new KernelError('EINVAL', `create: ${data.length} bytes is not a UUID`);
    const uuid = guidParse(data);
    if (this.device(uuid) !== undefined) throw new KernelError('EEXIST', `mdev ${uuid} exists`);
    const mdev: MdevDevice = { uuid, parent, type, typeSpec };
    this.devices.push(mdev);
    try {
      p.spec.driver.probe(mdev);
    } catch (error) {
      this.devices.splice(this.devices.indexOf(mdev), 1);
      throw error;
    }
    return data.length;
  }

  /**
   * A write to `/sys/bus/mdev/devices/<uuid>/remove` (remove_store): `kstrtoul(buf, 0)`
   * (`EINVAL` for anything else); 0 does nothing; non-zero removes the device
   * (mdev_device_remove → driver remove), waiting when the driver waits. Returns the count.
   */
  remove(uuid: string, data: string): number | Promise<number> {
    const mdev = this.device(uuid);
    if (mdev === undefined) throw new KernelError('ENOENT', `no mdev ${uuid}`);
    const value = kstrtoul(data);
    if (value === 0n) return data.length;
    // device_remove_file_self: the file is gone for a second writer.
    this.devices.splice(this.devices.indexOf(mdev), 1);
    const parent = this.getParent(mdev.parent);
    const done = parent.spec.driver.remove(mdev);
    return done === undefined ? data.length : done.then(() => data.length);
  }

  private getParent(name: string): Parent {
    const parent = this.parents.get(name);
    if (parent === undefined) throw new KernelError('ENOENT', `no mdev parent ${name}`);
    return parent;
  }

  private getType(parent: Parent, type: string): MdevTypeSpec {
    const spec = parent.types.get(type);
    if (spec === undefined) throw new KernelError('ENOENT', `no mdev type ${type}`);
    return spec;
  }
}

/**
 * `kstrtoul(s, 0)` (lib/kstrtox.c): an unsigned number in base 0 (`0x` hex, leading-0 octal,
 * decimal) with at most one trailing newline; anything else is `EINVAL`, past 2^64-1 `ERANGE`.
 */
export function kstrtoul(data: string): bigint {
  const match = /^\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\n?$/.exec(data);
  if (match === null) throw new KernelError('EINVAL', `'${data}' is not an unsigned long`);
  const text = match[1] ?? '0';
  const value = /^0[0-7]+$/.test(text) ? BigInt(`0o${text.slice(1)}`) : BigInt(text);
  if (value > 0xffff_ffff_ffff_ffffn) throw new KernelError('ERANGE', `${text} overflows an unsigned long`);
  return value;
}
