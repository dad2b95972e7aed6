// Every options object of the package refuses unknown keys with EINVAL (house rule).
import { thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { GuestAddressMap } from './address-map/guest-address-map.js';
import { assignDevice } from './assign/assign.js';
import { GuestVm } from './assign/guest-vm.js';
import { applyOverlay } from './guest-dt/overlay.js';
import { validateDeviceAssignment } from './guest-dt/pvmfw-validator.js';
import { qemuPlatformBusTree } from './guest-dt/qemu-sysbus-fdt.js';
import { renderTree } from './guest-dt/render.js';
import { xenPartialDt } from './guest-dt/xen-partial-dt.js';
import { virtHost } from './test-support/assign.js';
import { fixtureTree } from './test-support/fixtures.js';

const bad = { nope: 1 } as never;

describe('options objects refuse unknown keys with EINVAL', () => {
  const tree = fixtureTree('qemu-virt-gicv2');
  it.each([
    ['GuestAddressMap.qemuVirt', () => GuestAddressMap.qemuVirt(bad)],
    ['GuestAddressMap.crosvm', () => GuestAddressMap.crosvm(bad)],
    ['qemuPlatformBusTree', () => qemuPlatformBusTree(tree, GuestAddressMap.qemuVirt(), [], bad)],
    ['applyOverlay', () => applyOverlay(tree, tree, bad)],
    ['xenPartialDt', () => xenPartialDt([], bad)],
    [
      'validateDeviceAssignment',
      () =>
        validateDeviceAssignment(
          tree,
          tree,
          { getPhysMmioToken: () => 0n, getPhysIommuToken: () => [0n, 0] },
          bad,
        ),
    ],
    ['renderTree', () => renderTree(tree, bad)],
    ['GuestVm.create', () => GuestVm.create(virtHost(), bad)],
  ])('%s', (_, f) => {
    expect(thrownErrno(f)).toBe('EINVAL');
  });

  it('assignDevice', async () => {
    const host = virtHost();
    await expect(assignDevice(host, GuestVm.create(host), '9010000.pl031', bad)).rejects.toMatchObject({
      code: 'EINVAL',
    });
  });
});
