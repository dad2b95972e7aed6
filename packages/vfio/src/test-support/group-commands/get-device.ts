import type fc from 'fast-check';
import { expect } from 'vitest';
import { checkInvariants, type GroupModel, type GroupReal, outcome } from './model.js';

/**
 * VFIO_GROUP_GET_DEVICE_FD(dev<i>): `ENODEV` once its unregistration began, `EINVAL` without a
 * container, or on the first open before VFIO_SET_IOMMU.
 */
export class GetDevice implements fc.Command<GroupModel, GroupReal> {
  readonly index: number;

  constructor(index: number) {
    this.index = index;
  }

  check(m: Readonly<GroupModel>): boolean {
    return m.groupFd;
  }

  run(m: GroupModel, r: GroupReal): void {
    const device = m.devices[this.index];
    if (device === undefined) return;
    const expected = !device.registered
      ? 'ENODEV'
      : !m.containerSet || (device.open === 0 && !m.iommuSet)
        ? 'EINVAL'
        : 'ok';
    const got = outcome(() => {
      const handle = r.group?.getDevice(`dev${this.index}`);
      if (handle !== undefined) r.devices.push({ index: this.index, handle });
    });
    expect(got).toBe(expected);
    if (expected === 'ok') device.open++;
    checkInvariants(m, r);
  }

  toString(): string {
    return `VFIO_GROUP_GET_DEVICE_FD(dev${this.index})`;
  }
}
