import type fc from 'fast-check';
import { expect } from 'vitest';
import { VfioGroupHandle } from '../../api/group-handle.js';
import { checkInvariants, type GroupModel, type GroupReal, openFds, outcome } from './model.js';

/** `open("/dev/vfio/5")`: `ENOENT` once the group is gone; single opener (the file lives while device fds hold it). */
export class OpenGroup implements fc.Command<GroupModel, GroupReal> {
  check(m: Readonly<GroupModel>): boolean {
    return !m.groupFd;
  }

  run(m: GroupModel, r: GroupReal): void {
    const expected = m.groupGone ? 'ENOENT' : openFds(m) > 0 ? 'EBUSY' : 'ok';
    expect(outcome(() => (r.group = VfioGroupHandle.open(r.process, 5)))).toBe(expected);
    m.groupFd = expected === 'ok';
    checkInvariants(m, r);
  }

  toString(): string {
    return 'open /dev/vfio/5';
  }
}
