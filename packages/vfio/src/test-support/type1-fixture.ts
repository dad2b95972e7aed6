import { type PhysicalMemory, physAddr } from '@vfiokit/core';
import { VfioContainerHandle } from '../api/container-handle.js';
import { VfioGroupHandle } from '../api/group-handle.js';
import type { VfioDevice } from '../device/vfio-device.js';
import { type CountingDeviceOps, countingDeviceOps } from '../testing/counting-device.js';
import { testIommuGroup } from '../testing/test-group.js';
import { VFIO_TYPE1v2_IOMMU } from '../uapi/ioctls.js';
import { UserProcess } from '../user/process.js';
import { Vfio, type VfioOptions } from '../vfio.js';

/** Guest RAM a fixture maps into the VMM: 1 GiB at this user address, backed at GUEST_RAM_PHYS. */
export const GUEST_RAM_VADDR = 0x7f00_0000_0000;
export const GUEST_RAM_PHYS = 0x8_8000_0000;
export const GUEST_RAM_SIZE = 0x4000_0000;

/** A container with one SMMU-like group (id 5, device `dev0`) and a VMM process; used by tests. */
export interface Type1Fixture {
  readonly vfio: Vfio;
  readonly process: UserProcess;
  readonly container: VfioContainerHandle;
  readonly group: VfioGroupHandle;
  readonly iommuGroup: ReturnType<typeof testIommuGroup>;
  readonly device: VfioDevice;
  readonly ops: CountingDeviceOps;
}

/** Builds the fixture; `setIommu` false leaves the container without a backend. */
export function type1Fixture(
  options: VfioOptions & {
    readonly type?: number;
    readonly setIommu?: boolean;
    readonly rlimitMemlock?: number;
    /** Host RAM behind the VMM's mappings (for copies to user memory). */
    readonly memory?: PhysicalMemory;
  } = {},
): Type1Fixture {
  const { type, setIommu, rlimitMemlock, memory, ...vfioOptions } = options;
  const vfio = new Vfio({ allowUnsafeInterrupts: true, ...vfioOptions });
  const iommuGroup = testIommuGroup({ id: 5, devices: [{ name: 'dev0', streamIds: [3] }] });
  const ops = countingDeviceOps();
  const device = vfio.registerGroupDevice({ name: 'dev0', ops, iommuGroup });
  const process = new UserProcess({
    vfio,
    rlimitMemlock: rlimitMemlock ?? 2 ** 40,
    ...(memory === undefined ? {} : { memory }),
  });
  process.addressSpace.mmap(GUEST_RAM_VADDR, physAddr(GUEST_RAM_PHYS), GUEST_RAM_SIZE);
  const container = VfioContainerHandle.open(process);
  const group = VfioGroupHandle.open(process, 5);
  group.setContainer(container);
  if (setIommu ?? true) container.setIommu(type ?? VFIO_TYPE1v2_IOMMU);
  return { vfio, process, container, group, iommuGroup, device, ops };
}
