import { isKernelError, KernelError } from '@vfiokit/core';
import type { Bus } from './bus.js';
import { modalias } from './bus-types.js';
import { isPromise } from './completion.js';
import { type Device, type DriverSpec, stateOf } from './device.js';
import { kobjectName } from './device-name.js';
import { strerror } from './strerror.js';
import { relativeLink } from './sysfs-link.js';

type Node =
  | { readonly kind: 'dir'; readonly list: () => string[] }
  | {
      readonly kind: 'link';
      readonly target: string;
      /** What lies behind the link: the node for `rest` below its target (unmodelled targets: none). */
      readonly into?: (rest: readonly string[]) => Node | undefined;
    }
  | {
      readonly kind: 'file';
      readonly read?: () => string;
      readonly write?: (data: string) => void | Promise<void>;
    };

const BUSES = ['amba', 'platform'];

/** The error a shell prints for a failed `command`, keeping the errno and the original as cause. */
function asShellError(command: string, error: unknown): unknown {
  if (!isKernelError(error)) return error;
  const [verb, path] = command.trim().split(/\s+/);
  const prefix = verb === 'echo' ? 'write error' : `${verb}: ${path}`;
  return new KernelError(error.code, `${prefix}: ${strerror(error.code, error.errno)}`, { cause: error });
}

/** The actions kobject_synth_uevent() (lib/kobject_uevent.c) accepts in a `uevent` write. */
const UEVENT_ACTIONS = ['add', 'remove', 'change', 'move', 'online', 'offline', 'bind', 'unbind'];

/**
 * A write-only `uevent` file (bus and driver directories): a known action synthesises a
 * uevent, which this model does not deliver; anything else is `EINVAL`.
 */
const UEVENT: Node = {
  kind: 'file',
  write: (data) => {
    const action = data.split(/\s+/).find((word) => word.length > 0) ?? '';
    if (!UEVENT_ACTIONS.includes(action))
      throw new KernelError('EINVAL', `uevent: unknown action "${action}"`);
  },
};

function dir(list: () => string[]): Node {
  return { kind: 'dir', list };
}

function flag(value: boolean): string {
  return value ? '1\n' : '0\n';
}

/**
 * A sysfs view of a {@link DriverCore} laid out as Linux 6.12 lays it out: each device's
 * directory under its parent in `/sys/devices/platform/` (`driver_override`, `modalias` for
 * platform devices, `id` and `resource` for AMBA ones, the 2013 proposal's `sysfs_bind_only` when
 * the core is made with `sysfsBindOnlyAttribute`,
 * and the `driver`, `subsystem`, `of_node`, `iommu_group` links), `/sys/bus/<bus>/devices/<dev>`
 * links to it, `/sys/bus/<bus>/drivers/<drv>/{bind,unbind,<dev>}`,
 * `/sys/bus/<bus>/{drivers_probe,drivers_autoprobe}` and `/sys/kernel/iommu_groups/<n>/devices/`.
 * Links hold the relative targets the kernel stores, and are followed on the way as a path
 * lookup follows them. Failures throw the `KernelError` a shell would print (`ENOENT` for a
 * missing file, `EACCES` to read a write-only file or write a read-only one, `EISDIR`).
 */
/** What the sysfs facade shows: the buses and the device directory (a `DriverCore` provides it). */
export interface SysfsSource {
  readonly platform: Bus;
  readonly amba: Bus;
  bus(name: string): Bus;
  /** Live devices by their directory under `/sys/devices`. */
  readonly devicePaths: ReadonlyMap<string, Device>;
  /** Whether devices have the 2013 proposal's `sysfs_bind_only` file (not in Linux). */
  readonly sysfsBindOnlyAttribute: boolean;
}

export class Sysfs {
  private readonly source: SysfsSource;

  constructor(source: SysfsSource) {
    this.source = source;
  }

  /** Reads a file (`cat`). */
  read(path: string): string {
    const node = this.resolveFollowing(path);
    if (node.kind !== 'file') throw new KernelError('EISDIR', `${path}: is a directory`);
    if (node.read === undefined) throw new KernelError('EACCES', `${path}: write-only attribute`);
    return node.read();
  }

  /**
   * Writes `data` to a file as one `write(2)` and returns the byte count, or a promise of it
   * when the store waits for a driver's remove (vfio unbind with the device still open).
   */
  write(path: string, data: string): number | Promise<number> {
    const node = this.resolveFollowing(path);
    if (node.kind !== 'file') throw new KernelError('EISDIR', `${path}: is a directory`);
    if (node.write === undefined) throw new KernelError('EACCES', `${path}: read-only attribute`);
    const count = new TextEncoder().encode(data).length;
    // fs/sysfs/file.c sysfs_kf_write(): `if (!count) return 0;` — an empty write never
    // reaches the attribute's ->store.
    if (count === 0) return 0;
    const done = node.write(data);
    return isPromise(done) ? done.then(() => count) : count;
  }

