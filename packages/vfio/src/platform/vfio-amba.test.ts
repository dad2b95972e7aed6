import { physAddr } from '@vfiokit/core';
import { DriverCore } from '@vfiokit/platform-bus';
import { primecellIdRegisters } from '@vfiokit/platform-bus/testing';
import { ResetRegistry } from '@vfiokit/reset-modules';
import { describe, expect, it } from 'vitest';
import { VfioContainerHandle } from '../api/container-handle.js';
import { VfioGroupHandle } from '../api/group-handle.js';
import { SimpleIrqChip } from '../irq/simple-irq-chip.js';
import { KERNEL_V6_18, type KernelProfile } from '../profile.js';
import { testIommuGroup } from '../testing/test-group.js';
import { VFIO_DEVICE_FLAGS_AMBA } from '../uapi/flags.js';
import { VFIO_TYPE1v2_IOMMU } from '../uapi/ioctls.js';
import { UserProcess } from '../user/process.js';
import { Vfio } from '../vfio.js';
import { vfioMetaDriverData } from './meta-driver.js';
import { VFIO_AMBA_DEPRECATION, vfioAmbaDriver } from './vfio-amba.js';

function ambaHost(irqs: readonly number[], profile: KernelProfile = KERNEL_V6_18) {
  const core = new DriverCore();
  const ownership = core.iommuOwnership;
  if (ownership === undefined) throw new RangeError('no ownership book');
  const iommuGroup = testIommuGroup({ id: 3, devices: [{ name: '10000000.uart' }], ownership });
  const vfio = new Vfio({ allowUnsafeInterrupts: true, profile });
  const log: string[] = [];
  const driver = vfioAmbaDriver({
    vfio,
    resets: new ResetRegistry(),
    irqChip: new SimpleIrqChip({ 33: 'level-high', 34: 'edge-rising', 35: 'level-high' }),
    iommuGroupOf: () => iommuGroup,
    log: (line) => log.push(line),
  });
  core.amba.registerDriver(driver);
  const primecell = primecellIdRegisters(0x00341011);
  const device = core.amba.addDevice({
    name: '10000000.uart',
    bus: 'amba',
    compatible: ['arm,pl011', 'arm,primecell'],
    regions: [
      { start: physAddr(0x1000_0000), size: 0x1000 },
      { start: physAddr(0x1000_1000), size: 0x1000 },
    ],
    irqs,
    primecell,
    iommuGroup: 3,
    driverOverride: 'vfio-amba',
  });
  const process = new UserProcess({ vfio });
  const container = VfioContainerHandle.open(process);
  const group = VfioGroupHandle.open(process, 3);
  group.setContainer(container);
  container.setIommu(VFIO_TYPE1v2_IOMMU);
  return { core, device, group, log };
}

describe('vfio-amba (vfio_amba.c)', () => {
  it('binds without any reset (reset_required is always false), one region, IRQs up to the first zero', () => {
    const f = ambaHost([33, 34, 0, 35]);
    expect(f.device.driverName).toBe('vfio-amba');
    const handle = f.group.getDevice('10000000.uart');
    expect(handle.info()).toEqual({ flags: VFIO_DEVICE_FLAGS_AMBA, numRegions: 1, numIrqs: 2 });
    const cid = new Uint8Array(4);
    handle.read(handle.regionInfo(0), 0xff0, cid);
    expect(cid[0]).toBe(0x0d);
  });

  it('names the device vfio-amba-<periphid> and warns of the v6.18 deprecation once', () => {
    const f = ambaHost([33]);
    expect(vfioMetaDriverData(f.device)?.platformDevice.binder.name).toBe('vfio-amba-00341011');
    // The 6.18 patch "vfio/amba: Mark for removal": dev_err_once in vfio_amba_probe.
    expect(f.log).toEqual([
      'vfio-amba 10000000.uart: DEPRECATION: vfio-amba is deprecated and will be removed in a future kernel release',
    ]);
    expect(vfioMetaDriverData(f.device)?.deprecation).toBe(VFIO_AMBA_DEPRECATION);
  });

  it('before v6.18 there is no deprecation: no log line, deprecation null', () => {
    const f = ambaHost([33], { version: [6, 12] });
    expect(f.log).toEqual([]);
    expect(vfioMetaDriverData(f.device)?.deprecation).toBeNull();
  });
});
