import { KernelError } from '@vfiokit/core';
import type { MdevBus, MdevParentSpec } from '@vfiokit/emulated-iommu';
import type { Vfio, VfioDevice } from '@vfiokit/vfio';
import type { Extra } from './extra.js';

/** What the mdev part of the file-system view needs from the host. */
export interface MdevFsHost {
  readonly mdev: MdevBus;
  readonly vfio: Vfio;
  /** The VFIO device registered for an mdev, by UUID. */
  vfioDeviceOf(uuid: string): VfioDevice | undefined;
}

// Write-only sysfs attributes (bind, unbind, uevent, drivers_probe) have no show: kernfs
// refuses the open for reading with EACCES (kernfs_fop_open). Their stores are not modelled.
const writeOnly = (path: string, store?: (data: string) => unknown): Extra => ({
  kind: 'file',
  read: () => {
    throw new KernelError('EACCES', `${path}: write-only attribute`);
  },
  write:
    store ??
    (() => {
      throw new KernelError('EINVAL', `${path}: this store is not modelled`);
    }),
});

const file = (text: () => string): Extra => ({ kind: 'file', read: text });
const dir = (list: () => string[]): Extra => ({ kind: 'dir', list });
const link = (target: string): Extra => ({ kind: 'link', target });

/**
 * The mdev bus and its parents as sysfs shows them (drivers/vfio/mdev/mdev_sysfs.c,
 * mdev_driver.c, drivers/base/core.c), as on the oracle kernel with the mtty sample:
 * `/sys/class/mdev_bus/<parent>` (a link to the parent device), the parent's
 * `mdev_supported_types/<type>/{available_instances,create,device_api,devices,name}`,
 * `/sys/bus/mdev/{devices,drivers}` and each device's `driver`, `iommu_group`, `mdev_type`,
 * `remove`, `subsystem`, `uevent`, `vendor` (mtty's dev_groups) and `vfio-dev`. Returns
 * undefined for paths outside it.
 */
export class MdevFs {
  private readonly host: MdevFsHost;

  constructor(host: MdevFsHost) {
    this.host = host;
  }

  /** The node at `parts` (a split absolute path), or undefined when it is not an mdev path. */
  extra(parts: readonly string[], path: string): Extra | undefined {
    const missing = (): never => {
      throw new KernelError('ENOENT', `${path}: no such file or directory`);
    };
    const mdev = this.host.mdev;
    if (parts[0] !== 'sys') return undefined;
    // /sys/class/mdev_bus/<parent> → ../../devices/<parent path>
    if (parts[1] === 'class' && parts[2] === 'mdev_bus') {
      if (parts.length === 3) return dir(() => mdev.parentNames());
      const parent = mdev.parent(parts[3] ?? '') ?? missing();
      if (parts.length === 4) return link(`../../devices/${parent.devicePath}`);
      return this.parentNode(parent, parts.slice(4), path);
    }
    // /sys/class/<class>/<parent>: the parent's own class (mtty_dev.vd_class).
    if (parts[1] === 'class' && parts.length >= 3) {
      const parents = mdev.parentNames().flatMap((n) => mdev.parent(n) ?? []);
      const inClass = parents.filter((p) => p.driverString === parts[2]);
      if (inClass.length === 0) return undefined;
      if (parts.length === 3) return dir(() => inClass.map((p) => p.name));
      const parent = inClass.find((p) => p.name === parts[3]) ?? missing();
      if (parts.length === 4) return link(`../../devices/${parent.devicePath}`);
      return this.parentNode(parent, parts.slice(4), path);
    }
    if (parts[1] === 'devices') {
      for (const name of mdev.parentNames()) {
        const parent = mdev.parent(name);
        if (parent === undefined) continue;
        const prefix = parent.devicePath.split('/');
        const rest = parts.slice(2);
        if (prefix.every((p, i) => rest[i] === p))
          return this.parentNode(parent, rest.slice(prefix.length), path);
        // The directories above the parent (/sys/devices/virtual, …/virtual/mtty).
        if (rest.length > 0 && rest.length < prefix.length && rest.every((p, i) => prefix[i] === p))
          return dir(() => [prefix[rest.length] ?? '']);
      }
      return undefined;
    }
    if (parts[1] === 'bus' && parts[2] === 'mdev') return this.busNode(parts.slice(3), path);
    if (parts[1] === 'kernel' && parts[2] === 'iommu_groups' && parts.length >= 4) {
      const id = Number(parts[3]);
      const group = this.mdevGroup(id);
      if (group === undefined) return undefined;
      const rest = parts.slice(4);
      if (rest.length === 0) return dir(() => ['devices', 'name', 'reserved_regions', 'type']);
      // drivers/iommu/iommu.c: the name vfio set, `unknown` for a group without a default
      // domain, no reserved regions.
      if (rest.length === 1 && rest[0] === 'name') return file(() => `${group.name}\n`);
      if (rest.length === 1 && rest[0] === 'type') return file(() => 'unknown\n');
      if (rest.length === 1 && rest[0] === 'reserved_regions') return file(() => '');
      if (rest[0] === 'devices') {
        if (rest.length === 1) return dir(() => [...group.devices]);
        const uuid = rest[1] ?? '';
        const dev = group.devices.includes(uuid) ? mdev.device(uuid) : undefined;
        if (dev === undefined) return missing();
        const parent = mdev.parent(dev.parent) ?? missing();
        if (rest.length === 2) return link(`../../../../devices/${parent.devicePath}/${uuid}`);
        return this.deviceNode(uuid, rest.slice(2), path);
      }
      return missing();
    }
    return undefined;
  }

