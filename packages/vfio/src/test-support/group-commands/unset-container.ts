import type fc from 'fast-check';
import { expect } from 'vitest';
import { checkInvariants, type GroupModel, type GroupReal, openFds, outcome, releaseGroup } from './model.js';

/** VFIO_GROUP_UNSET_CONTAINER: `EINVAL` without a container, `EBUSY` with open device fds. */
export class UnsetContainer implements fc.Command<GroupModel, GroupReal> {
  check(m: Readonly<GroupModel>): boolean {
    return m.groupFd;
  }

  run(m: GroupModel, r: GroupReal): void {
    const expected = !m.containerSet ? 'EINVAL' : openFds(m) > 0 ? 'EBUSY' : 'ok';
    expect(outcome(() => r.group?.unsetContainer())).toBe(expected);
    if (expected === 'ok') releaseGroup(m);
    checkInvariants(m, r);
  }

  toString(): string {
    return 'VFIO_GROUP_UNSET_CONTAINER';
  }
}
