import type fc from 'fast-check';
import { expect } from 'vitest';
import { checkInvariants, deviceGone, type GroupModel, type GroupReal } from './model.js';

/**
 * vfio-platform unbinds dev<i> (`vfio_unregister_group_dev`): lookups fail at once; the
 * device leaves when its last fd closes (now, if none is open); the last device leaving takes
 * the group out of its container (`vfio_device_remove_group`).
 */
export class Unregister implements fc.Command<GroupModel, GroupReal> {
  readonly index: number;

  constructor(index: number) {
    this.index = index;
  }

  check(m: Readonly<GroupModel>): boolean {
    return m.devices[this.index]?.registered === true;
  }

  run(m: GroupModel, r: GroupReal): void {
    const device = m.devices[this.index];
    const real = r.vfioDevices[this.index];
    if (device === undefined || real === undefined) return;
    const waiting = r.vfio.unregisterDevice(real);
    expect(waiting === undefined).toBe(device.open === 0);
    device.registered = false;
    device.unregistering = true;
    if (device.open === 0) deviceGone(m, this.index);
    checkInvariants(m, r);
  }

  toString(): string {
    return `unbind vfio from dev${this.index}`;
  }
}
