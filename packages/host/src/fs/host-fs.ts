import { isKernelError, KernelError } from '@vfiokit/core';
import { kstrtobool, kstrtouint } from '../cmdline.js';
import type { Host } from '../host.js';
import type { Extra } from './extra.js';
import { MdevFs } from './mdev-fs.js';

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * The host's file-system view, with the shell-like API of platform-bus's `Sysfs`
 * (`run('echo … > …')`, `cat`, `ls`, `readlink`, `write`, `exists`): everything under
 * `/sys` that the driver core shows comes from platform-bus's sysfs, and the host adds what
 * the kernel shows beyond it — `/proc/sys/kernel/tainted`, `/proc/cmdline`, the
 * `name`/`type`/`reserved_regions` files of `/sys/kernel/iommu_groups/<n>`, and `/dev/vfio`
 * (`vfio` and one node per VFIO group). Failures throw the `KernelError` the system call
 * would return.
 */
export class HostFs {
  private readonly host: Host;
  private readonly mdevFs: MdevFs;

  constructor(host: Host) {
    this.host = host;
    this.mdevFs = new MdevFs({
      get mdev() {
        return host.mdev;
      },
      get vfio() {
        return host.vfio;
      },
      vfioDeviceOf: (uuid) => host.mtty.vfioDevice(uuid),
    });
  }

  /** Reads a file (`cat`). */
  read(path: string): string {
    const extra = this.extra(path);
    if (extra === undefined) return this.host.core.sysfs.read(path);
    if (extra.kind === 'link') return this.read(resolveLink(path, extra.target));
    if (extra.kind === 'dir') throw new KernelError('EISDIR', `${path}: is a directory`);
    if (extra.kind === 'chardev') return this.openChardev(path, 'read');
    return extra.read();
  }

  /** `cat`, as {@link read}. */
  cat(path: string): string {
    return this.read(path);
  }

  /**
   * Writes `data` as one `write(2)`; returns the byte count, or a promise of it when the
   * store waits (an unbind while user space holds the device fd).
   */
  write(path: string, data: string): number | Promise<number> {
    const extra = this.extra(path);
    if (extra === undefined) return this.host.core.sysfs.write(path, data);
    if (extra.kind === 'link') return this.write(resolveLink(path, extra.target), data);
    if (extra.kind === 'dir') throw new KernelError('EISDIR', `${path}: is a directory`);
    if (extra.kind === 'chardev') return this.openChardev(path, 'write');
    if (extra.write === undefined) {
      // A read-only proc file has no proc_write: EIO (fs/proc/inode.c proc_reg_write); sysfs
      // attributes without a store refuse the open for writing: EACCES.
      throw new KernelError(path.startsWith('/proc/') ? 'EIO' : 'EACCES', `${path}: read-only file`);
    }
    // sysfs_kf_write() and proc_sys_call_handler(): an empty write never reaches the handler.
    if (data.length === 0) return 0;
    const stored = extra.write(data);
    return isPromise(stored) ? stored.then(() => data.length) : data.length;
  }

  // open(2) of a VFIO node runs its open (a group is single-open: EBUSY; no-IOMMU needs
  // CAP_SYS_RAWIO), then read(2)/write(2) is EINVAL: neither fops has read or write.
  private openChardev(path: string, op: 'read' | 'write'): never {
    const process = this.host.spawn({ comm: 'cat' });
    const fd = process.open(path);
    process.close(fd);
    throw new KernelError('EINVAL', `${path}: no ${op} file operation`);
  }

  /** Lists a directory (`ls`), sorted by byte value. */
  list(path: string): string[] {
    const extra = this.extra(path);
    if (extra === undefined) {
      const names = this.host.core.sysfs.list(path);
      return [...names, ...this.extraNames(path)].sort(byteOrder);
    }
    if (extra.kind === 'link') return this.list(resolveLink(path, extra.target));
    if (extra.kind !== 'dir') throw new KernelError('ENOTDIR', `${path}: not a directory`);
    return extra.list().sort(byteOrder);
  }

  /** `ls`, as {@link list}. */
  ls(path: string): string[] {
    return this.list(path);
  }

  /** The target of a symbolic link; `EINVAL` for anything else. */
  readlink(path: string): string {
    const extra = this.extra(path);
    if (extra?.kind === 'link') return extra.target;
    if (extra !== undefined) throw new KernelError('EINVAL', `${path}: not a symbolic link`);
    return this.host.core.sysfs.readlink(path);
  }

  /** Whether the path exists (`lstat` succeeds). */
  exists(path: string): boolean {
    try {
      if (this.extra(path) !== undefined) return true;
    } catch (error) {
      if (isKernelError(error, 'ENOENT')) return false;
      throw error;
    }
    return this.host.core.sysfs.exists(path);
  }

