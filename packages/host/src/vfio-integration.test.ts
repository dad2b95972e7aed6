import { bcmFlexrmResetModule, calxedaXgmacResetModule, pl330ResetModule } from '@vfiokit/reset-modules';
import { VfioContainerHandle, VfioGroupHandle } from '@vfiokit/vfio';
import { countingDeviceOps } from '@vfiokit/vfio/testing';
import { VFIO_NOIOMMU_IOMMU } from '@vfiokit/vfio/uapi';
import { describe, expect, it } from 'vitest';
import { createHost, type Host } from './host.js';
import { ORACLE_RESET_MODULES } from './options.js';
import { errnoOf, virtDtb } from './test-support.js';

const NOIOMMU = 'vfio.enable_unsafe_noiommu_mode=1 vfio_platform.reset_required=0';
const TAINT_LINE = 'vfio-amba 9010000.pl031: Adding kernel taint for vfio-noiommu group on device';

async function pl031ToVfio(host: Host): Promise<void> {
  await host.fs.run('echo vfio-amba > /sys/bus/amba/devices/9010000.pl031/driver_override');
  await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/rtc-pl031/unbind');
  await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/vfio-amba/bind');
}

// One home per kernel concept: the no-IOMMU group, its name, the taint and vfio's dev_warn
// lines are vfio's (drivers/vfio/group.c); the host only shows them.
describe('the host shows vfio no-IOMMU state, it does not keep its own', () => {
  it("logs vfio's dev_warn lines: the taint once per registration, and a no-IOMMU device opened by user", async () => {
    const host = createHost(virtDtb(), { cmdline: NOIOMMU });
    await pl031ToVfio(host);
    expect(host.log.filter((line) => line === TAINT_LINE)).toHaveLength(1);
    // group.c vfio_device_open_file → dev_warn "vfio-noiommu device opened by user (%s:%d)".
    const vmm = host.spawn({ comm: 'vmm' });
    const container = VfioContainerHandle.open(vmm);
    const group = VfioGroupHandle.open(vmm, 'noiommu-0');
    group.setContainer(container);
    container.setIommu(VFIO_NOIOMMU_IOMMU);
    const device = group.getDevice('9010000.pl031');
    expect(host.log).toContain(
      `vfio-amba 9010000.pl031: vfio-noiommu device opened by user (vmm:${vmm.pid})`,
    );
    device.close();
    group.close();
    container.close();
    // Rebinding registers again: vfio_group_find_or_alloc taints (and says so) every time.
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/vfio-amba/unbind');
    await host.fs.run('echo 9010000.pl031 > /sys/bus/amba/drivers/vfio-amba/bind');
    expect(host.log.filter((line) => line === TAINT_LINE)).toHaveLength(2);
  });

  it("names, links and taints from vfio's fake IOMMU groups, including ones vfio made outside the meta drivers", async () => {
    const host = createHost(virtDtb(), { cmdline: NOIOMMU });
    await pl031ToVfio(host);
    const [fake] = [...host.vfio.fakeIommuGroups.values()];
    expect(fake?.devices).toEqual(['9010000.pl031']);
    expect(host.fs.readlink('/sys/bus/amba/devices/9010000.pl031/iommu_group')).toMatch(
      new RegExp(`/kernel/iommu_groups/${fake?.id}$`),
    );
    expect(host.fs.cat(`/sys/kernel/iommu_groups/${fake?.id}/name`)).toBe('vfio-noiommu\n');
    expect(host.tainted).toBe(host.vfio.taint);
    // vfio_register_emulated_iommu_dev: vfio allocates a `vfio-noiommu` group for it too
    // (vfio_noiommu_group_alloc serves both), and the host answers for its name.
    host.vfio.registerEmulatedIommuDevice({ name: 'mdev0', ops: countingDeviceOps() });
    const emulated = [...host.vfio.fakeIommuGroups.values()].find((g) => g.devices.includes('mdev0'));
    expect(emulated).toBeDefined();
    expect(host.iommuGroupName(emulated?.id ?? -1)).toBe('vfio-noiommu');
  });
});

// drivers/vfio/platform/reset/Kconfig: each reset module is its own option; the oracle's
// kernel sets CALXEDAXGMAC and AMDXGBE, and BCMFLEXRM depends on ARCH_BCM_IPROC || COMPILE_TEST.
describe('the reset modules built in', () => {
  it("are the oracle kernel's by default: xgmac and xgbe, not bcmflexrm", () => {
    const host = createHost(virtDtb());
    expect(host.resetModules).toBe(ORACLE_RESET_MODULES);
    expect(
      host.resets
        .registrations()
        .map((r) => r.owner)
        .sort(),
    ).toEqual(['vfio-platform-amdxgbe', 'vfio-platform-calxedaxgmac']);
    expect(host.resets.lookup(bcmFlexrmResetModule.compatible)).toBeNull();
  });

  it('registers bcmflexrm (brcm,iproc-flexrm-mbox) for a kernel that builds it in', () => {
    const host = createHost(virtDtb(), { resetModules: [...ORACLE_RESET_MODULES, bcmFlexrmResetModule] });
    expect(host.resets.registrations().map((r) => [r.compatible, r.owner])).toContainEqual([
      'brcm,iproc-flexrm-mbox',
      'vfio-platform-bcmflexrm',
    ]);
    // No MODULE_VERSION and no parameters in vfio_platform_bcmflexrm.c: no /sys/module entry.
    expect(host.fs.ls('/sys/module')).not.toContain('vfio_platform_bcmflexrm');
  });

  it("lists a reset module's /sys/module directory only when it is built in", () => {
    const host = createHost(virtDtb(), { resetModules: [calxedaXgmacResetModule] });
    expect(host.fs.ls('/sys/module')).toContain('vfio_platform_calxedaxgmac');
    expect(host.fs.ls('/sys/module')).not.toContain('vfio_platform_amdxgbe');
    expect(errnoOf(() => host.fs.ls('/sys/module/vfio_platform_amdxgbe'))).toBe('ENOENT');
    expect(createHost(virtDtb()).fs.ls('/sys/module')).toContain('vfio_platform_amdxgbe');
  });

  it("has upstream modules only: vfiokit's PL330 module is ENOENT, a malformed list EINVAL", () => {
    expect(errnoOf(() => createHost(virtDtb(), { resetModules: [pl330ResetModule] }))).toBe('ENOENT');
    expect(errnoOf(() => createHost(virtDtb(), { resetModules: calxedaXgmacResetModule as never }))).toBe(
      'EINVAL',
    );
    expect(errnoOf(() => createHost(virtDtb(), { resetModules: [{ compatible: 'x' }] as never }))).toBe(
      'EINVAL',
    );
  });
});
