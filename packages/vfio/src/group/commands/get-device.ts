import type fc from 'fast-check';
import { expect } from 'vitest';
import { checkInvariants, type GroupModel, type GroupReal, outcome } from './model.js';

/** VFIO_GROUP_GET_DEVICE_FD: `EINVAL` without a container or before VFIO_SET_IOMMU. */
export class GetDevice implements fc.Command<GroupModel, GroupReal> {
  check(m: Readonly<GroupModel>): boolean {
    return m.groupFd;
  }

  run(m: GroupModel, r: GroupReal): void {
    const expected = m.containerSet && m.iommuSet ? 'ok' : 'EINVAL';
    const got = outcome(() => {
      const device = r.group?.getDevice('dev0');
      if (device !== undefined) r.devices.push(device);
    });
    expect(got).toBe(expected);
    if (expected === 'ok') m.devicesOpen++;
    checkInvariants(m, r);
  }

  toString(): string {
    return 'VFIO_GROUP_GET_DEVICE_FD(dev0)';
  }
}
