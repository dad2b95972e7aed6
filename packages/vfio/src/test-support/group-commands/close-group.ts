import type fc from 'fast-check';
import { checkInvariants, type GroupModel, type GroupReal, openFds, releaseGroup } from './model.js';

/** `close(group fd)`: released at once unless device fds hold the file. */
export class CloseGroup implements fc.Command<GroupModel, GroupReal> {
  check(m: Readonly<GroupModel>): boolean {
    return m.groupFd;
  }

  run(m: GroupModel, r: GroupReal): void {
    r.group?.close();
    r.group = null;
    m.groupFd = false;
    if (openFds(m) === 0) releaseGroup(m);
    checkInvariants(m, r);
  }

  toString(): string {
    return 'close group fd';
  }
}