  /** Names the mdev part adds to directories listed elsewhere. */
  extraNames(parts: readonly string[]): string[] {
    if (parts.length === 2 && parts[0] === 'sys' && parts[1] === 'bus') return ['mdev'];
    if (parts.length === 2 && parts[0] === 'sys' && parts[1] === 'devices')
      return this.host.mdev.parentNames().length > 0 ? ['virtual'] : [];
    if (parts.length === 3 && parts[0] === 'sys' && parts[1] === 'kernel' && parts[2] === 'iommu_groups')
      return this.mdevGroupIds().map(String);
    return [];
  }

  // The IOMMU groups vfio allocated for mdevs (vfio_register_emulated_iommu_dev).
  private mdevGroupIds(): number[] {
    const ids: number[] = [];
    for (const group of this.host.vfio.fakeIommuGroups.values())
      if (group.devices.some((d) => this.host.mdev.device(d) !== undefined)) ids.push(group.id);
    return ids;
  }

  private mdevGroup(id: number): { name: string; devices: readonly string[] } | undefined {
    return this.mdevGroupIds().includes(id) ? this.host.vfio.fakeIommuGroups.get(id) : undefined;
  }

  private groupOf(uuid: string): number | undefined {
    for (const group of this.host.vfio.fakeIommuGroups.values())
      if (group.devices.includes(uuid)) return group.id;
    return undefined;
  }

  // /sys/devices/<parent path>/…: its devices, mdev_supported_types, subsystem, uevent.
  private parentNode(parent: MdevParentSpec, rest: readonly string[], path: string): Extra {
    const missing = (): never => {
      throw new KernelError('ENOENT', `${path}: no such file or directory`);
    };
    const mdev = this.host.mdev;
    if (rest.length === 0)
      return dir(() => [
        ...mdev.list(parent.name).map((d) => d.uuid),
        'mdev_supported_types',
        'subsystem',
        'uevent',
      ]);
    const depth = parent.devicePath.split('/').length + 1;
    if (rest.length === 1 && rest[0] === 'subsystem')
      return link(`${'../'.repeat(depth)}class/${parent.driverString}`);
    // dev_uevent: a class device without devt, type or driver adds nothing.
    if (rest.length === 1 && rest[0] === 'uevent') return file(() => '');
    if (rest[0] === 'mdev_supported_types') {
      if (rest.length === 1) return dir(() => mdev.typeNames(parent.name));
      const type = rest[1] ?? '';
      const spec = mdev.type(parent.name, type) ?? missing();
      if (rest.length === 2)
        return dir(() => [
          'available_instances',
          'create',
          'device_api',
          'devices',
          ...(spec.prettyName === undefined ? [] : ['name']),
        ]);
      const attr = rest[2];
      if (rest.length === 3) {
        if (attr === 'name' && spec.prettyName !== undefined) return file(() => `${spec.prettyName}\n`);
        if (attr === 'available_instances')
          return file(() => `${mdev.availableInstances(parent.name, type)}\n`);
        if (attr === 'device_api') return file(() => `${parent.driver.deviceApi}\n`);
        if (attr === 'create') return writeOnly(path, (data) => mdev.create(parent.name, type, data));
        if (attr === 'devices') return dir(() => mdev.list(parent.name, type).map((d) => d.uuid));
        return missing();
      }
      if (
        attr === 'devices' &&
        rest.length === 4 &&
        mdev.list(parent.name, type).some((d) => d.uuid === rest[3])
      )
        return link(`../../../${rest[3]}`);
      return missing();
    }
    const uuid = rest[0] ?? '';
    if (mdev.list(parent.name).some((d) => d.uuid === uuid))
      return this.deviceNode(uuid, rest.slice(1), path);
    return missing();
  }

