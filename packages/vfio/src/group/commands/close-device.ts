import type fc from 'fast-check';
import { checkInvariants, type GroupModel, type GroupReal, releaseGroup } from './model.js';

/** `close(device fd)`: the last close runs close_device; a closed group fd is then released. */
export class CloseDevice implements fc.Command<GroupModel, GroupReal> {
  readonly index: number;

  constructor(index: number) {
    this.index = index;
  }

  check(m: Readonly<GroupModel>): boolean {
    return m.devicesOpen > 0;
  }

  run(m: GroupModel, r: GroupReal): void {
    const [device] = r.devices.splice(this.index % r.devices.length, 1);
    device?.close();
    m.devicesOpen--;
    if (m.devicesOpen === 0 && !m.groupFd) releaseGroup(m);
    checkInvariants(m, r);
  }

  toString(): string {
    return `close device fd #${this.index}`;
  }
}
