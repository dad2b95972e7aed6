import fc from 'fast-check';
import { describe, it } from 'vitest';
import { VfioContainerHandle } from '../api/container-handle.js';
import { countingDeviceOps } from '../testing/counting-device.js';
import { testIommuGroup } from '../testing/test-group.js';
import { UserProcess } from '../user/process.js';
import { Vfio } from '../vfio.js';
import { CloseDevice } from './commands/close-device.js';
import { CloseGroup } from './commands/close-group.js';
import { GetDevice } from './commands/get-device.js';
import { HostBind, HostUnbind } from './commands/host-driver.js';
import type { GroupModel, GroupReal } from './commands/model.js';
import { OpenGroup } from './commands/open-group.js';
import { SetContainer } from './commands/set-container.js';
import { SetIommu } from './commands/set-iommu.js';
import { UnsetContainer } from './commands/unset-container.js';

// Model-based test of group/container/device calls (fast-check commands): every errno the
// model predicts, and after each step: no device fd without a container, an open device
// keeps its group claimed, a host driver and a VFIO claim never coexist, open_device and
// close_device pair up, container_users counts the link plus open devices.

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
  fc.constant(new GetDevice()),
  fc.constant(new GetDevice()),
  fc.nat(7).map((i) => new CloseDevice(i)),
  fc.constant(new HostBind()),
  fc.constant(new HostUnbind()),
];

describe('random group/container/device call sequences (model-based)', () => {
  it('answer as the model says and keep the ownership invariants', () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 40, size: 'max' }), (cmds) => {
        const vfio = new Vfio({ allowUnsafeInterrupts: true });
        const iommuGroup = testIommuGroup({ id: 5, devices: [{ name: 'dev0' }, { name: 'dev1' }] });
        const device = countingDeviceOps();
        vfio.registerGroupDevice({ name: 'dev0', ops: device, iommuGroup });
        const process = new UserProcess({ vfio });
        const real: GroupReal = {
          vfio,
          process,
          iommuGroup,
          device,
          container: VfioContainerHandle.open(process),
          group: null,
          devices: [],
        };
        const model: GroupModel = {
          groupFd: false,
          containerSet: false,
          iommuSet: false,
          devicesOpen: 0,
          hostBound: false,
        };
        fc.modelRun(() => ({ model, real }), cmds);
      }),
    );
  });
});
