import { KernelError } from '@vfiokit/core';
import type { Vfio, VfioDevice } from '@vfiokit/vfio';
import type { MdevDevice, MdevDriver, MdevParentSpec, MdevTypeSpec } from '../mdev/types.js';
import { MttyDeviceOps } from './mtty-ops.js';

/** `MAX_MTTYS` (samples/vfio-mdev/mtty.c): ports shared by every mtty device. */
export const MAX_MTTYS = 24;

/** mtty's types (`mtty_types`): one and two ports. */
export const MTTY_TYPES: readonly (MdevTypeSpec & { readonly nrPorts: 1 | 2 })[] = [
  { sysfsName: '1', prettyName: 'Single port serial', nrPorts: 1 },
  { sysfsName: '2', prettyName: 'Dual port serial', nrPorts: 2 },
];

/** Options of {@link mttyParent}. */
export interface MttyOptions {
  /** The VFIO core the devices register with (`vfio_register_emulated_iommu_dev`). */
  readonly vfio: Vfio;
}

const MTTY_OPTION_KEYS = new Set(['vfio']);

/** The mtty parent with its driver state: the mdev parent spec and the live VFIO devices. */
export interface MttyParent {
  readonly spec: MdevParentSpec;
  /** Ports not taken by a device (`mdev_avail_ports`). */
  availablePorts(): number;
  /** The VFIO device of a created mdev, by UUID. */
  vfioDevice(uuid: string): VfioDevice | undefined;
}

/**
 * The `mtty` sample (samples/vfio-mdev/mtty.c) as the oracle kernel builds it in: a class
 * device `mtty` (`/sys/devices/virtual/mtty/mtty`) registered as an mdev parent with types
 * `mtty-1` and `mtty-2`, whose probe takes its ports from 24 (`ENOSPC` when too few are left,
 * mtty_init_dev) and registers the device with `vfio_register_emulated_iommu_dev`: an
 * emulated group of its own, named `vfio-noiommu`, `/dev/vfio/<id>`, no taint.
 */
export function mttyParent(options: MttyOptions): MttyParent {
  for (const key of Object.keys(options))
    if (!MTTY_OPTION_KEYS.has(key)) throw new KernelError('EINVAL', `mttyParent: unknown option ${key}`);
  const { vfio } = options;
  let availPorts = MAX_MTTYS;
  const devices = new Map<string, { device: VfioDevice; nrPorts: number }>();
  const nrPortsOf = (type: MdevTypeSpec): 1 | 2 =>
    MTTY_TYPES.find((t) => t.sysfsName === type.sysfsName)?.nrPorts ?? 1;
  const driver: MdevDriver = {
    name: 'mtty',
    deviceApi: 'vfio-pci',
    deviceGroups: ['vendor'],
    // mtty_probe → vfio_alloc_device (mtty_init_dev takes the ports) → vfio_register_emulated_iommu_dev.
    probe(mdev: MdevDevice): void {
      const nrPorts = nrPortsOf(mdev.typeSpec);
      if (availPorts < nrPorts)
        throw new KernelError('ENOSPC', `mtty: ${nrPorts} ports wanted, ${availPorts} left`);
      availPorts -= nrPorts;
      try {
        const device = vfio.registerEmulatedIommuDevice({
          name: mdev.uuid,
          ops: new MttyDeviceOps(nrPorts),
          driver: 'mtty',
        });
        devices.set(mdev.uuid, { device, nrPorts });
      } catch (error) {
        availPorts += nrPorts;
        throw error;
      }
    },
    // mtty_remove → vfio_unregister_group_dev (waits for open device fds), then the ports are
    // given back in mtty_release_dev.
    remove(mdev: MdevDevice): void | Promise<void> {
      const entry = devices.get(mdev.uuid);
      if (entry === undefined) throw new KernelError('ENODEV', `mtty: ${mdev.uuid} not probed`);
      const release = (): void => {
        devices.delete(mdev.uuid);
        availPorts += entry.nrPorts;
      };
      const done = vfio.unregisterDevice(entry.device);
      if (done === undefined) {
        release();
        return undefined;
      }
      return done.then(release);
    },
    // mtty_get_available: free ports / ports per device.
    getAvailable(type: MdevTypeSpec): number {
      return Math.floor(availPorts / nrPortsOf(type));
    },
  };
  return {
    spec: { name: 'mtty', driverString: 'mtty', devicePath: 'virtual/mtty/mtty', driver, types: MTTY_TYPES },
    availablePorts: () => availPorts,
    vfioDevice: (uuid) => devices.get(uuid)?.device,
  };
}