  /**
   * One shell command: `echo [-n] <value> > <path>`, `cat <path>`, `ls <path>`,
   * `readlink <path>`, `modprobe <module>`. Returns what it prints (nothing for echo), or a promise when the write
   * waits; throws the `KernelError` of the failing call.
   */
  run(command: string): string | Promise<string> {
    const echo = /^echo(\s+-n)?(?:\s+(.*?))?\s*>\s*(\S+)\s*$/.exec(command.trim());
    if (echo !== null) {
      const raw = (echo[2] ?? '').replace(/^(['"])(.*)\1$/, '$2');
      const written = this.write(echo[3] ?? '', echo[1] === undefined ? `${raw}\n` : raw);
      return isPromise(written) ? written.then(() => '') : '';
    }
    // modprobe NAME: vfiokit's out-of-tree modules (the emulated-IOMMU drivers), loaded on
    // request as `Host.loadEmulatedDriver` does; ENOENT for a module that does not exist.
    const modprobe = /^modprobe\s+(\S+)\s*$/.exec(command.trim());
    if (modprobe !== null) {
      this.host.loadEmulatedDriver(modprobe[1] ?? '');
      return '';
    }
    const simple = /^(cat|ls|readlink)\s+(\S+)\s*$/.exec(command.trim());
    if (simple === null) throw new KernelError('EINVAL', `unsupported command: ${command}`);
    const path = simple[2] ?? '';
    if (simple[1] === 'cat') return this.read(path);
    if (simple[1] === 'ls') {
      const names = this.list(path);
      return names.length === 0 ? '' : `${names.join('\n')}\n`;
    }
    return `${this.readlink(path)}\n`;
  }

  // Names the host adds to directories platform-bus lists.
  private extraNames(path: string): string[] {
    const parts = split(path);
    const mdevNames = this.mdevFs.extraNames(parts);
    if (mdevNames.length > 0) return mdevNames;
    const device = deviceOfPath(parts);
    if (device !== undefined && device.rest.length === 0)
      return this.classChildren(device.name).map((c) => c.dir);
    if (parts.length === 1 && parts[0] === 'sys') return ['module'];
    if (parts.length === 4 && parts[0] === 'sys' && parts[1] === 'kernel' && parts[2] === 'iommu_groups') {
      const names = ['reserved_regions', 'type'];
      if (this.host.iommuGroupName(Number(parts[3])) !== undefined) names.push('name');
      return names;
    }
    return [];
  }

  // Class devices drivers create under a device: the RTC's `rtc/rtc<N>` and vfio's
  // `vfio-dev/vfio<N>` (their own attributes are not modelled).
  private classChildren(device: string): { dir: string; child: string }[] {
    const out: { dir: string; child: string }[] = [];
    const rtc = this.host.rtcOf(device);
    if (rtc !== undefined) out.push({ dir: 'rtc', child: rtc });
    const vfio = this.host.vfioDevOf(device);
    if (vfio !== undefined) out.push({ dir: 'vfio-dev', child: vfio });
    return out;
  }

  // The nodes the host itself serves, or undefined for platform-bus's sysfs.
  private extra(path: string): Extra | undefined {
    const parts = split(path);
    const mdev = this.mdevFs.extra(parts, path);
    if (mdev !== undefined) return mdev;
    const device = deviceOfPath(parts);
    if (device !== undefined && device.rest.length > 0 && this.host.device(device.name) !== undefined) {
      const entry = this.classChildren(device.name).find((c) => c.dir === device.rest[0]);
      if (entry !== undefined) {
        if (device.rest.length === 1) return { kind: 'dir', list: () => [entry.child] };
        if (device.rest.length === 2 && device.rest[1] === entry.child)
          return { kind: 'dir', list: () => [] };
      }
    }
    if (parts[0] === 'proc') return this.proc(parts.slice(1), path);
    if (parts[0] === 'dev') return this.dev(parts.slice(1), path);
    if (parts[0] === 'sys' && parts[1] === 'module') return this.module(parts.slice(2), path);
    if (parts[0] === 'sys' && parts[1] === 'kernel' && parts[2] === 'iommu_groups' && parts.length === 5) {
      const id = parts[3] ?? '';
      if (!this.host.core.sysfs.exists(`/sys/kernel/iommu_groups/${id}`)) return undefined;
      const name = this.host.iommuGroupName(Number(id));
      // drivers/iommu/iommu.c: `name` exists only once set (iommu_group_set_name); `type` says
      // "unknown" for a group without a default domain; no reserved regions here.
      if (parts[4] === 'name' && name !== undefined) return { kind: 'file', read: () => `${name}\n` };
      // SMMU groups answer from their default domain and reserved regions (host/src/iommu).
      if (parts[4] === 'type')
        return { kind: 'file', read: () => this.host.iommu.typeFile(Number(id)) ?? 'unknown\n' };
      if (parts[4] === 'reserved_regions')
        return { kind: 'file', read: () => this.host.iommu.reservedRegionsFile(Number(id)) ?? '' };
    }
    return undefined;
  }

  private proc(parts: string[], path: string): Extra {
    const missing = (): never => {
      throw new KernelError('ENOENT', `${path}: no such file or directory`);
    };
    const key = parts.join('/');
    if (key === '') return { kind: 'dir', list: () => ['cmdline', 'sys'] };
    if (key === 'cmdline') return { kind: 'file', read: () => `${this.host.cmdline}\n` };
    // /proc/sys as the oracle kernel lists it; only kernel/tainted is modelled inside.
    if (key === 'sys') return { kind: 'dir', list: () => ['debug', 'dev', 'fs', 'kernel', 'user', 'vm'] };
    if (['sys/debug', 'sys/dev', 'sys/fs', 'sys/user', 'sys/vm'].includes(key))
      return { kind: 'dir', list: () => [] };
    if (key === 'sys/kernel') return { kind: 'dir', list: () => ['tainted'] };
    if (key === 'sys/kernel/tainted') {
      return {
        kind: 'file',
        read: () => `${this.host.tainted}\n`,
        // kernel/sysctl.c proc_taint(): proc_doulongvec_minmax, then add_taint() for every bit.
        write: (data) => this.host.addTaint(parseProcUlong(data)),
      };
    }
    return missing();
  }

  // /sys/module as the oracle kernel shows it (kernel/params.c param_sysfs_builtin and
  // MODULE_VERSION): every built-in module with parameters or a version has a directory. The
  // VFIO modules' `parameters/*` (bools read Y/N, param_get_bool; 0644 ones take writes) and
  // `version` files are modelled; the other modules' contents are not (they list as empty).
  private module(parts: string[], path: string): Extra {
    const missing = (): never => {
      throw new KernelError('ENOENT', `${path}: no such file or directory`);
    };
    const params = this.moduleParams();
    const builtIn = this.builtinModules();
    if (parts.length === 0) return { kind: 'dir', list: () => builtIn };
    const name = parts[0] ?? '';
    if (!builtIn.includes(name)) return missing();
    const module = params[name] ?? {};
    const version = MODULE_VERSIONS[name];
    const entries = (): string[] => [
      ...(Object.keys(module).length > 0 ? ['parameters'] : []),
      ...(version === undefined ? [] : ['version']),
    ];
    if (parts.length === 1) return { kind: 'dir', list: entries };
    if (parts.length === 2 && parts[1] === 'version' && version !== undefined)
      return { kind: 'file', read: () => `${version}\n` };
    if (parts[1] !== 'parameters' || !entries().includes('parameters')) return missing();
    if (parts.length === 2) return { kind: 'dir', list: () => Object.keys(module) };
    const param = parts.length === 3 ? module[parts[2] ?? ''] : undefined;
    return param ?? missing();
  }

  // A reset module built in shows only when the host has it (its MODULE_VERSION makes the
  // directory; bcmflexrm has none, so it never shows).
  private builtinModules(): string[] {
    const owners = new Set(this.host.resetModules.map((m) => m.owner?.replaceAll('-', '_')));
    return BUILTIN_MODULES.filter((name) => !RESET_MODULE_DIRS.includes(name) || owners.has(name));
  }

  private moduleParams(): Record<string, Record<string, Extra>> {
    const vfio = this.host.vfio.params;
    const yn = (value: boolean): string => (value ? 'Y\n' : 'N\n');
    const bool = (get: () => boolean, set?: (value: boolean) => void): Extra =>
      set === undefined
        ? { kind: 'file', read: () => yn(get()) }
        : { kind: 'file', read: () => yn(get()), write: (data) => set(kstrtobool(data)) };
    return {
      vfio: {
        enable_unsafe_noiommu_mode: bool(
          () => vfio.enableUnsafeNoiommuMode,
          (value) => {
            vfio.enableUnsafeNoiommuMode = value;
          },
        ),
      },
      vfio_iommu_type1: {
        allow_unsafe_interrupts: bool(
          () => vfio.allowUnsafeInterrupts,
          (value) => {
            vfio.allowUnsafeInterrupts = value;
          },
        ),
        disable_hugepages: bool(() => false),
        dma_entry_limit: {
          kind: 'file',
          read: () => `${vfio.dmaEntryLimit}\n`,
          write: (data) => {
            vfio.dmaEntryLimit = kstrtouint(data);
          },
        },
      },
      vfio_platform: { reset_required: bool(() => this.host.params.reset_required) },
    };
  }

  private dev(parts: string[], path: string): Extra {
    const missing = (): never => {
      throw new KernelError('ENOENT', `${path}: no such file or directory`);
    };
    const vfio = this.host.vfio;
    const groups = (): string[] => [...vfio.groups.keys()];
    // devtmpfs: `kvm` (misc) only when KVM initialised, sorted before `vfio`.
    if (parts.length === 0)
      return { kind: 'dir', list: () => (this.host.kvm.available ? ['kvm', 'vfio'] : ['vfio']) };
    if (parts[0] === 'kvm' && parts.length === 1 && this.host.kvm.available) return { kind: 'chardev' };
    if (parts[0] !== 'vfio') return missing();
    // The group nodes, the container, and `devices/` once a device cdev exists (devtmpfs makes
    // the directory with its first node; no-IOMMU devices get none).
    if (parts.length === 1) return { kind: 'dir', list: () => vfio.devNodes() };
    if (parts[1] === 'devices' && vfio.deviceNodes().length > 0) {
      if (parts.length === 2) return { kind: 'dir', list: () => vfio.deviceNodes() };
      if (parts.length === 3 && vfio.deviceNodes().includes(parts[2] ?? '')) return { kind: 'chardev' };
      return missing();
    }
    if (parts.length === 2 && (parts[1] === 'vfio' || groups().includes(parts[1] ?? '')))
      return { kind: 'chardev' };
    return missing();
  }
}

/** `ls /sys/module` on the oracle's Linux 6.12 (built-in modules with parameters or a version). */
const BUILTIN_MODULES: readonly string[] = [
  'arm_smmu_v3',
  'block',
  'firmware_class',
  'iommufd',
  'kernel',
  'keyboard',
  'kvm',
  'mdev',
  'mtty',
  'nmi_backtrace',
  'pcie_aspm',
  'printk',
  'random',
  'rcupdate',
  'rcutree',
  'secretmem',
  'spurious',
  'srcutree',
  'vfio',
  'vfio_amba',
  'vfio_iommu_type1',
  'vfio_pci',
  'vfio_platform',
  'vfio_platform_amdxgbe',
  'vfio_platform_base',
  'vfio_platform_calxedaxgmac',
  'vt',
  'workqueue',
];

// The reset modules among them: listed only while built in (Host.resetModules).
const RESET_MODULE_DIRS: readonly string[] = ['vfio_platform_amdxgbe', 'vfio_platform_calxedaxgmac'];

// MODULE_VERSION(DRIVER_VERSION) of the VFIO modules (drivers/vfio/**).
const MODULE_VERSIONS: Readonly<Record<string, string>> = {
  vfio: '0.3',
  vfio_amba: '0.10',
  vfio_iommu_type1: '0.2',
  vfio_platform: '0.10',
  vfio_platform_base: '0.10',
  vfio_platform_amdxgbe: '0.1',
  vfio_platform_calxedaxgmac: '0.1',
};

/**
 * proc_doulongvec_minmax()'s parse of one value: leading white space, then an unsigned
 * number in base 0 (`0x` hex, leading-0 octal, decimal) ending at white space or the end;
 * anything else (a sign, letters) is `EINVAL`.
 */
function parseProcUlong(data: string): bigint {
  const match = /^[ \t\n]*(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)(?:[ \t\n].*)?$/s.exec(data);
  if (match === null) throw new KernelError('EINVAL', `'${data}' is not an unsigned long`);
  const text = match[1] ?? '0';
  const value = /^0[0-7]+$/.test(text) ? BigInt(`0o${text.slice(1)}`) : BigInt(text);
  if (value > 0xffff_ffff_ffff_ffffn)
    throw new KernelError('EINVAL', `${text} does not fit an unsigned long`);
  return value;
}

// `/sys/bus/<bus>/devices/<name>/…` or `/sys/devices/platform/<name>/…` (top-level devices).
function deviceOfPath(parts: readonly string[]): { name: string; rest: string[] } | undefined {
  if (parts[0] !== 'sys') return undefined;
  if (
    parts[1] === 'bus' &&
    (parts[2] === 'amba' || parts[2] === 'platform') &&
    parts[3] === 'devices' &&
    parts[4]
  ) {
    return { name: parts[4], rest: parts.slice(5) };
  }
  if (parts[1] === 'devices' && parts[2] === 'platform' && parts[3])
    return { name: parts[3], rest: parts.slice(4) };
  return undefined;
}

// A relative symlink target resolved against the link's directory (sysfs links are relative).
function resolveLink(path: string, target: string): string {
  const parts = split(path).slice(0, -1);
  for (const part of target.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.' && part !== '') parts.push(part);
  }
  return `/${parts.join('/')}`;
}

function split(path: string): string[] {
  return path.split('/').filter((part) => part.length > 0);
}

/** `LC_ALL=C` order: by UTF-16 code unit, which is byte order for the ASCII names sysfs uses. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
