import { IommuGroup } from '@vfiokit/core';
import { FlatIommuDomain, thrownErrno } from '@vfiokit/core/testing';
import { describe, expect, it } from 'vitest';
import { VfioContainerHandle } from '../api/container-handle.js';
import { VfioGroupHandle } from '../api/group-handle.js';
import { KERNEL_V6_18, type KernelProfile } from '../profile.js';
import { countingDeviceOps } from '../testing/counting-device.js';
import { testIommuGroup } from '../testing/test-group.js';
import { VFIO_TYPE1_NESTING_IOMMU } from '../uapi/generated-constants.js';
import { VFIO_CHECK_EXTENSION } from '../uapi/ioctls.js';
import { UserProcess } from '../user/process.js';
import { Vfio } from '../vfio.js';

// VFIO_TYPE1_NESTING_IOMMU exists in type1 up to Linux 6.12 (vfio_iommu_type1_open: nesting
// implies v2; attach calls iommu_enable_nesting) and is gone from v6.13.
const V6_12: KernelProfile = { version: [6, 12] };

function container(profile: KernelProfile, emulated: boolean) {
  const vfio = new Vfio({ profile, allowUnsafeInterrupts: true });
  if (emulated) vfio.registerEmulatedIommuDevice({ name: 'mdev0', ops: countingDeviceOps() });
  else
    vfio.registerGroupDevice({
      name: 'd0',
      ops: countingDeviceOps(),
      iommuGroup: testIommuGroup({ id: 4, devices: [{ name: 'd0' }] }),
    });
  const process = new UserProcess({ vfio });
  const c = VfioContainerHandle.open(process);
  const before = process.ioctl(c.fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_NESTING_IOMMU);
  VfioGroupHandle.open(process, [...vfio.groups.keys()][0] ?? '').setContainer(c);
  return { c, before };
}

describe('VFIO_TYPE1_NESTING_IOMMU by kernel profile', () => {
  it('Linux 6.12: CHECK_EXTENSION is 1; SET_IOMMU opens v2 and needs a domain that can nest (EINVAL otherwise)', () => {
    const emulated = container(V6_12, true);
    expect(emulated.before).toBe(1);
    emulated.c.setIommu(VFIO_TYPE1_NESTING_IOMMU);
    emulated.c.mapDma({ vaddr: 0x10_0000, iova: 0x4000_0000, size: 0x1000 });
    const real = container(V6_12, false);
    expect(thrownErrno(() => real.c.setIommu(VFIO_TYPE1_NESTING_IOMMU))).toBe('EINVAL');
  });

  it('v6.13 and later (the default v6.18): CHECK_EXTENSION is 0 and SET_IOMMU is ENODEV', () => {
    const real = container(KERNEL_V6_18, false);
    expect(real.before).toBe(0);
    expect(thrownErrno(() => real.c.setIommu(VFIO_TYPE1_NESTING_IOMMU))).toBe('ENODEV');
  });
});

describe('iommu_enable_nesting before v6.13 (vfio_iommu_type1_attach_group)', () => {
  it('a domain that can nest is asked to, and the group attaches', () => {
    let nestingEnabled = 0;
    const iommuGroup = new IommuGroup({
      id: 4,
      allocateDomain: () =>
        Object.assign(new FlatIommuDomain({ pgsizeBitmap: 0x1000, inputBits: 48, reservedRegions: [] }), {
          enableNesting: () => {
            nestingEnabled++;
          },
        }),
      cacheCoherent: () => true,
    });
    iommuGroup.addDevice({ device: 'd0', streamIds: [0] });
    const vfio = new Vfio({ profile: V6_12, allowUnsafeInterrupts: true });
    vfio.registerGroupDevice({ name: 'd0', ops: countingDeviceOps(), iommuGroup });
    const process = new UserProcess({ vfio });
    const c = VfioContainerHandle.open(process);
    VfioGroupHandle.open(process, 4).setContainer(c);
    c.setIommu(VFIO_TYPE1_NESTING_IOMMU);
    expect(nestingEnabled).toBe(1);
    expect(iommuGroup.domain).not.toBeNull();
  });
});
