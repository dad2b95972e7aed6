import fc from 'fast-check';
import { describe, it } from 'vitest';
import { VfioContainerHandle } from '../api/container-handle.js';
import { CloseDevice } from '../test-support/group-commands/close-device.js';
import { CloseGroup } from '../test-support/group-commands/close-group.js';
import { GetDevice } from '../test-support/group-commands/get-device.js';
import { HostBind, HostUnbind } from '../test-support/group-commands/host-driver.js';
import type { GroupModel, GroupReal } from '../test-support/group-commands/model.js';
import { OpenGroup } from '../test-support/group-commands/open-group.js';
import { SetContainer } from '../test-support/group-commands/set-container.js';
import { SetIommu } from '../test-support/group-commands/set-iommu.js';
import { Unregister } from '../test-support/group-commands/unregister.js';
import { UnsetContainer } from '../test-support/group-commands/unset-container.js';
import { countingDeviceOps } from '../testing/counting-device.js';
import { testIommuGroup } from '../testing/test-group.js';
import { UserProcess } from '../user/process.js';
import { Vfio } from '../vfio.js';

// Model-based test of group/container/device calls (fast-check commands) on a group with two
// VFIO devices and a third device a host driver may bind: every errno the model predicts, and
// after each step: no device fd without a container, an open device keeps its group claimed,
// a host driver and a VFIO claim never coexist, open_device and close_device pair up per
// device, container_users counts the link plus opened devices, and unbinding vfio from the
// devices (blocked while their fds are open) ends with the group out of its container.

// The steps that move a group towards an open device are listed more than once (fc.commands
// picks uniformly), so deep states such as "UNSET_CONTAINER with a device open" come up often.
const commands = [
  fc.constant(new OpenGroup()),
  fc.constant(new OpenGroup()),
  fc.constant(new CloseGroup()),
  fc.constant(new SetContainer()),
  fc.constant(new SetContainer()),
  fc.constant(new UnsetContainer()),
  fc.constant(new SetIommu()),
  fc.constant(new SetIommu()),
  fc.nat(1).map((i) => new GetDevice(i)),
  fc.nat(1).map((i) => new GetDevice(i)),
  fc.nat(7).map((i) => new CloseDevice(i)),
  fc.nat(7).map((i) => new CloseDevice(i)),
  fc.nat(1).map((i) => new Unregister(i)),
  fc.constant(new HostBind()),
  fc.constant(new HostUnbind()),
];

describe('random group/container/device call sequences (model-based)', () => {
  it('answer as the model says and keep the ownership invariants', () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 40, size: 'max' }), (cmds) => {
        const vfio = new Vfio({ allowUnsafeInterrupts: true });
        const iommuGroup = testIommuGroup({
          id: 5,
          devices: [{ name: 'dev0' }, { name: 'dev1' }, { name: 'dev2' }],
        });
        const ops = [countingDeviceOps(), countingDeviceOps()];
        const vfioDevices = ops.map((o, i) =>
          vfio.registerGroupDevice({ name: `dev${i}`, ops: o, iommuGroup }),
        );
        const vfioGroup = vfio.groups.get('5');
        if (vfioGroup === undefined) throw new RangeError('group 5 was not created');
        const process = new UserProcess({ vfio });
        const real: GroupReal = {
          vfio,
          process,
          iommuGroup,
          vfioGroup,
          ops,
          vfioDevices,
          container: VfioContainerHandle.open(process),
          group: null,
          devices: [],
        };
        const model: GroupModel = {
          groupFd: false,
          groupGone: false,
          containerSet: false,
          iommuSet: false,
          hostBound: false,
          devices: ops.map(() => ({ registered: true, unregistering: false, open: 0 })),
        };
        fc.modelRun(() => ({ model, real }), cmds);
      }),
    );
  });
});