  /** Lists a directory (`ls`), sorted. */
  list(path: string): string[] {
    const node = this.resolveFollowing(path);
    if (node.kind !== 'dir') throw new KernelError('ENOTDIR', `${path}: not a directory`);
    return node.list().sort();
  }

  /** The target of a symbolic link (`readlink`); `EINVAL` for anything else. */
  readlink(path: string): string {
    const node = this.resolve(path);
    if (node.kind !== 'link') throw new KernelError('EINVAL', `${path}: not a symbolic link`);
    return node.target;
  }

  /** Whether the path exists (`lstat()`: a link counts, wherever it points). */
  exists(path: string): boolean {
    try {
      this.resolve(path);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Runs one shell command of the kinds sysfs recipes use: `echo [-n] <value> > <path>`,
   * `cat <path>`, `ls <path>`, `readlink <path>`. Returns what it prints (nothing for echo),
   * or a promise when the write waits; throws the write's `KernelError` with the shell's
   * message (`write error: No such device` for `ENODEV`), the original as its cause.
   */
  run(command: string): string | Promise<string> {
    try {
      const output = this.runUnchecked(command);
      return isPromise(output)
        ? output.catch((error: unknown) => Promise.reject(asShellError(command, error)))
        : output;
    } catch (error) {
      throw asShellError(command, error);
    }
  }

  private runUnchecked(command: string): string | Promise<string> {
    const echo = /^echo(\s+-n)?(?:\s+(.*?))?\s*>\s*(\S+)\s*$/.exec(command.trim());
    if (echo !== null) {
      const raw = (echo[2] ?? '').replace(/^(['"])(.*)\1$/, '$2');
      const written = this.write(echo[3]!, echo[1] === undefined ? `${raw}\n` : raw);
      return isPromise(written) ? written.then(() => '') : '';
    }
    const simple = /^(cat|ls|readlink)\s+(\S+)\s*$/.exec(command.trim());
    if (simple === null) throw new KernelError('EINVAL', `unsupported command: ${command}`);
    const path = simple[2]!;
    if (simple[1] === 'cat') return this.read(path);
    if (simple[1] === 'ls') return `${this.list(path).join('\n')}\n`;
    return `${this.readlink(path)}\n`;
  }

  /** Resolves `path` as lstat() would: links on the way are followed, a final link is not. */
  private resolve(path: string): Node {
    const parts = path.split('/').filter((part) => part.length > 0);
    const node = parts[0] === 'sys' ? this.sys(parts.slice(1)) : undefined;
    if (node === undefined) throw new KernelError('ENOENT', `${path}: no such file or directory`);
    return node;
  }

  /** Resolves `path` as stat() would: a final link is followed too. */
  private resolveFollowing(path: string): Node {
    const node = this.resolve(path);
    if (node.kind !== 'link') return node;
    const behind = node.into?.([]);
    if (behind === undefined) throw new KernelError('ENOENT', `${path}: no such file or directory`);
    return behind;
  }

  private sys(parts: readonly string[]): Node | undefined {
    if (parts.length === 0) return dir(() => ['bus', 'devices', 'kernel']);
    const [top, ...rest] = parts;
    if (top === 'bus') return this.busTree(rest);
    if (top === 'kernel') return this.kernelTree(rest);
    if (top === 'devices') return this.devicesTree(rest);
    return undefined;
  }

  private allDevices(): Device[] {
    return [...this.source.platform.devices, ...this.source.amba.devices];
  }

  /** Names in the directory `path` under /sys/devices that are device directories. */
  private childDevices(path: string): string[] {
    const names: string[] = [];
    for (const [childPath, device] of this.source.devicePaths) {
      if (!device.dead && childPath.slice(0, childPath.lastIndexOf('/')) === path) names.push(device.name);
    }
    return names;
  }

  /**
   * `/sys/devices/platform/...`: the `platform` bus device's directory, and each device
   * under its parent (`/sys/devices/platform/soc/12ce0000.i2c`).
   */
  private devicesTree(parts: readonly string[]): Node | undefined {
    if (parts.length === 0) return dir(() => ['platform']);
    if (parts[0] !== 'platform') return undefined;
    let path = '/sys/devices/platform';
    let device: Device | undefined;
    let i = 1;
    for (; i < parts.length; i++) {
      const next = this.source.devicePaths.get(`${path}/${parts[i]}`);
      if (next === undefined || next.dead) break;
      device = next;
      path = next.sysfsPath;
    }
    if (device === undefined) {
      if (i < parts.length) return undefined;
      return dir(() => this.childDevices('/sys/devices/platform'));
    }
    return this.deviceDir(device, parts.slice(i));
  }

  private busTree(parts: readonly string[]): Node | undefined {
    if (parts.length === 0) return dir(() => [...BUSES]);
    if (!BUSES.includes(parts[0]!)) return undefined;
    return this.busDir(this.source.bus(parts[0]!), parts.slice(1));
  }

  /** `/sys/bus/<bus>/...`. */
  private busDir(bus: Bus, parts: readonly string[]): Node | undefined {
    const [section, name, ...rest] = parts;
    if (section === undefined) {
      return dir(() => ['devices', 'drivers', 'drivers_autoprobe', 'drivers_probe', 'uevent']);
    }
    // bus_register(): the bus's write-only `uevent` (bus_attr_uevent).
    if (section === 'uevent' && name === undefined) return UEVENT;
    if (section === 'drivers_autoprobe' && name === undefined) {
      return {
        kind: 'file',
        read: () => flag(bus.autoprobe),
        // drivers/base/bus.c drivers_autoprobe_store: '0' disables, anything else enables.
        write: (data) => {
          bus.autoprobe = !data.startsWith('0');
        },
      };
    }
    if (section === 'drivers_probe' && name === undefined) {
      return { kind: 'file', write: (data) => bus.driversProbe(data) };
    }
    if (section === 'devices') {
      if (name === undefined) return dir(() => bus.devices.map((d) => d.name));
      // bus_add_device(): a link to the device's directory, which does not end in a newline.
      const device = bus.devices.find((candidate) => candidate.name === name);
      return device === undefined ? undefined : this.deviceLink(`/sys/bus/${bus.name}/devices`, device, rest);
    }
    if (section === 'drivers') {
      // bus_add_driver(): the directory is the kobject name, `/` in drv->name turned into `!`.
      const all = (): DriverSpec[] => [...bus.drivers, ...bus.unregistering];
      if (name === undefined) return dir(() => all().map((d) => kobjectName(d.name)));
      const driver = all().find((d) => kobjectName(d.name) === name);
      return driver === undefined ? undefined : this.driverDir(bus, driver, rest);
    }
    return undefined;
  }

  /** A link in `linkDir` to a device's directory, followed for `rest`. */
  private deviceLink(linkDir: string, device: Device, rest: readonly string[]): Node | undefined {
    if (rest.length > 0) return this.deviceDir(device, rest);
    return {
      kind: 'link',
      target: relativeLink(linkDir, device.sysfsPath),
      into: (below) => this.deviceDir(device, below),
    };
  }

  /** `/sys/bus/<bus>/drivers/<drv>/...`: bind, unbind, and a link to each bound device. */
  private driverDir(bus: Bus, driver: DriverSpec, parts: readonly string[]): Node | undefined {
    const name = driver.name;
    // bus_remove_driver(): a driver whose unregister waits has lost bind, unbind and uevent.
    const leaving = bus.unregistering.includes(driver);
    // driver_sysfs_remove() runs before the driver's remove: a device whose remove waits
    // is no longer listed, though dev->driver still points here.
    const bound = (): Device[] =>
      bus.devices.filter((device) => stateOf(device).driver === driver && !stateOf(device).removing);
    const files = driver.suppressBindAttrs === true || leaving ? [] : ['bind', 'unbind'];
    // bus_add_driver(): every driver directory has a write-only `uevent`, with or without
    // bind files (suppress_bind_attrs).
    const uevent = leaving ? [] : ['uevent'];
    if (parts.length === 0) return dir(() => [...files, ...uevent, ...bound().map((device) => device.name)]);
    const [file, ...rest] = parts as [string, ...string[]];
    if (file === 'uevent' && rest.length === 0 && !leaving) return UEVENT;
    if (files.includes(file) && rest.length === 0) {
      return {
        kind: 'file',
        write: (data) => (file === 'bind' ? bus.bind(name, data) : bus.unbind(name, data)),
      };
    }
    const device = bound().find((candidate) => candidate.name === file);
    return device === undefined
      ? undefined
      : this.deviceLink(`/sys/bus/${bus.name}/drivers/${driver.name}`, device, rest);
  }

  /**
   * A device's directory: its attributes (the bus's `dev_groups`), its links and its child
   * devices. Platform devices have `driver_override` and `modalias`
   * (drivers/base/platform.c platform_dev_attrs); AMBA devices `id`, `resource` and
   * `driver_override` and no `modalias` (drivers/amba/bus.c amba_dev_attrs).
   */
  private deviceDir(device: Device, parts: readonly string[]): Node | undefined {
    const bus = this.source.bus(device.bus);
    const attrs = (): string[] => {
      const names = [...bus.type.attributes, 'subsystem'];
      if (this.source.sysfsBindOnlyAttribute) names.push('sysfs_bind_only');
      if (stateOf(device).driver !== null && !stateOf(device).removing) names.push('driver');
      if (device.description.ofNode !== undefined) names.push('of_node');
      if (device.iommuGroup !== undefined) names.push('iommu_group');
      return names;
    };
    if (parts.length === 0) return dir(() => [...attrs(), ...this.childDevices(device.sysfsPath)]);
    const [name, ...rest] = parts as [string, ...string[]];
    if (!attrs().includes(name)) {
      const child = this.source.devicePaths.get(`${device.sysfsPath}/${name}`);
      return child === undefined || child.dead ? undefined : this.deviceDir(child, rest);
    }
    const here = device.sysfsPath;
    const link = (
      target: string,
      into?: (below: readonly string[]) => Node | undefined,
    ): Node | undefined => {
      if (rest.length > 0) return into?.(rest);
      return into === undefined
        ? { kind: 'link', target: relativeLink(here, target) }
        : { kind: 'link', target: relativeLink(here, target), into };
    };
    if (rest.length > 0 && !['driver', 'subsystem', 'iommu_group'].includes(name)) return undefined;
    switch (name) {
      case 'driver_override':
        return {
          kind: 'file',
          // platform.c / amba/bus.c driver_override_show: sprintf("%s\n"), "(null)" when unset.
          read: () => `${stateOf(device).driverOverride ?? '(null)'}\n`,
          write: (data) => bus.setDriverOverride(device.name, data),
        };
      case 'modalias':
        return { kind: 'file', read: () => `${modalias(device)}\n` };
      case 'sysfs_bind_only':
        return {
          kind: 'file',
          read: () => flag(device.explicitBindOnly),
          write: (data) => {
            const value = data.trim();
            if (value !== '0' && value !== '1')
              throw new KernelError('EINVAL', 'sysfs_bind_only takes 0 or 1');
            device.explicitBindOnly = value === '1';
          },
        };
      case 'id':
        return { kind: 'file', read: () => `${device.periphid.toString(16).padStart(8, '0')}\n` };
      case 'resource':
        return { kind: 'file', read: () => ambaResource(device) };
      case 'driver':
        return link(`/sys/bus/${bus.name}/drivers/${kobjectName(device.driverName ?? '')}`, (below) => {
          const driver = stateOf(device).driver;
          return driver === null ? undefined : this.driverDir(bus, driver, below);
        });
      case 'subsystem':
        return link(`/sys/bus/${bus.name}`, (below) => this.busDir(bus, below));
      case 'of_node':
        return link(`/sys/firmware/devicetree/base${device.description.ofNode}`);
      case 'iommu_group':
        return link(`/sys/kernel/iommu_groups/${device.iommuGroup}`, (below) =>
          this.kernelTree(['iommu_groups', String(device.iommuGroup), ...below]),
        );
      default:
        return undefined;
    }
  }

  private kernelTree(parts: readonly string[]): Node | undefined {
    if (parts.length === 0) return dir(() => ['iommu_groups']);
    if (parts[0] !== 'iommu_groups') return undefined;
    const groups = new Map<string, Device[]>();
    for (const device of this.allDevices()) {
      if (device.iommuGroup === undefined) continue;
      const key = String(device.iommuGroup);
      groups.set(key, [...(groups.get(key) ?? []), device]);
    }
    if (parts.length === 1) return dir(() => [...groups.keys()]);
    const members = groups.get(parts[1]!);
    if (members === undefined) return undefined;
    if (parts.length === 2) return dir(() => ['devices']);
    if (parts[2] !== 'devices') return undefined;
    if (parts.length === 3) return dir(() => members.map((device) => device.name));
    const device = members.find((candidate) => candidate.name === parts[3]);
    // iommu_group_add_device(): the link points at the device's own directory.
    return device === undefined
      ? undefined
      : this.deviceLink(`/sys/kernel/iommu_groups/${parts[1]}/devices`, device, parts.slice(4));
  }
}

/**
 * The AMBA `resource` attribute (drivers/amba/bus.c amba_attr_func(resource)):
 * `"\t%016llx\t%016llx\t%016lx\n"` of start, end and flags (`IORESOURCE_MEM`, 0x200, for the
 * first `reg` entry that of_amba_device_create() turns into `dev->res`).
 */
function ambaResource(device: Device): string {
  const region = device.regions[0];
  const hex = (value: bigint): string => value.toString(16).padStart(16, '0');
  if (region === undefined) return `\t${hex(0n)}\t${hex(0n)}\t${hex(0n)}\n`;
  const start = BigInt(region.start);
  return `\t${hex(start)}\t${hex(start + BigInt(region.size) - 1n)}\t${hex(0x200n)}\n`;
}