  // /sys/bus/mdev/…
  private busNode(rest: readonly string[], path: string): Extra {
    const missing = (): never => {
      throw new KernelError('ENOENT', `${path}: no such file or directory`);
    };
    const mdev = this.host.mdev;
    const drivers = (): string[] => [
      ...new Set(mdev.parentNames().flatMap((n) => mdev.parent(n)?.driver.name ?? [])),
    ];
    if (rest.length === 0)
      return dir(() => ['devices', 'drivers', 'drivers_autoprobe', 'drivers_probe', 'uevent']);
    const [first, second] = rest;
    if (rest.length === 1 && first === 'drivers_autoprobe') return file(() => '1\n');
    if (rest.length === 1 && (first === 'drivers_probe' || first === 'uevent')) return writeOnly(path);
    if (first === 'devices') {
      if (rest.length === 1) return dir(() => mdev.list().map((d) => d.uuid));
      const dev = mdev.device(second ?? '') ?? missing();
      const parent = mdev.parent(dev.parent) ?? missing();
      if (rest.length === 2) return link(`../../../devices/${parent.devicePath}/${dev.uuid}`);
      return this.deviceNode(dev.uuid, rest.slice(2), path);
    }
    if (first === 'drivers') {
      if (rest.length === 1) return dir(drivers);
      if (!drivers().includes(second ?? '')) return missing();
      const bound = (): string[] =>
        mdev
          .list()
          .filter((d) => mdev.parent(d.parent)?.driver.name === second)
          .map((d) => d.uuid);
      if (rest.length === 2) return dir(() => ['bind', 'uevent', 'unbind', ...bound()]);
      const name = rest[2] ?? '';
      if (rest.length === 3 && ['bind', 'uevent', 'unbind'].includes(name)) return writeOnly(path);
      const dev = bound().includes(name) ? mdev.device(name) : undefined;
      if (dev === undefined) return missing();
      const parent = mdev.parent(dev.parent) ?? missing();
      if (rest.length === 3) return link(`../../../../devices/${parent.devicePath}/${dev.uuid}`);
      return this.deviceNode(dev.uuid, rest.slice(3), path);
    }
    return missing();
  }

  // /sys/devices/<parent path>/<uuid>/…
  private deviceNode(uuid: string, rest: readonly string[], path: string): Extra {
    const missing = (): never => {
      throw new KernelError('ENOENT', `${path}: no such file or directory`);
    };
    const mdev = this.host.mdev;
    const dev = mdev.device(uuid) ?? missing();
    const parent = mdev.parent(dev.parent) ?? missing();
    const up = '../'.repeat(parent.devicePath.split('/').length + 2);
    const group = this.groupOf(uuid);
    const vfio = this.host.vfioDeviceOf(uuid);
    const index = vfio === undefined ? undefined : this.host.vfio.deviceIndex(vfio);
    const groups = parent.driver.deviceGroups ?? [];
    if (rest.length === 0)
      return dir(() => [
        'driver',
        ...(group === undefined ? [] : ['iommu_group']),
        'mdev_type',
        'remove',
        'subsystem',
        'uevent',
        ...groups,
        ...(index === undefined ? [] : ['vfio-dev']),
      ]);
    const [first] = rest;
    if (rest.length === 1) {
      if (first === 'driver') return link(`${up}bus/mdev/drivers/${parent.driver.name}`);
      if (first === 'iommu_group' && group !== undefined) return link(`${up}kernel/iommu_groups/${group}`);
      if (first === 'mdev_type') return link(`../mdev_supported_types/${dev.type}`);
      if (first === 'subsystem') return link(`${up}bus/mdev`);
      // dev_uevent: DRIVER= for a bound device; the mdev bus adds no variables of its own.
      if (first === 'uevent') return file(() => `DRIVER=${parent.driver.name}\n`);
      // mdev_sysfs.c remove_store: kstrtoul, then remove when non-zero.
      if (first === 'remove') return writeOnly(path, (data) => mdev.remove(uuid, data));
    }
    // mtty's dev_groups: `vendor/sample_mdev_dev` (sample_mdev_dev_show).
    if (first === 'vendor' && groups.includes('vendor')) {
      if (rest.length === 1) return dir(() => ['sample_mdev_dev']);
      if (rest.length === 2 && rest[1] === 'sample_mdev_dev') return file(() => `This is MDEV ${uuid}\n`);
    }
    if (first === 'vfio-dev' && index !== undefined) {
      if (rest.length === 1) return dir(() => [`vfio${index}`]);
      if (rest.length === 2 && rest[1] === `vfio${index}`) return dir(() => []);
    }
    return missing();
  }
}
