import type fc from 'fast-check';
import { expect } from 'vitest';
import { VFIO_TYPE1v2_IOMMU } from '../../uapi/ioctls.js';
import { checkInvariants, type GroupModel, type GroupReal, outcome } from './model.js';

/** VFIO_SET_IOMMU(TYPE1v2): `EINVAL` without a group in the container or when set already. */
export class SetIommu implements fc.Command<GroupModel, GroupReal> {
  check(): boolean {
    return true;
  }

  run(m: GroupModel, r: GroupReal): void {
    const expected = !m.containerSet || m.iommuSet ? 'EINVAL' : 'ok';
    expect(outcome(() => r.container.setIommu(VFIO_TYPE1v2_IOMMU))).toBe(expected);
    if (expected === 'ok') m.iommuSet = true;
    checkInvariants(m, r);
  }

  toString(): string {
    return 'VFIO_SET_IOMMU(TYPE1v2)';
  }
}
