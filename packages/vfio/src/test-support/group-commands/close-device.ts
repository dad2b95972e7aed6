import type fc from 'fast-check';
import {
  checkInvariants,
  deviceGone,
  type GroupModel,
  type GroupReal,
  openFds,
  releaseGroup,
} from './model.js';

/**
 * `close(device fd)`: the device's last close runs close_device; a closed group fd is then
 * released; a device blocked in unregistration completes it.
 */
export class CloseDevice implements fc.Command<GroupModel, GroupReal> {
  readonly pick: number;

  constructor(pick: number) {
    this.pick = pick;
  }

  check(m: Readonly<GroupModel>): boolean {
    return openFds(m) > 0;
  }

  run(m: GroupModel, r: GroupReal): void {
    const [entry] = r.devices.splice(this.pick % r.devices.length, 1);
    if (entry === undefined) return;
    entry.handle.close();
    const device = m.devices[entry.index];
    if (device === undefined) return;
    device.open--;
    if (openFds(m) === 0 && !m.groupFd) releaseGroup(m);
    if (device.open === 0 && device.unregistering) deviceGone(m, entry.index);
    checkInvariants(m, r);
  }

  toString(): string {
    return `close device fd #${this.pick}`;
  }
}
