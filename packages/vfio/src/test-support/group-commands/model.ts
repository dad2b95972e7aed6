import type { IommuGroup } from '@vfiokit/core';
import { expect } from 'vitest';
import type { VfioContainerHandle } from '../../api/container-handle.js';
import type { VfioDeviceHandle } from '../../api/device-handle.js';
import type { VfioGroupHandle } from '../../api/group-handle.js';
import type { VfioDevice } from '../../device/vfio-device.js';
import type { VfioGroup } from '../../group/vfio-group.js';
import type { CountingDeviceOps } from '../../testing/counting-device.js';
import type { UserProcess } from '../../user/process.js';
import type { Vfio } from '../../vfio.js';

/** One VFIO device of the group, as the user and the unbinding thread see it. */
export interface DeviceModel {
  /** Lookups by name find it (registered, unregistration not begun). */
  registered: boolean;
  /** `vfio_unregister_group_dev` is blocked on its open fds. */
  unregistering: boolean;
  /** Open device fds. */
  open: number;
}

/**
 * The simplified model of one VFIO group with two VFIO devices (drivers/vfio/group.c,
 * container.c) and a third device a host driver may bind: what the user holds and what the
 * kernel must then answer. One container fd for the whole run.
 */
export interface GroupModel {
  /** The user holds the group fd. */
  groupFd: boolean;
  /** Every device's unregistration completed: the group is gone for good. */
  groupGone: boolean;
  /** The group is in the container (SET_CONTAINER done, not undone). */
  containerSet: boolean;
  /** The container's backend is set (VFIO_SET_IOMMU succeeded). */
  iommuSet: boolean;
  /** A host (DMA-API) driver is bound to dev2 of the IOMMU group. */
  hostBound: boolean;
  readonly devices: DeviceModel[];
}

/** The system under test. */
export interface GroupReal {
  readonly vfio: Vfio;
  readonly process: UserProcess;
  readonly iommuGroup: IommuGroup;
  /** The VFIO group object, kept after it leaves `vfio.groups`. */
  readonly vfioGroup: VfioGroup;
  readonly ops: readonly CountingDeviceOps[];
  readonly vfioDevices: readonly VfioDevice[];
  readonly container: VfioContainerHandle;
  group: VfioGroupHandle | null;
  readonly devices: Array<{ readonly index: number; readonly handle: VfioDeviceHandle }>;
}

/** The errno a call threw, or `ok`. */
export function outcome(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
  return 'ok';
}

/** Open device fds over all devices. */
export function openFds(m: Readonly<GroupModel>): number {
  return m.devices.reduce((n, d) => n + d.open, 0);
}

/** The group file's release, or the last device's removal: the group leaves its container. */
export function releaseGroup(m: GroupModel): void {
  m.containerSet = false;
  m.iommuSet = false;
}

/** A device's unregistration completed; the last one takes the group (and its container link) away. */
export function deviceGone(m: GroupModel, index: number): void {
  const device = m.devices[index];
  if (device !== undefined) device.unregistering = false;
  if (m.devices.every((d) => !d.registered && !d.unregistering)) {
    m.groupGone = true;
    releaseGroup(m);
  }
}

/** What must hold after every command. */
export function checkInvariants(m: GroupModel, r: GroupReal): void {
  expect(r.vfio.groups.has('5')).toBe(!m.groupGone);
  // An open device keeps its group claimed and in its container.
  expect(r.iommuGroup.owner !== null).toBe(m.containerSet);
  expect(r.vfioGroup.container !== null).toBe(m.containerSet);
  // A host driver and a VFIO claim never coexist.
  expect(m.hostBound && m.containerSet).toBe(false);
  m.devices.forEach((d, i) => {
    const ops = r.ops[i];
    expect(ops === undefined ? -1 : ops.opens - ops.closes).toBe(d.open > 0 ? 1 : 0);
  });
  const opened = m.devices.filter((d) => d.open > 0).length;
  expect(r.vfioGroup.containerUsers).toBe(m.containerSet ? 1 + opened : 0);
  if (r.group !== null) {
    const group = r.group;
    if (m.groupGone) expect(outcome(() => group.status())).toBe('ENODEV');
    else
      expect(group.status()).toEqual({
        viable: m.containerSet || !m.hostBound,
        containerSet: m.containerSet,
      });
  }
}
