import { isKernelError, KernelError } from '@vfiokit/core';
import type { Bus } from './bus.js';
import { isPromise } from './completion.js';
import type { Device } from './device.js';
import type { DriverCore } from './driver-core.js';
import { modalias } from './modalias.js';
import { strerror } from './strerror.js';

type Node =
  | { readonly kind: 'dir'; readonly list: () => string[] }
  | { readonly kind: 'link'; readonly target: string }
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

function dir(list: () => string[]): Node {
  return { kind: 'dir', list };
}

function flag(value: boolean): string {
  return value ? '1\n' : '0\n';
}

/**
 * A sysfs view of a {@link DriverCore} with the kernel's paths:
 * `/sys/bus/{platform,amba}/devices/<dev>/{driver,driver_override,modalias,of_node,iommu_group}`
 * (plus AMBA `id` and the seed proposal's `sysfs_bind_only`),
 * `/sys/bus/<bus>/drivers/<drv>/{bind,unbind}`, `/sys/bus/<bus>/{drivers_probe,drivers_autoprobe}`,
 * `/sys/kernel/iommu_groups/<n>/devices/`, and `/sys/devices/<dev>/` as a flat alias of a
 * device's directory. Failures throw the `KernelError` a shell would print (`ENOENT` for a
 * missing file, `EACCES` to read a write-only file or write a read-only one, `EISDIR`).
 */
export class Sysfs {
  private readonly core: DriverCore;

  constructor(core: DriverCore) {
    this.core = core;
  }

  /** Reads a file (`cat`). */
  read(path: string): string {
    const node = this.resolve(path);
    if (node.kind !== 'file') throw new KernelError('EISDIR', `${path}: is a directory`);
    if (node.read === undefined) throw new KernelError('EACCES', `${path}: write-only attribute`);
    return node.read();
  }

  /**
   * Writes `data` to a file as one `write(2)` and returns the byte count, or a promise of it
   * when the store waits for a driver's remove (vfio unbind with the device still open).
   */
  write(path: string, data: string): number | Promise<number> {
    const node = this.resolve(path);
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
    const node = this.resolve(path);
    if (node.kind !== 'dir') throw new KernelError('ENOTDIR', `${path}: not a directory`);
    return node.list().sort();
  }

  /** The target of a symbolic link (`readlink`); `EINVAL` for anything else. */
  readlink(path: string): string {
    const node = this.resolve(path);
    if (node.kind !== 'link') throw new KernelError('EINVAL', `${path}: not a symbolic link`);
    return node.target;
  }

  /** Whether the path exists. */
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

  private resolve(path: string): Node {
    const parts = path.split('/').filter((part) => part.length > 0);
    const missing = (): never => {
      throw new KernelError('ENOENT', `${path}: no such file or directory`);
    };
    if (parts[0] !== 'sys') return missing();
    const rest = parts.slice(1);
    if (rest.length === 0) return dir(() => ['bus', 'devices', 'kernel']);
    if (rest[0] === 'bus') return this.resolveBus(rest.slice(1)) ?? missing();
    if (rest[0] === 'kernel') return this.resolveKernel(rest.slice(1)) ?? missing();
    if (rest[0] === 'devices') {
      if (rest.length === 1) return dir(() => this.allDevices().map((d) => d.name));
      const device = this.core.findDevice(rest[1]!);
      if (device === undefined) return missing();
      return this.resolveDevice(this.core.bus(device.bus), device, rest.slice(2)) ?? missing();
    }
    return missing();
  }

  private allDevices(): Device[] {
    return [...this.core.platform.devices, ...this.core.amba.devices];
  }

  private resolveBus(parts: string[]): Node | undefined {
    if (parts.length === 0) return dir(() => [...BUSES]);
    if (!BUSES.includes(parts[0]!)) return undefined;
    const bus = this.core.bus(parts[0]!);
    const [section, name, ...rest] = parts.slice(1);
    if (section === undefined) return dir(() => ['devices', 'drivers', 'drivers_autoprobe', 'drivers_probe']);
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
      const device = bus.device(name);
      return device === undefined ? undefined : this.resolveDevice(bus, device, rest);
    }
    if (section === 'drivers') {
      if (name === undefined) return dir(() => bus.drivers.map((d) => d.name));
      return this.resolveDriver(bus, name, rest);
    }
    return undefined;
  }

  private resolveDriver(bus: Bus, name: string, parts: string[]): Node | undefined {
    const driver = bus.driver(name);
    if (driver === undefined) return undefined;
    // driver_sysfs_remove() runs before the driver's remove: a device whose remove waits
    // is no longer listed, though dev->driver still points here.
    const bound = (): Device[] =>
      bus.devices.filter((device) => device.core.driver === driver && !device.core.removing);
    const files = driver.suppressBindAttrs === true ? [] : ['bind', 'unbind'];
    if (parts.length === 0) return dir(() => [...files, ...bound().map((device) => device.name)]);
    if (parts.length !== 1) return undefined;
    const [file] = parts as [string];
    if (files.includes(file)) {
      return {
        kind: 'file',
        write: (data) => (file === 'bind' ? bus.bind(name, data) : bus.unbind(name, data)),
      };
    }
    const device = bound().find((candidate) => candidate.name === file);
    return device === undefined
      ? undefined
      : { kind: 'link', target: `../../../../devices/${bus.name}/${device.name}` };
  }

  private resolveDevice(bus: Bus, device: Device, parts: string[]): Node | undefined {
    const attrs = (): string[] => {
      const names = ['driver_override', 'modalias', 'sysfs_bind_only'];
      if (device.core.driver !== null && !device.core.removing) names.push('driver');
      if (device.description.ofNode !== undefined) names.push('of_node');
      if (device.iommuGroup !== undefined) names.push('iommu_group');
      if (device.bus === 'amba') names.push('id');
      return names;
    };
    if (parts.length === 0) return dir(attrs);
    if (parts.length !== 1 || !attrs().includes(parts[0]!)) return undefined;
    switch (parts[0]) {
      case 'driver_override':
        return {
          kind: 'file',
          // drivers/base/platform.c driver_override_show: "(null)" when unset.
          read: () => `${device.core.driverOverride ?? '(null)'}\n`,
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
      case 'driver':
        return { kind: 'link', target: `../../../bus/${bus.name}/drivers/${device.driverName}` };
      case 'of_node':
        return { kind: 'link', target: `../../../firmware/devicetree/base${device.description.ofNode}` };
      case 'iommu_group':
        return { kind: 'link', target: `../../../kernel/iommu_groups/${device.iommuGroup}` };
      default:
        return undefined;
    }
  }

  private resolveKernel(parts: string[]): Node | undefined {
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
    const device = parts.length === 4 ? members.find((candidate) => candidate.name === parts[3]) : undefined;
    return device === undefined
      ? undefined
      : { kind: 'link', target: `../../../../bus/${device.bus}/devices/${device.name}` };
  }
}
