import type fc from 'fast-check';
import { expect } from 'vitest';
import { checkInvariants, type GroupModel, type GroupReal, outcome } from './model.js';

/**
 * VFIO_GROUP_SET_CONTAINER: `EINVAL` when set already, `ENODEV` once the group is gone,
 * `EPERM` while a host driver uses the group.
 */
export class SetContainer implements fc.Command<GroupModel, GroupReal> {
  check(m: Readonly<GroupModel>): boolean {
    return m.groupFd;
  }

  run(m: GroupModel, r: GroupReal): void {
    const expected = m.containerSet ? 'EINVAL' : m.groupGone ? 'ENODEV' : m.hostBound ? 'EPERM' : 'ok';
    expect(outcome(() => r.group?.setContainer(r.container))).toBe(expected);
    if (expected === 'ok') m.containerSet = true;
    checkInvariants(m, r);
  }

  toString(): string {
    return 'VFIO_GROUP_SET_CONTAINER';
  }
}
