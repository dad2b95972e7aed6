import { expect } from 'vitest';
import type { VfioContainerHandle } from '../../api/container-handle.js';
import type { VfioDeviceHandle } from '../../api/device-handle.js';
import type { VfioGroupHandle } from '../../api/group-handle.js';
import type { IommuGroup } from '../../iommu/iommu-group.js';
import type { CountingDeviceOps } from '../../testing/counting-device.js';
import type { UserProcess } from '../../user/process.js';
import type { Vfio } from '../../vfio.js';

/**
 * The simplified model of one VFIO group (drivers/vfio/group.c, container.c): what the user
 * holds and what the kernel must then answer. One container fd for the whole run.
 */
export interface GroupModel {
  /** The user holds the group fd. */
  groupFd: boolean;
  /** The group is in the container (SET_CONTAINER done, not undone). */
  containerSet: boolean;
  /** The container's backend is set (VFIO_SET_IOMMU succeeded). */
  iommuSet: boolean;
  /** Open device fds. */
  devicesOpen: number;
  /** A host (DMA-API) driver is bound to the other device of the IOMMU group. */
  hostBound: boolean;
}

/** The system under test. */
export interface GroupReal {
  readonly vfio: Vfio;
  readonly process: UserProcess;
  readonly iommuGroup: IommuGroup;
  readonly device: CountingDeviceOps;
  readonly container: VfioContainerHandle;
  group: VfioGroupHandle | null;
  readonly devices: VfioDeviceHandle[];
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

/** The group file's release (its last reference dropped): the group leaves its container. */
export function releaseGroup(m: GroupModel): void {
  m.containerSet = false;
  m.iommuSet = false;
}

/** What must hold after every command. */
export function checkInvariants(m: GroupModel, r: GroupReal): void {
  const group = r.vfio.groups.get('5');
  // An open device keeps its group claimed and in its container.
  expect(r.iommuGroup.owner !== null).toBe(m.containerSet);
  expect(group?.container !== null).toBe(m.containerSet);
  // A host driver and a VFIO claim never coexist.
  expect(m.hostBound && m.containerSet).toBe(false);
  expect(r.device.opens - r.device.closes).toBe(m.devicesOpen > 0 ? 1 : 0);
  expect(group?.containerUsers ?? 0).toBe(m.containerSet ? 1 + (m.devicesOpen > 0 ? 1 : 0) : 0);
  if (r.group !== null) {
    expect(r.group.status()).toEqual({
      viable: m.containerSet || !m.hostBound,
      containerSet: m.containerSet,
    });
  }
}
