import type fc from 'fast-check';
import { expect } from 'vitest';
import { checkInvariants, type GroupModel, type GroupReal, outcome } from './model.js';

/** A host driver probes dev2 (`iommu_device_use_default_domain`): `EBUSY` while VFIO owns the group. */
export class HostBind implements fc.Command<GroupModel, GroupReal> {
  check(m: Readonly<GroupModel>): boolean {
    return !m.hostBound;
  }

  run(m: GroupModel, r: GroupReal): void {
    const expected = m.containerSet ? 'EBUSY' : 'ok';
    expect(outcome(() => r.iommuGroup.deviceUseDefaultDomain('dev2'))).toBe(expected);
    if (expected === 'ok') m.hostBound = true;
    checkInvariants(m, r);
  }

  toString(): string {
    return 'host driver binds dev2';
  }
}

/** The host driver unbinds dev2. */
export class HostUnbind implements fc.Command<GroupModel, GroupReal> {
  check(m: Readonly<GroupModel>): boolean {
    return m.hostBound;
  }

  run(m: GroupModel, r: GroupReal): void {
    r.iommuGroup.deviceUnuseDefaultDomain('dev2');
    m.hostBound = false;
    checkInvariants(m, r);
  }

  toString(): string {
    return 'host driver unbinds dev2';
  }
}
